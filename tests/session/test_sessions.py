"""Whole sessions on a test clock and a real broker: every phase, fade and reminder at its planned time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from room_controller.app import App
from room_controller.errors import Conflict, NotFound
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting.state import LightChange
from room_controller.session.profiles import load_profiles
from tests.broker import Capture
from tests.rooms import load
from tests.test_room_wire import described

ROOT = Path(__file__).resolve().parents[2]
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"}]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}


@pytest.fixture
def room(tmp_path, broker, room_id):
    apps = []

    def make(clock=None, web=False):
        config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
        app = App(config, catalogue, clock=clock, web=web, audio=False).start()
        apps.append(app)
        deadline = time.monotonic() + 5
        while not app.room.mqtt_connected and time.monotonic() < deadline:
            time.sleep(0.01)
        app.loop.settle()
        described(app, broker)   # a room in service: its bridge has said what the bulb is (a Hue bulb)
        return app

    yield make
    for app in apps:
        app.stop()


def journal(app, kind):
    with app.journal.reader() as reader:
        session_id = reader.sessions()[0]["id"]
        return [(r.session_s, r.data) for r in reader.events(session_id, [kind])]


def lamp(message) -> bool:
    return message.topic.endswith("/set")


def at_second(state, second: float) -> bool:
    return abs(json.loads(state.payload)["session"]["elapsed_s"] - second) < 0.05


def ack_all(app):
    for reminder in (app.room.snapshot()["session"] or {}).get("reminders", []):
        app.loop.call(app.room.session.acknowledge, reminder["id"])


@pytest.mark.slow
@pytest.mark.parametrize("wall_step", [0, 3600, -3600])
def test_an_eight_hour_session_keeps_time_on_a_test_clock(room, broker, wall_step):
    clock = ManualClock()
    app = room(clock)
    profile = app.room.session.profiles["psilocybin-8h"]
    state = f"{app.config.topic_prefix}/state"
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", state)
    app.loop.call(app.room.session.start, "psilocybin-8h", "test")
    starts, t = [], 0.0
    for phase in profile.phases:
        starts.append(t)
        t += phase.seconds or 0
    first = json.loads(cap.wait_for(lamp).payload)
    assert (first["brightness"], first["transition"]) == (114, 60)   # Arrival: 45 %, a one-minute fade
    def elapsed():
        return app.loop.call(lambda: app.room.session.session.elapsed(clock.monotonic()))

    for index, phase in enumerate(profile.phases[1:], start=1):
        while elapsed() < starts[index] - 60:
            clock.advance(60)
            ack_all(app)
            if wall_step and elapsed() == 3 * 3600:
                clock.step_wall(wall_step)   # NTP corrects the clock of a computer without an RTC
        clock.advance(starts[index] - 1 - elapsed())
        app.loop.call(app.room.touch)   # a state a second before the phase: no command came before it
        second_before = starts[index] - 1
        early = cap.before(lambda m, s=second_before: m.topic == state and at_second(m, s))
        assert not [m for m in early if lamp(m)]
        clock.advance(1)
        command = json.loads(cap.wait_for(lamp).payload)   # the phase's fade starts on the second
        assert command["transition"] == phase.lights.transition
        assert command["brightness"] == round(phase.lights.brightness / 100 * 254)
    entered = journal(app, "phase_entered")
    assert [s for s, _ in entered] == starts
    assert [d["name"] for _, d in entered] == [p.name for p in profile.phases]
    shown = journal(app, "reminder_shown")
    expected = sorted([(s + r.at, r.text) for s, p in zip(starts, profile.phases) for r in p.reminders] +
                      [(t, r.text) for r in profile.reminders for t in r.times(starts[-1])])
    assert [(s, d["text"]) for s, d in shown] == expected
    cap.close()


@pytest.mark.slow
def test_controls(room, broker):
    clock = ManualClock()
    app = room(clock)
    session = app.room.session
    with pytest.raises(Conflict, match="no session is running"):
        app.loop.call(session.pause)
    with pytest.raises(NotFound, match="no session profile 'nope'"):
        app.loop.call(session.start, "nope")
    app.loop.call(session.start, "ketamine-1h")
    with pytest.raises(Conflict, match="a session is running"):
        app.loop.call(session.start, "ketamine-1h")
    clock.advance(300)
    app.loop.call(session.pause)
    clock.advance(3600)                                 # paused: session time stands still
    assert app.room.snapshot()["session"]["elapsed_s"] == 300
    assert app.room.snapshot()["session"]["paused"] is True
    app.loop.call(session.resume)
    app.loop.call(session.extend, 600)                  # Arrival: 10 min + 10 min
    clock.advance(600)
    assert app.room.snapshot()["session"]["phase"]["name"] == "Arrival"
    assert app.room.snapshot()["session"]["phase"]["remaining_s"] == 300
    app.loop.call(session.next)
    assert app.room.snapshot()["session"]["phase"]["name"] == "Onset"
    app.loop.call(session.previous)
    snap = app.room.snapshot()["session"]["phase"]
    assert (snap["name"], snap["elapsed_s"], snap["remaining_s"]) == ("Arrival", 0, 1200)
    for _ in range(4):
        app.loop.call(session.next)
    assert app.room.snapshot()["session"]["phase"]["name"] == "Closing"
    with pytest.raises(Conflict, match="last phase"):
        app.loop.call(session.next)
    with pytest.raises(Conflict, match="open phase"):
        app.loop.call(session.extend, 300)
    app.loop.call(session.stop)
    assert app.room.snapshot()["session"] is None
    kinds = [k for k in ("session_started", "session_paused", "session_resumed", "phase_extended", "phase_moved",
                         "session_stopped")]
    with app.journal.reader() as reader:
        got = [r.kind for r in reader.events(reader.sessions()[0]["id"])]
    assert [k for k in got if k in kinds] == ["session_started", "session_paused", "session_resumed",
                                              "phase_extended"] + ["phase_moved"] * 6 + ["session_stopped"]


@pytest.mark.slow
def test_manual_adjustments_hold_across_phases_and_presets_hold_over_them(room, broker):
    clock = ManualClock()
    app = room(clock)
    state = f"{app.config.topic_prefix}/state"
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", state)

    app.loop.call(app.room.session.start, "ketamine-1h")
    cap.wait_for(lamp)
    clock.advance(60)
    app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=60), 0.0)
    assert json.loads(cap.wait_for(lamp).payload)["brightness"] == 152
    app.loop.call(app.room.presets.activate, "calm")
    cap.wait_for(lamp)
    clock.advance(600)                                   # Onset begins under the calm preset: it holds
    onset = cap.before(lambda m: m.topic == state and json.loads(m.payload)["session"]["phase"]["name"] == "Onset")
    assert not [m for m in onset if lamp(m)]
    app.loop.call(app.room.presets.release)               # back to the phase's scene with the adjustment over it
    released = json.loads(cap.wait_for(lamp).payload)
    assert released["brightness"] == 152 and released["color_temp"] == 455


def test_profiles_that_name_missing_lights_or_playlists_are_refused(tmp_path, broker, room_id):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "bad.yaml").write_text(
        "id: bad\nname: Bad\nphases:\n"
        "  - name: One\n    duration: 10m\n    lights: {per_light: {cieling: {brightness: 5}}}\n"
        "    music: {playlist: nowhere.m3u}\n"
        "  - name: Two\n    duration: -5m\n"
        "  - name: Three\n    duration: 5m\n    reminders: [{at: 10m, text: late}]\n")
    config, _ = load(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(profiles),
                     playlists_dir=str(ROOT / "playlists"))
    from room_controller.files.yamlfile import ConfigError
    with pytest.raises(ConfigError) as info:
        load_profiles(config)
    text = [str(p) for p in info.value.problems]   # all four mistakes, in the order of their lines
    assert text[0].startswith(f"{profiles / 'bad.yaml'}:6: phases[0].lights.per_light.cieling: the room has no")
    assert text[1].startswith(f"{profiles / 'bad.yaml'}:7: phases[0].music.playlist: ")
    assert text[2].startswith(f"{profiles / 'bad.yaml'}:9: phases[1].duration: ")
    assert text[3].startswith(f"{profiles / 'bad.yaml'}:10: phases[2]: reminder 'late' at 10m comes after")
    config2, _ = load(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(profiles),
                      playlists_dir=str(ROOT / "playlists"))
    (profiles / "bad.yaml").write_text(
        "id: bad\nname: Bad\nphases:\n"
        "  - name: One\n    duration: 10m\n    lights: {per_light: {cieling: {brightness: 5}}}\n"
        "    music: {playlist: nowhere.m3u}\n")
    with pytest.raises(ConfigError) as info:
        load_profiles(config2)
    text = [str(p) for p in info.value.problems]
    assert text[0] == (f"{profiles / 'bad.yaml'}:6: phases[0].lights.per_light.cieling: the room has no light "
                       "'cieling'; did you mean 'ceiling'?")
    assert text[1].startswith(f"{profiles / 'bad.yaml'}:7: phases[0].music.playlist: ")


@pytest.mark.slow
def test_session_controls_from_a_button_on_the_command_topic(room, broker, room_id):
    app = room()
    button = Capture(broker, "nothing/#")
    app.loop.call(app.room.session.start, "ketamine-1h")
    app.loop.settle()   # the snapshot is published after the batch that started the session
    topic = f"therapy-room/{room_id}/command"
    button.publish(topic, '{"session": "pause"}')
    deadline = time.monotonic() + 5
    while not app.room.snapshot()["session"]["paused"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for payload in ('{"session": "resume"}', '{"extend": "5m"}', '{"session": "next"}',
                    '{"session": "dance"}', '{"extend": "soon"}', '{"extend": true}'):
        button.publish(topic, payload)
    while app.room.snapshot()["session"]["phase"]["name"] != "Onset" or app.room.snapshot()["session"]["paused"]:
        assert time.monotonic() < deadline   # resume keeps its source's pace (a quarter second after pause)
        time.sleep(0.01)
    kinds = [d for _, d in journal(app, "phase_extended")]
    assert [k["by_s"] for k in kinds] == [300.0]
    button.close()
