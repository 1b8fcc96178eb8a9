"""Rooms that call for help, on a real broker: each alert's exact topic, payload, QoS and retain flag from every
input that can cause it, the retained list, acknowledgements, a broker that goes away, a restart, privacy."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import requests

from room_controller.app import App
from room_controller.core.alerts import parse_ack
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Broker, Capture
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WALL = 1_780_000_000.0   # the test clock's wall time at the start
REMOTE = "zigbee2mqtt/Bedside remote"
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp", "name": "Ceiling lamp"}]
BUTTONS = [{"topic": REMOTE, "match": {"action": "hold"}, "do": {"preset": "emergency"}},
           {"topic": REMOTE, "match": {"action": "single"}, "do": {"preset": "calm"}},
           {"topic": REMOTE, "match": {"action": "double"}, "do": {"preset": None}}]


def wait_until(predicate, what: str = "condition", timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Room:
    """A served room on the test clock with its alert topics captured."""

    def __init__(self, tmp_path, broker, room_id, clock=None, watcher: bool = False, lights=None, **sections) -> None:
        """`watcher`: the broker wants a login (user `watcher`) from the capture."""
        self.clock = clock or ManualClock()
        self.lights = lights or LIGHTS
        self.broker, self.room_id, self.tmp_path, self.sections = broker, room_id, tmp_path, sections
        self.prefix = f"therapy-room/{room_id}"
        login = {"username": "watcher", "password": "watcher-pw-0123"} if watcher else {}
        self.watch = Capture(broker, f"{self.prefix}/alert", f"{self.prefix}/alerts", f"{self.prefix}/alert/ack",
                             f"{self.prefix}/test-mark", **login)
        self.app = self.start()

    def start(self) -> App:
        sections = {"buttons": BUTTONS, "profiles_dir": str(ROOT / "deploy" / "profiles"),
                    "playlists_dir": str(ROOT / "playlists"), **self.sections}
        config, catalogue = load(self.tmp_path, self.broker, self.room_id, self.lights, **sections)
        app = App(config, catalogue, clock=self.clock, audio=False).start()
        wait_until(lambda: app.room.mqtt_connected, "the room to connect")
        app.loop.settle()
        self.base = f"http://127.0.0.1:{app.web.port}"
        return app

    def sent(self) -> list:
        """What the room sent on its alert topics up to now."""
        return self.watch.sent_until_now(self.app, f"{self.prefix}/test-mark")

    def alerts(self) -> list[dict]:
        return [json.loads(m.payload) for m in self.sent() if m.topic.endswith("/alert")]

    def close(self) -> None:
        self.app.stop()
        self.watch.close()


@pytest.fixture
def make(tmp_path, broker, room_id):
    rooms: list[Room] = []

    def make_room(**sections) -> Room:
        room = Room(tmp_path, broker, room_id, **sections)
        rooms.append(room)
        return room

    yield make_room
    for room in rooms:
        room.close()


def local(wall: float) -> str:
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="seconds")


def expected(room: Room, n: int, kind: str, what: str, detail: dict | None = None, urgent: bool = False,
             phase: str | None = None, session_s: float | None = None, at: float = WALL) -> dict:
    return {"id": f"{room.room_id}-{n}", "room": room.room_id, "room_name": "Test room", "kind": kind,
            "urgent": urgent, "phase": phase, "session_s": session_s, "at": local(at), "what": what,
            "detail": detail or {}}


def journaled(room: Room, kind: str) -> list[dict]:
    rows = room.app.journal.call(lambda db: db.execute("SELECT data FROM events WHERE kind=? ORDER BY id",
                                                       (kind,)).fetchall())
    return [json.loads(row[0]) for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("source", ["http", "command", "button"])
def test_emergency_on_from_every_source_is_one_urgent_alert(make, source):
    room = make()
    room.sent()   # the start: an empty retained list
    if source == "http":
        assert requests.post(f"{room.base}/api/presets/emergency", headers=AUTH).status_code == 200
    elif source == "command":
        room.watch.publish(f"{room.prefix}/command", '{"preset":"emergency"}')
    else:
        room.watch.publish(REMOTE, '{"action":"hold"}')
    wait_until(lambda: room.app.room.snapshot()["preset"] == "emergency", "the emergency light")
    got = [m for m in room.sent() if m.topic.endswith(("/alert", "/alerts"))]
    alert = expected(room, 1, "emergency_on", "Emergency light switched on", urgent=True)
    assert [(m.topic, json.loads(m.payload), m.qos, m.retain) for m in got] == [
        (f"{room.prefix}/alert", alert, 1, False),
        (f"{room.prefix}/alerts", [alert], 1, False),   # live delivery of the retained list
    ]
    assert journaled(room, "alert_raised") == [alert]
    late = Capture(room.broker, f"{room.prefix}/alerts")   # an overview that connects later catches up
    retained = late.next()
    assert (json.loads(retained.payload), retained.qos, retained.retain) == ([alert], 1, True)
    late.close()
    shown = room.app.room.snapshot()["alerts"]
    assert shown == [{"id": alert["id"], "kind": "emergency_on", "urgent": True, "what": "Emergency light switched on",
                      "at": alert["at"], "sent": True, "seen": None}]


PROFILE = """\
id: test-1h
name: "Test session"
vitals:
  every: 10m
  from: 5m
  until: 15m
  measure: [pulse]
vitals_limits:
  source: "Clinic protocol v4"
  systolic: {above: 160}
  pulse: {above: 110}
phases:
  - {name: Arrival, duration: 20m, lights: {brightness: 40, kelvin: 2700, transition: 30s}}
  - {name: Journey, duration: open, lights: {brightness: 10, kelvin: 2200}}
"""
LABEL, NOTE = "Client K. Berger", "She said her mother's name"   # neither may ever leave the room
PULSE_TOPIC = "chest-strap/sensor/heart_rate/state"


def session_room(make, tmp_path, **sections) -> Room:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "test-1h.yaml").write_text(PROFILE)
    room = make(profiles_dir=str(tmp_path / "profiles"), vitals={"pulse_topic": PULSE_TOPIC}, **sections)
    r = requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "test-1h", "label": LABEL})
    assert r.status_code == 201
    assert requests.post(f"{room.base}/api/notes", headers=AUTH, json={"text": NOTE}).status_code == 200
    room.sent()
    return room


def advance(room: Room, seconds: int) -> None:
    room.clock.advance(seconds)
    room.app.loop.settle()


def values(body) -> list:
    """Every value in a JSON body, however deep."""
    if isinstance(body, dict):
        return [v for value in body.values() for v in values(value)]
    if isinstance(body, list):
        return [v for value in body for v in values(value)]
    return [body]


def private_nowhere(room: Room, messages, readings: set[float]) -> None:
    """No label, note or reading's value in any alert or list the room sent."""
    for message in [m for m in messages if m.topic.endswith(("/alert", "/alerts"))]:
        assert LABEL not in message.payload and NOTE not in message.payload
        assert not readings & {v for v in values(json.loads(message.payload)) if isinstance(v, (int, float))
                               and not isinstance(v, bool)}, message.payload


@pytest.mark.slow
def test_a_reading_beyond_a_limit_names_the_measure_and_whose_limit_never_the_value(make, tmp_path):
    room = session_room(make, tmp_path)
    advance(room, 120)
    r = requests.post(f"{room.base}/api/vitals", headers=AUTH, json={"systolic": 183, "diastolic": 97, "pulse": 137})
    assert r.status_code == 201
    got = [m for m in room.sent() if m.topic.endswith("/alert")]
    common = {"urgent": True, "phase": "Arrival", "session_s": 120.0, "at": WALL + 120}
    assert [(json.loads(m.payload), m.qos, m.retain) for m in got] == [
        (expected(room, 1, "vitals_beyond_limit", "Systolic blood pressure above the limit of Clinic protocol v4",
                  {"measure": "systolic", "side": "above", "limit_source": "Clinic protocol v4", "example": False,
                   "live": False}, **common), 1, False),
        (expected(room, 2, "vitals_beyond_limit", "Pulse above the limit of Clinic protocol v4",
                  {"measure": "pulse", "side": "above", "limit_source": "Clinic protocol v4", "example": False,
                   "live": False}, **common), 1, False)]
    # the live pulse from its sensor: one alert per excursion beyond the limit
    room.watch.publish(PULSE_TOPIC, "141")
    wait_until(lambda: len(journaled(room, "alert_raised")) == 3, "the live pulse's alert")
    room.watch.publish(PULSE_TOPIC, "142")
    advance(room, 2)
    got = room.sent()
    alerts = [json.loads(m.payload) for m in got if m.topic.endswith("/alert")]
    assert alerts == [expected(room, 3, "vitals_beyond_limit", "Live pulse above the limit of Clinic protocol v4",
                               {"measure": "pulse", "side": "above", "limit_source": "Clinic protocol v4",
                                "example": False, "live": True}, urgent=True, phase="Arrival", session_s=120.0,
                               at=WALL + 120)]
    private_nowhere(room, got + room.watch.all, {183, 97, 137, 141, 142})
    assert len(journaled(room, "alert_raised")) == 3   # the second value of the same excursion is no news


@pytest.mark.slow
def test_a_missed_reading_and_a_light_offline_in_a_session(make, tmp_path):
    room = session_room(make, tmp_path)
    advance(room, 9 * 60)   # the reading due at 5 minutes: its window closes at 10
    assert room.alerts() == []
    advance(room, 61)
    assert room.alerts() == [expected(room, 1, "reading_missed", "Scheduled reading missed: pulse",
                                      {"due_s": 300.0, "name": "", "missing": ["pulse"]},
                                      phase="Arrival", session_s=600.0, at=WALL + 10 * 60)]
    lamp = Capture(room.broker, "nothing")
    lamp.publish("zigbee2mqtt/Ceiling lamp/availability", '{"state":"offline"}', retain=True)
    wait_until(lambda: len(journaled(room, "alert_raised")) == 2, "the light's alert")
    assert room.alerts() == [expected(room, 2, "problem", "Light offline: Ceiling lamp",
                                      {"problem": "light_offline", "light": "ceiling", "label": "Ceiling lamp"},
                                      phase="Arrival", session_s=601.0, at=WALL + 601)]
    lamp.publish("zigbee2mqtt/Ceiling lamp/availability", '{"state":"online"}', retain=True)
    advance(room, 1)   # past the light's report pace
    wait_until(lambda: "light:ceiling" not in room.app.room.snapshot()["problem_keys"], "the light back")
    assert room.alerts() == []   # back again: nothing to say
    lamp.publish("zigbee2mqtt/Ceiling lamp/availability", "", retain=True)
    lamp.close()


class TasmotaLamp:
    """A Tasmota lamp's own MQTT session, as its firmware holds it (xdrv_02_mqtt.ino, MqttReconnect): its last will
    `Offline` on `tele/<topic>/LWT`, retained, and `Online` there, retained, once connected. `drop()` loses the
    link as a Wi-Fi drop-out does, with no DISCONNECT, so the broker itself publishes the will."""

    def __init__(self, broker: Broker, topic: str) -> None:
        self.broker, self.lwt = broker, f"tele/{topic}/LWT"
        self.client: mqtt.Client | None = None

    def connect(self) -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="DVES_floorlamp")
        client.will_set(self.lwt, "Offline", qos=1, retain=True)
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        client.publish(self.lwt, "Online", qos=1, retain=True).wait_for_publish(5)
        self.client = client

    def drop(self) -> None:
        assert self.client is not None
        self.client.loop_stop()
        sock = self.client.socket()
        assert sock is not None
        sock.close()
        self.client = None


@pytest.mark.slow
def test_a_flapping_light_raises_one_offline_alert_in_ten_minutes(make, tmp_path):
    """The first drop-out is an alert at once; the lamp back and gone again within ten minutes is none (the
    panel still shows it); the first after that is one again."""
    lights = [*LIGHTS, {"id": "floor", "profile": "tasmota", "device": "floorlamp", "name": "Floor lamp"}]
    room = session_room(make, tmp_path, lights=lights)
    lamp = TasmotaLamp(room.broker, "floorlamp")

    def flap(seconds_later: int) -> None:
        lamp.connect()
        wait_until(lambda: "light:floor" not in room.app.room.snapshot()["problem_keys"], "the lamp online")
        advance(room, seconds_later)
        lamp.drop()
        wait_until(lambda: "light:floor" in room.app.room.snapshot()["problem_keys"], "the lamp offline")
        advance(room, 1)   # past the light's report pace

    offline = {"problem": "light_offline", "light": "floor", "label": "Floor lamp"}
    flap(60)
    assert [a for a in room.alerts() if a["kind"] == "problem"] == [
        expected(room, 1, "problem", "Light offline: Floor lamp", offline, phase="Arrival", session_s=60.0,
                 at=WALL + 60)]
    for _ in range(8):   # back and gone each minute: the floor was told
        flap(60)
    assert [a for a in room.alerts() if a["kind"] == "problem"] == []
    assert len(journaled(room, "device_offline")) == 9   # the journal has each one
    flap(660 - 9 * 61)   # ten minutes after the first alert (the reading due at 5 minutes was missed: alert 2)
    assert [a for a in room.alerts() if a["kind"] == "problem"] == [
        expected(room, 3, "problem", "Light offline: Floor lamp", offline, phase="Arrival", session_s=660.0,
                 at=WALL + 660)]
    lamp.connect()
    lamp.client.publish(lamp.lwt, "", retain=True).wait_for_publish(5)
    lamp.client.disconnect()


def test_a_light_offline_without_a_session_is_no_alert(make):
    room = make()
    room.sent()
    lamp = Capture(room.broker, "nothing")
    lamp.publish("zigbee2mqtt/Ceiling lamp/availability", '{"state":"offline"}')
    wait_until(lambda: "light:ceiling" in room.app.room.snapshot()["problem_keys"], "the light offline")
    assert room.alerts() == []
    lamp.close()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["http", "command", "button"])
def test_calm_pressed_is_an_alert_only_where_the_clinic_asks(make, tmp_path, source):
    room = make(alerts={"calm_pressed": True})
    room.sent()

    def press(preset: str | None) -> None:
        if source == "http":
            path = f"/api/presets/{preset}" if preset else "/api/presets/active"
            assert requests.request("POST" if preset else "DELETE", room.base + path, headers=AUTH).status_code == 200
        elif source == "command":
            room.watch.publish(f"{room.prefix}/command", json.dumps({"preset": preset}))
        else:
            room.watch.publish(REMOTE, json.dumps({"action": {"calm": "single", "emergency": "hold", None: "double"}
                                                   [preset]}))
        wait_until(lambda: room.app.room.snapshot()["preset"] == preset, f"the preset {preset}")
        advance(room, 1)   # past the source's pace

    press("calm")
    assert room.alerts() == [expected(room, 1, "calm_pressed", "Calm pressed")]
    press("emergency")
    press(None)
    assert [(a["kind"], a["urgent"], a["what"]) for a in room.alerts()] == [
        ("emergency_on", True, "Emergency light switched on"), ("emergency_off", False, "Emergency light released")]


def test_calm_is_no_alert_by_default(make):
    room = make()
    room.sent()
    assert requests.post(f"{room.base}/api/presets/calm", headers=AUTH).status_code == 200
    assert requests.delete(f"{room.base}/api/presets/active", headers=AUTH).status_code == 200
    assert room.alerts() == []


def test_an_acknowledgement_is_journaled_shown_and_takes_the_alert_off_the_list(make, caplog):
    room = make()
    room.sent()
    assert requests.post(f"{room.base}/api/presets/emergency", headers=AUTH).status_code == 200
    first = room.alerts()[0]
    advance(room, 60)
    assert requests.delete(f"{room.base}/api/presets/active", headers=AUTH).status_code == 200
    second = room.alerts()[0]
    ack = {"id": first["id"], "by": "the front desk", "at": "2026-05-28T14:02:00+02:00"}
    with caplog.at_level("WARNING", logger="room_controller.infrastructure.mqtt"):
        room.watch.publish(f"{room.prefix}/alert/ack", json.dumps({**ack, "id": "room-x-9"}), qos=1)   # unknown
        room.watch.publish(f"{room.prefix}/alert/ack", json.dumps(ack), qos=1)
        wait_until(lambda: journaled(room, "alert_seen"), "the acknowledgement")
    assert caplog.messages == [f"MQTT: ignored a bad message on {room.prefix}/alert/ack: "
                               "no alert 'room-x-9' waits for an acknowledgement"]
    assert journaled(room, "alert_seen") == [{"id": first["id"], "kind": "emergency_on", "by": "the front desk",
                                              "at": "2026-05-28T14:02:00+02:00"}]
    lists = [m for m in room.sent() if m.topic.endswith("/alerts")]
    assert [(json.loads(m.payload), m.qos) for m in lists] == [([second], 1)]
    assert [(a["id"], a["sent"], a["seen"]) for a in room.app.room.snapshot()["alerts"]] == [
        (first["id"], True, {"by": "the front desk", "at": "2026-05-28T14:02:00+02:00"}), (second["id"], True, None)]


@pytest.mark.slow
def test_alerts_wait_for_the_broker_and_go_out_in_order(tmp_path, room_id):
    passwd = tmp_path / "passwd"

    def users(*names: str) -> None:
        passwd.unlink(missing_ok=True)
        for i, name in enumerate(names):
            subprocess.run(["mosquitto_passwd", *([] if i else ["-c"]), "-b", str(passwd), name, f"{name}-pw-0123"],
                           check=True)

    users(room_id, "watcher")
    broker = Broker(f"allow_anonymous false\npassword_file {passwd}\n").start()
    room = Room(tmp_path, broker, room_id, mqtt={"host": broker.host, "port": broker.port, "username": room_id,
                                                 "password": f"{room_id}-pw-0123"}, watcher=True)
    try:
        broker.stop()
        wait_until(lambda: not room.app.room.mqtt_connected, "the room to notice")
        assert requests.post(f"{room.base}/api/presets/emergency", headers=AUTH).status_code == 200
        advance(room, 30)
        assert requests.delete(f"{room.base}/api/presets/active", headers=AUTH).status_code == 200
        assert [a["sent"] for a in room.app.room.snapshot()["alerts"]] == [False, False]
        users("watcher")   # the broker is back, the room not yet let in: the watcher is there before it
        broker.start()
        watch = Capture(broker, f"{room.prefix}/alert", f"{room.prefix}/alerts", username="watcher",
                        password="watcher-pw-0123")
        users(room_id, "watcher")
        broker.proc.send_signal(signal.SIGHUP)   # mosquitto reads its password file again
        got = watch.take(3, timeout=10)
        on, off = (expected(room, 1, "emergency_on", "Emergency light switched on", urgent=True),
                   expected(room, 2, "emergency_off", "Emergency light released", at=WALL + 30))
        assert [(m.topic, json.loads(m.payload), m.qos, m.retain) for m in got] == [
            (f"{room.prefix}/alert", on, 1, False), (f"{room.prefix}/alert", off, 1, False),
            (f"{room.prefix}/alerts", [on, off], 1, False)]
        wait_until(lambda: [a["sent"] for a in room.app.room.snapshot()["alerts"]] == [True, True], "sent")
        watch.close()
    finally:
        room.close()
        broker.close()


@pytest.mark.slow
def test_a_restart_keeps_the_numbering_the_list_and_says_the_session_time_is_in_doubt(make, tmp_path):
    room = session_room(make, tmp_path)
    advance(room, 300)
    assert requests.post(f"{room.base}/api/presets/emergency", headers=AUTH).status_code == 200
    first = room.alerts()
    assert [a["id"] for a in first] == [f"{room.room_id}-1"], first
    room.app.stop()
    room.clock = ManualClock(wall_start=WALL + 3600, boot="boot-2", synchronised=False)   # a reboot, no network time
    room.app = room.start()
    assert "session_clock" in room.app.room.snapshot()["problem_keys"]
    doubt = expected(room, 2, "problem", "The session time is in doubt after a restart (clock not synchronised)",
                     {"problem": "session_clock"}, phase="Arrival", session_s=300.0, at=WALL + 3600)
    got = room.sent()
    alerts = [json.loads(m.payload) for m in got if m.topic.endswith("/alert")]
    lists = [json.loads(m.payload) for m in got if m.topic.endswith("/alerts")]
    assert alerts == [doubt]
    assert lists[-1] == first + [doubt]   # what was not acknowledged before the restart is still listed
    assert [a["id"] for a in room.app.room.snapshot()["alerts"]] == [f"{room.room_id}-1", f"{room.room_id}-2"]


@pytest.mark.parametrize("payload,reason", [
    (b"seen", "not JSON"), (b"\xff", "not UTF-8"), (b"[]", "an acknowledgement is"),
    (b'{"id": "r-1", "by": "", "at": "2026-05-28T14:02:00+02:00"}', "'by' must be a non-empty string"),
    (b'{"id": "r-1", "by": "desk"}', "'at' must be a non-empty string"),
    (b'{"id": "r-1", "by": "desk", "at": "at two"}', "'at' is not an ISO 8601 time"),
    (json.dumps({"id": "r-1", "by": "x" * 81, "at": "2026-05-28T14:02:00"}).encode(), "too long"),
])
def test_a_bad_acknowledgement_says_what_is_wrong_in_a_few_words(payload, reason):
    with pytest.raises(ValueError, match=reason):
        parse_ack(payload)
    assert parse_ack(b'{"id": "r-1", "by": " front\\u0007 desk ", "at": "2026-05-28T14:02:00+02:00", "x": 1}') == {
        "id": "r-1", "by": "front desk", "at": "2026-05-28T14:02:00+02:00"}
