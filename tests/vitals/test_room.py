"""Vitals in a served room on a test clock and a real broker: readings over the API, limits as notices,
the profile's schedule, the live pulse from another MQTT client, the report, export and delete — and none
of it on the MQTT state topic, in Home Assistant's topics or in the service's log."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Capture
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PULSE_TOPIC = "chest-strap/sensor/heart_rate/state"
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"}]
ROOM_LIMITS = {"source": "Clinic vitals protocol v2", "instruction": "Call the room's physician", "pulse": {"above": 130}, "temperature": {"above": 38.5}}


@pytest.fixture
def room(tmp_path, broker, room_id):
    clock = ManualClock()
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(ROOT / "deploy" / "profiles"),
                             playlists_dir=str(ROOT / "playlists"), homeassistant={"discovery": True},
                             web={"host": "127.0.0.1", "port": 0, "api_token": TOKEN, "pin": "2468",
                                  "admin_pin": "135790"},
                             vitals={"pulse_topic": PULSE_TOPIC, "pulse_path": "", "limits": ROOM_LIMITS})
    app = App(config, catalogue, clock=clock, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    yield app, clock, f"http://127.0.0.1:{app.web.port}"
    app.stop()


def settle_to(app, clock, seconds: float) -> None:
    """Advance the test clock a second at a time (the session ticks each second) to `seconds` later."""
    for _ in range(int(seconds)):
        clock.advance(1)
    app.loop.settle()


def vitals(app) -> dict:
    app.loop.call(app.room.touch)
    app.loop.settle()
    return app.room.snapshot()["vitals"]


def wait(condition, what: str):
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.mark.slow
def test_readings_limits_schedule_correction_and_report(room, broker, room_id):
    app, clock, base = room
    # this room's topics only: the suite's other rooms leave retained states on the shared broker
    watch = Capture(broker, f"therapy-room/{room_id}/#", f"homeassistant/+/therapy-room_{room_id}/#")
    session = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "mdma-8h"}).json()["session"]
    app.loop.settle()
    assert [s["state"] for s in vitals(app)["schedule"]][:1] == ["due"]   # the baseline at arrival
    assert requests.post(f"{base}/api/vitals", json={"pulse": 80}).status_code == 401   # health data: auth only
    r = requests.post(f"{base}/api/vitals", headers=AUTH, json={"systolic": 128, "diastolic": 82, "pulse": 76,
                                                                "temperature": 36.8})
    assert r.status_code == 201 and r.json()["crossed"] == []
    first = r.json()["reading"]
    assert vitals(app)["schedule"][0]["state"] == "done"

    settle_to(app, clock, 15 * 60)   # the moment before the initial dose comes due
    due = [s for s in vitals(app)["schedule"] if s["state"] == "due"]
    assert [s["name"] for s in due] == ["Before the initial dose"]
    r = requests.post(f"{base}/api/vitals", headers=AUTH, json={"systolic": 173, "diastolic": 96, "pulse": 118,
                                                                "ago": "1m"})
    crossed = {(c["value_name"], c["limit"]) for c in r.json()["crossed"]}
    assert crossed == {("systolic", 160), ("pulse", 110)}   # the profile's limits, over the room's 130
    high = r.json()["reading"]
    notices = vitals(app)["notices"]
    assert [n["id"] for n in notices] == [high]
    assert notices[0]["instructions"] == ["Tell the physician now, and follow the protocol's steps for raised vital signs."]
    assert app.room.snapshot()["session"]["phase"]["name"] == "Arrival"   # the room changed nothing by itself
    assert [p.payload for p in watch.all if p.topic.endswith("/set")] == []
    assert requests.post(f"{base}/api/vitals/notices/{high}/seen", headers=AUTH).status_code == 200
    assert vitals(app)["notices"] == []
    assert requests.post(f"{base}/api/vitals/notices/{high}/seen", headers=AUTH).status_code == 404

    for bad in ({"systolic": 120}, {"pulse": 720}, {"ago": "1h"}, {"pulse": 80, "bpm": 80}, {}):
        r = requests.post(f"{base}/api/vitals", headers=AUTH, json=bad)
        assert r.status_code == 422, bad   # a clear error, and nothing journaled
    r = requests.patch(f"{base}/api/vitals/{first}", headers=AUTH, json={"systolic": 138, "diastolic": 82, "pulse": 76,
                                                                          "temperature": 36.8})
    assert r.status_code == 200
    assert requests.patch(f"{base}/api/vitals/999999", headers=AUTH, json={"pulse": 70}).status_code == 404
    record = requests.get(f"{base}/api/sessions/{session}/vitals", headers=AUTH).json()
    assert [(x["event"], x.get("systolic"), x.get("original", {}).get("systolic")) for x in record["readings"]] == \
        [(first, 138, 128), (high, 173, None)]
    assert record["readings"][1]["at_s"] == 14 * 60   # taken a minute before it was entered

    requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
    report = requests.get(f"{base}/api/sessions/{session}/report", headers=AUTH).json()
    assert [x["event"] for x in report["vitals"]] == [first, high]
    page = requests.get(f"{base}/api/sessions/{session}/report?format=html", headers=AUTH).text
    assert page.count('<g data-kind="vitals"') == 2 and "BP 173/96, pulse 118 — beyond an example limit (not set by this clinic)" in page
    assert "first entered: systolic 128" in page
    csv_export = requests.get(f"{base}/api/admin/sessions/{session}/vitals?format=csv", headers=AUTH).text
    assert "173" in csv_export and csv_export.splitlines()[0].startswith("time,session_time,kind,systolic (mmHg)")
    app.loop.settle()
    words = ("systolic", "diastolic", "vitals", "pulse", "temperature", "notice", "173/96")
    alerts = [m for m in watch.all if m.topic.endswith(("/alert", "/alerts"))]   # which measure, whose limit
    watch.all = [m for m in watch.all if not m.topic.endswith("/alert/config")]   # names vitals_beyond_limit
    leaked = [m for m in watch.all if m not in alerts and any(word in m.payload.lower() for word in words)]
    assert leaked == [] and watch.all   # the state topic and Home Assistant's were busy, and never said a vital
    assert alerts and not [m for m in alerts if re.search(r"\b(173|96|118)\b", m.payload)]   # never a value


class Strap:
    """A pulse sensor's gateway: a separate MQTT client publishing on the sensor's topic."""

    def __init__(self, broker) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"strap-{time.monotonic_ns()}")
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, *payloads: bytes) -> None:
        for payload in payloads:
            self.client.publish(PULSE_TOPIC, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.mark.slow
def test_the_live_pulse_is_paced_stored_bounded_marked_stale_and_bad_payloads_ignored(room, broker, caplog):
    app, clock, base = room
    requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).raise_for_status()
    caplog.set_level(logging.INFO)
    strap = Strap(broker)
    strap.send(b"nan", b"{\"hr\": 70}", b"720", b"\xff", b"71.0")
    wait(lambda: vitals(app)["pulse"]["bpm"] == 71.0, "the first good pulse")
    bad = [r.getMessage() for r in caplog.records if "ignored a bad payload on " + PULSE_TOPIC in r.getMessage()]
    assert len(bad) == 1 and "no value" in bad[0]   # the first is logged, the rest counted; none became a value

    for second in range(150):   # a chest strap: a value a second for two and a half minutes
        bpm = 72 + second % 5 + (70 if second == 40 else 0)   # one beat of 142, over the room's 130
        clock.advance(1)   # the intake lets one value a second through to the core
        strap.send(f"{bpm}.0".encode())
        wait(lambda bpm=bpm: vitals(app)["pulse"]["bpm"] == bpm, f"pulse {bpm}")
    state = vitals(app)["pulse"]
    assert state["stale"] is False and 10 <= len(state["trend"]) <= 16   # a point per 10 s
    with app.journal.reader() as reader:
        session = reader.sessions()[0]["id"]
        rows = reader.events(session, ["pulse", "pulse_limit"])
    stored = [r for r in rows if r.kind == "pulse"]
    assert 2 <= len(stored) <= 3                                 # at most one row a minute, not 150
    assert max(r.data["max"] for r in stored) == 142             # nothing extreme lost between rows
    assert [r.data["bpm"] for r in rows if r.kind == "pulse_limit"] == [142]   # one notice per excursion

    strap.close()
    settle_to(app, clock, 31)   # the strap goes quiet
    state = vitals(app)["pulse"]
    assert state["stale"] is True and state["heard_s_ago"] >= 30
    with app.journal.reader() as reader:
        assert [r.kind for r in reader.events(session, ["pulse_stale"])] == ["pulse_stale"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "142" not in logged and '"bpm"' not in logged      # values stay in the journal, out of the log


@pytest.mark.slow
def test_the_clinic_tools_export_and_delete_a_sessions_vitals(room):
    app, clock, base = room
    session = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "mdma-8h"}).json()["session"]
    requests.post(f"{base}/api/notes", headers=AUTH, json={"text": "resting"}).raise_for_status()
    requests.post(f"{base}/api/vitals", headers=AUTH, json={"systolic": 187, "diastolic": 99}).raise_for_status()
    requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
    panel = requests.Session()
    login = panel.post(f"{base}/api/login", json={"pin": "2468"})
    assert login.status_code == 200
    csrf = {"X-CSRF-Token": login.json()["csrf"]}
    assert panel.get(f"{base}/api/sessions/{session}/vitals").json()["readings"][0]["systolic"] == 187
    assert panel.delete(f"{base}/api/admin/sessions/{session}/vitals", headers=csrf).status_code == 401   # not the therapist's
    exported = requests.get(f"{base}/api/admin/sessions/{session}/vitals", headers=AUTH).json()
    assert exported["readings"][0]["systolic"] == 187
    r = requests.delete(f"{base}/api/admin/sessions/{session}/vitals", headers=AUTH)
    assert r.status_code == 200 and r.json()["deleted_rows"] == 1
    after = requests.get(f"{base}/api/sessions/{session}/vitals", headers=AUTH).json()
    assert after["readings"] == [] and len(after["deleted"]) == 1
    report = requests.get(f"{base}/api/sessions/{session}/report", headers=AUTH).json()
    assert [n["text"] for n in report["notes"]] == ["resting"]   # the rest of the record stays
    assert "vitals_deleted" in [e["kind"] for e in report["events"]]
    files = b"".join(p.read_bytes() for p in Path(app.config.data_dir).glob("journal.db*"))
    assert b'"systolic": 187' not in files   # gone from the database's files, not only from its answers
    assert requests.delete(f"{base}/api/admin/sessions/99999/vitals", headers=AUTH).status_code == 404


@pytest.mark.slow
def test_a_reading_needs_a_running_session(room):
    app, clock, base = room
    r = requests.post(f"{base}/api/vitals", headers=AUTH, json={"pulse": 80})
    assert r.status_code == 409 and "no session" in r.json()["error"]["message"]
