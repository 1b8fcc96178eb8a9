"""The room when its surroundings fail: the broker restarted in the middle of a fade, the journal's disk
full, the wall clock stepped an hour across a restart. Each asserts that nothing acknowledged was lost and
that the room ends as it should. (SIGKILL at random moments: tests/test_recovery.py; the broker gone
before start: tests/test_room_wire.py; a corrupt journal: tests/session/test_session_api.py; the music's
faults: tests/audio/test_faults.py.)"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting.state import LightChange
from tests.broker import MARK, Capture
from tests.rooms import load
from tests.test_room_wire import described

AUTH = {"Authorization": "Bearer test-token-0123456789"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"},
          {"id": "odd", "profile": "template-per-topic", "device": "odd"}]


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def start(config, catalogue, clock=None, web=False) -> App:
    app = App(config, catalogue, clock=clock, audio=False, web=web).start()
    wait_until(lambda: app.room.mqtt_connected)
    app.loop.settle()
    return app


@pytest.mark.slow
def test_a_broker_restart_mid_fade_resumes_the_fade_where_it_should_be(tmp_path, own_broker, room_id, caplog):
    clock = ManualClock()
    app = start(*load(tmp_path, own_broker, room_id, LIGHTS), clock=clock)
    try:
        described(app, own_broker)   # a room in service: its Zigbee2MQTT has said what the bulb is
        cap = Capture(own_broker, "zigbee2mqtt/Ceiling lamp/set", "odd/brightness/set", MARK)
        app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=80, kelvin=4000), 0.0)
        clock.advance(2)
        cap.sent_until_now(app)
        app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=20, kelvin=2700), 600.0)   # 10 min
        clock.advance(120)
        own_broker.stop()
        wait_until(lambda: not app.room.mqtt_connected)
        clock.advance(60)   # a minute of the fade while the broker is away: its steps go nowhere
        caplog.clear()
        time.sleep(3)       # a few reconnect attempts in real time: none of them is an error line of its own
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        cap.close()
        own_broker.start()
        cap = Capture(own_broker, "zigbee2mqtt/Ceiling lamp/set", "odd/brightness/set")
        wait_until(lambda: app.room.mqtt_connected)
        app.loop.settle()
        resumed: dict[str, list[int | dict]] = {"zigbee2mqtt": [], "odd": []}
        while not all(resumed.values()):   # each light's first command after the reconnect, in whatever order
            m = cap.next()
            resumed[m.topic.split("/")[0]].append(json.loads(m.payload))
        # the rest of the fade, from where the light should be now, in the 7 minutes left: no stale burst
        assert resumed["zigbee2mqtt"] == [{"state": "ON", "brightness": 51, "color_temp": 370, "transition": 420}]
        now = round(255 * (80 - 60 * 180 / 600) / 100)
        assert len(resumed["odd"]) == 1 and abs(resumed["odd"][0] - now) <= 2   # the stepped fade resumes at once
        clock.advance(1)
        step = int(cap.wait_for(lambda m: m.topic.startswith("odd")).payload)
        assert abs(step - now) <= 2   # ... and goes on from there, a second later
        clock.advance(420)
        cap.wait_for(lambda m: m.topic.startswith("odd") and m.payload == str(round(255 * 0.2)))   # where asked
        app.loop.settle()
        state = {light["id"]: light for light in app.room.snapshot()["lights"]}
        assert [state[i]["fading"] for i in ("ceiling", "odd")] == [False, False]
        assert state["odd"]["state"] == {"on": True, "brightness": 20.0, "kelvin": 2700, "mode": "white"}
        cap.close()
    finally:
        app.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs for the journal (mount needs root; a room computer's disk fills up the same way)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


@pytest.mark.slow
def test_a_full_journal_disk_never_stops_calm_and_never_acknowledges_a_lost_note(tmp_path, broker, room_id,
                                                                                small_disk):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    phases = [{"name": "One", "duration": "1m", "lights": {"brightness": 30, "transition": "1s"}},
              {"name": "Two", "duration": "open", "lights": {"brightness": 50, "transition": "1s"}}]
    (profiles / "short.yaml").write_text(yaml.safe_dump({"id": "short", "name": "Short", "phases": phases}))
    clock = ManualClock()
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS[:1], data_dir=str(small_disk),
                             profiles_dir=str(profiles))
    app = start(config, catalogue, clock=clock, web=True)
    described(app, broker)   # a room in service: its Zigbee2MQTT has said what the bulb is
    base = f"http://127.0.0.1:{app.web.port}"
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set")
    try:
        assert requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "short"}).status_code == 201
        assert requests.post(f"{base}/api/notes", headers=AUTH, json={"text": "kept"}).status_code == 200
        filler = fill(small_disk)
        kept, refused = [], []
        for i in range(40):   # until SQLite's own free pages are used up too
            text = f"note {i} " + "x" * 500
            r = requests.post(f"{base}/api/notes", headers=AUTH, json={"text": text})
            assert r.status_code in (200, 503), r.text
            (kept if r.status_code == 200 else refused).append(text)
        assert refused and r.json()["error"]["code"] == "journal"
        r = requests.post(f"{base}/api/presets/calm", headers=AUTH)
        assert (r.status_code, r.json()) == (200, {"preset": "calm"})
        assert json.loads(cap.wait_for(lambda m: '"color_temp":455' in m.payload).payload)["brightness"] == 38
        state = requests.get(f"{base}/api/state", headers=AUTH).json()
        assert any(p.startswith("the journal cannot be written") for p in state["problems"])
        clock.advance(61)   # the session keeps time: its next phase comes although nothing can be journaled
        assert app.room.snapshot()["session"]["phase"]["name"] == "Two"
        r = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "short"})
        assert r.status_code == 409
        filler.unlink()   # space again
        assert requests.post(f"{base}/api/notes", headers=AUTH, json={"text": "after"}).status_code == 200
        clock.advance(3)
        assert not [p for p in app.room.snapshot()["problems"] if "journal" in p]
        session_id = app.room.snapshot()["session"]["id"]
        report = requests.get(f"{base}/api/sessions/{session_id}/report", headers=AUTH).json()
        assert [n["text"] for n in report["notes"]] == ["kept", *kept, "after"]   # every acknowledged note
    finally:
        cap.close()
        app.stop()


@pytest.mark.slow
@pytest.mark.parametrize("step", [3600.0, -3600.0])
def test_the_wall_clock_stepped_an_hour_across_a_restart_moves_no_phase(tmp_path, broker, room_id, step):
    """NTP corrects the clock of a computer with no RTC while the service restarts: session time comes from
    the monotonic clock of the same boot, so the phase, the reminders and the notes stay where they were."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    phases = [{"name": "One", "duration": "10m", "lights": {"brightness": 30, "transition": "1s"}},
              {"name": "Two", "duration": "10m", "lights": {"brightness": 50, "transition": "1s"},
               "reminders": [{"at": "5m", "text": "check in"}]},
              {"name": "Three", "duration": "open", "lights": {"brightness": 70, "transition": "1s"}}]
    (profiles / "steps.yaml").write_text(yaml.safe_dump({"id": "steps", "name": "Steps", "phases": phases}))
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS[:1], profiles_dir=str(profiles))
    clock = ManualClock()
    app = start(config, catalogue, clock=clock)
    app.loop.call(app.room.session.start, "steps", "")
    clock.advance(12 * 60)
    app.loop.call(app.room.add_note, "before the restart")
    clock.advance(30)
    app.stop()
    # the same boot, 20 s later; the wall clock has been stepped
    later = ManualClock(start=clock.monotonic() + 20, wall_start=clock.wall() + 20 + step)
    app = start(config, catalogue, clock=later)
    try:
        session = app.room.snapshot()["session"]
        assert (session["phase"]["name"], session["elapsed_s"]) == ("Two", 12 * 60 + 50)
        app.loop.call(app.room.add_note, "after the restart")
        later.advance(3 * 60)
        assert [r["text"] for r in app.room.snapshot()["session"]["reminders"]] == ["check in"]
        later.advance(5 * 60)
        assert app.room.snapshot()["session"]["phase"]["name"] == "Three"
        with app.journal.reader() as reader:
            rows = reader.events(session["id"])
        entered = [(r.data["name"], r.session_s) for r in rows if r.kind == "phase_entered"]
        assert [name for name, _ in entered] == ["One", "Two", "Two", "Three"]   # Two again: its recovery
        assert [s for _, s in entered if s is not None][-1] == 20 * 60
        assert [r.data["text"] for r in rows if r.kind == "note"] == ["before the restart", "after the restart"]
        assert [r.data["gap_s"] for r in rows if r.kind == "session_recovered"] == [20.0]
    finally:
        app.stop()
