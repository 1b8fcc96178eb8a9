"""The room in a real Home Assistant Core: every entity's state and every action, both ways, through a real
mosquitto; no select action reaches emergency; the room's alerts arrive as events; nothing but the room's
setting, session phase and times, music, reminders, alerts and problems reaches Home Assistant; turning discovery
off removes the device's entities."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from room_controller.app import App
from room_controller.core.session import UNDO_WINDOW
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Capture
from tests.homeassistant.hass import HASS, HomeAssistant
from tests.optional import require
from tests.rooms import load
from tests.test_room_wire import ZIGBEE, wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
LABEL = "Client A-17"   # the session's label: it must never reach Home Assistant


@pytest.fixture
def room_and_hass(tmp_path, own_broker, room_id):
    require(HASS.exists(), "Home Assistant Core is not installed: `deploy/setup.sh --test --homeassistant` installs "
            "it into .venv-ha (it needs Python 3.13 or newer, found as python3.13 or with pyenv)")
    clock = ManualClock()
    config, catalogue = load(tmp_path, own_broker, room_id, ZIGBEE, **PLACES, homeassistant={
        "discovery": True, "room_light": True, "panel_url": "http://room-3.clinic.lan:8080/"})
    app = App(config, catalogue, clock=clock, web=False).start()
    wait_until(lambda: app.room.mqtt_connected)
    hass = HomeAssistant(tmp_path / "hass")
    try:
        hass.start(own_broker.host, own_broker.port)
        yield app, hass, clock, (tmp_path, own_broker, room_id)
    finally:
        hass.stop()
        app.stop()


def entity(hass: HomeAssistant, name: str) -> str:
    """An entity of the room's device by its name ("Test room Preset")."""
    found: list[str] = []

    def named() -> bool:
        found[:] = [s["entity_id"] for s in hass.states() if s["attributes"].get("friendly_name") == f"Test room {name}"]
        return bool(found)

    hass._wait(named, f"no entity named Test room {name}")
    return found[0]


def test_every_entity_both_ways_in_a_real_home_assistant(room_and_hass, caplog):
    app, hass, clock, (tmp_path, broker, room_id) = room_and_hass
    ids = {name: entity(hass, name) for name in (
        "Preset", "Calm", "Release preset", "Emergency light", "Pause session", "Resume session", "Next phase",
        "Previous phase", "Stop session", "Next track", "Undo phase move", "Phase", "Phase time left", "Session time",
        "Volume", "Music", "Reminder", "Problem", "Lights", "Alert")}

    def act(domain, service, name, **data):
        clock.advance(3)   # the room's pace and repeat gap for one command source run on its own clock
        r = hass.call(domain, service, entity_id=ids[name], **data)
        assert r.status_code == 200, r.text
        return r

    def shows(name, predicate, what=""):
        return hass.wait_state(ids[name], predicate, what)

    # the device and its entities as Home Assistant set them up
    preset = shows("Preset", lambda s: s["state"] == "No preset")
    assert preset["attributes"]["options"] == ["No preset", "calm", "check-in"]
    assert shows("Phase", lambda s: s["state"] == "No session")["attributes"]["options"] == ["No session"]
    assert shows("Session time", lambda s: s["state"] == "unknown")["attributes"] == {
        "device_class": "duration", "unit_of_measurement": "min", "icon": "mdi:clock-outline",
        "friendly_name": "Test room Session time"}   # no state_class: no statistics averaging a clock
    shows("Phase time left", lambda s: s["state"] == "unknown")
    assert shows("Problem", lambda s: s["state"] == "off")["attributes"]["problems"] == []

    def preset_act(*args, **data):
        clock.advance(8)   # 11 s apart: six preset changes a minute at most, or the command topic is held off
        return act(*args, **data)

    # the select both ways; cycling never reaches emergency, and asking for it is refused by Home Assistant
    preset_act("select", "select_option", "Preset", option="calm")
    wait_until(lambda: app.room.snapshot()["preset"] == "calm")
    shows("Preset", lambda s: s["state"] == "calm")
    seen = []
    for _ in range(6):
        preset_act("select", "select_next", "Preset", cycle=True)
        seen.append(shows("Preset", lambda s, last=seen[-1:] or ["calm"]: s["state"] != last[0])["state"])
    assert seen == ["check-in", "No preset", "calm", "check-in", "No preset", "calm"]
    preset_act("select", "select_option", "Preset", option="No preset")
    shows("Preset", lambda s: s["state"] == "No preset")
    preset_act("select", "select_previous", "Preset", cycle=True)   # from no preset: the last option, never emergency
    shows("Preset", lambda s: s["state"] == "check-in")
    assert app.room.snapshot()["preset"] == "check-in"
    refused = hass.call("select", "select_option", entity_id=ids["Preset"], option="emergency")
    assert refused.status_code >= 400   # a ServiceValidationError (select/__init__.py): 400 or 500 by version
    assert app.room.snapshot()["preset"] == "check-in"

    # the buttons: emergency only from its own button; calm and release
    preset_act("button", "press", "Emergency light")
    wait_until(lambda: app.room.snapshot()["preset"] == "emergency")
    assert shows("Preset", lambda s: s["state"] == "unknown")["attributes"]["active"] == "emergency"
    alert = shows("Alert", lambda s: s["attributes"].get("event_type") == "emergency_on", "the emergency's alert")
    raised = app.room.snapshot()["alerts"][-1]
    assert {k: v for k, v in alert["attributes"].items() if k not in ("event_types", "icon", "friendly_name")} == {
        "event_type": "emergency_on", "id": f"{room_id}-1", "urgent": True, "what": "Emergency light switched on",
        "phase": None, "session_s": None, "at": raised["at"], "detail": {}}
    preset_act("button", "press", "Calm")   # refused: the emergency light holds until it is released

    def refused() -> bool:
        with app.journal.reader() as reader:
            return reader._db.execute("SELECT COUNT(*) FROM events WHERE kind='preset_refused'").fetchone()[0] > 0  # noqa: SLF001

    wait_until(refused)
    assert app.room.snapshot()["preset"] == "emergency"
    preset_act("button", "press", "Release preset")
    shows("Preset", lambda s: s["state"] == "No preset")
    released = shows("Alert", lambda s: s["attributes"].get("event_type") == "emergency_off", "the release's alert")
    assert (released["attributes"]["id"], released["attributes"]["urgent"]) == (f"{room_id}-2", False)
    assert released["state"] > alert["state"]   # each alert is an event of its own: the entity's state is its time

    # a problem: the ceiling lamp goes offline, and back (the music may have its own: dummy audio output here)
    lamp = Capture(broker, "nothing/#")
    lamp.publish("zigbee2mqtt/Ceiling lamp/availability", '{"state":"offline"}', retain=True)
    problem = shows("Problem", lambda s: "Ceiling lamp is offline" in s["attributes"].get("problems", []))
    assert problem["state"] == "on"
    clock.advance(1)   # the room takes one light's reports at its pace, on its own clock
    lamp.publish("zigbee2mqtt/Ceiling lamp/availability", '{"state":"online"}', retain=True)
    shows("Problem", lambda s: "Ceiling lamp is offline" not in s["attributes"].get("problems", []))
    lamp.close()

    # a session: the phase's options become the running profile's, and each control works from Home Assistant
    app.loop.call(app.room.session.start, "ketamine-1h", LABEL)
    phase = shows("Phase", lambda s: s["state"] == "Arrival")
    assert phase["attributes"]["options"] == ["No session", "Arrival", "Onset", "Journey", "Re-entry", "Closing"]
    assert phase["attributes"]["profile"] == "Ketamine, about 1 hour"
    shows("Phase time left", lambda s: s["state"] == "10")
    shows("Session time", lambda s: s["state"] == "0")
    act("button", "press", "Pause session")
    shows("Phase", lambda s: s["attributes"].get("paused") is True)
    act("button", "press", "Resume session")
    shows("Phase", lambda s: s["attributes"].get("paused") is False)
    shows("Undo phase move", lambda s: s["state"] == "unavailable")   # nothing to undo
    act("button", "press", "Next phase")
    shows("Phase", lambda s: s["state"] == "Onset")
    shows("Undo phase move", lambda s: s["state"] != "unavailable")   # the room offers an undo
    act("button", "press", "Undo phase move")
    shows("Phase", lambda s: s["state"] == "Arrival")
    undone = app.room.snapshot()["session"]
    assert undone["phase"]["elapsed_s"] == undone["elapsed_s"]       # Arrival's clock as if it had never moved
    shows("Undo phase move", lambda s: s["state"] == "unavailable")
    act("button", "press", "Next phase")
    shows("Phase", lambda s: s["state"] == "Onset")
    act("button", "press", "Previous phase")
    shows("Phase", lambda s: s["state"] == "Arrival")
    shows("Undo phase move", lambda s: s["state"] != "unavailable")
    clock.advance(UNDO_WINDOW + 1)                                   # the offer ends: the button goes with it
    shows("Undo phase move", lambda s: s["state"] == "unavailable")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="room_controller.core.inbox"):
        act("button", "press", "Undo phase move")                    # Home Assistant presses no unavailable button:
        act("button", "press", "Pause session")                      # the next command on the topic is this one
        shows("Phase", lambda s: s["attributes"].get("paused") is True)
    assert [r.getMessage() for r in caplog.records if "undo" in r.getMessage()] == []
    with app.journal.reader() as reader:
        assert [row.data["undid"] for row in reader.events(app.room.session.session.id, ["phase_undone"])] == ["next"]
    act("button", "press", "Resume session")
    shows("Phase", lambda s: s["attributes"].get("paused") is False)

    # music: the volume it ramps to, on and off, the next track
    act("number", "set_value", "Volume", value=33)
    shows("Volume", lambda s: s["state"] == "33.0")
    assert app.room.snapshot()["audio"]["requested_volume"] == 33
    assert shows("Volume", lambda s: True)["attributes"]["max"] == 80
    act("switch", "turn_off", "Music")
    shows("Music", lambda s: s["state"] == "off")
    act("switch", "turn_on", "Music")
    shows("Music", lambda s: s["state"] == "on")
    act("button", "press", "Next track")

    def next_journaled() -> bool:
        with app.journal.reader() as reader:
            return any(row.data.get("next") for row in reader.events(app.room.session.session.id, ["music_changed"]))

    wait_until(next_journaled)

    # the room's light: a manual adjustment of every light, and back
    act("light", "turn_on", "Lights", brightness=128, color_temp_kelvin=2700)
    wait_until(lambda: app.room.snapshot()["lights"][0]["target"] == {
        "on": True, "brightness": 50.2, "mode": "white", "kelvin": 2700})
    light = shows("Lights", lambda s: s["state"] == "on" and s["attributes"].get("brightness") == 128)
    assert light["attributes"]["color_temp_kelvin"] == 2700
    act("light", "turn_off", "Lights")
    shows("Lights", lambda s: s["state"] == "off")

    # the reminder at 8 minutes becomes an event Home Assistant can notify staff with
    clock.advance(8 * 60)
    reminder = shows("Reminder", lambda s: s["state"] not in ("unknown", "unavailable"))
    assert {k: reminder["attributes"][k] for k in ("event_type", "text", "phase")} == {
        "event_type": "reminder", "text": "Dose when the client is ready", "phase": "Arrival"}
    shows("Session time", lambda s: s["state"] == "8")

    act("button", "press", "Stop session")
    shows("Phase", lambda s: s["state"] == "No session")
    shows("Session time", lambda s: s["state"] == "unknown")
    shows("Phase time left", lambda s: s["state"] == "unknown")

    # nothing but what the entities show reached Home Assistant: not the session's label, nor a phase's guidance
    everything = json.dumps(hass.states())
    assert LABEL not in everything and "guidance" not in everything

    # turning discovery off removes the device's entities from Home Assistant
    app.stop()
    config, catalogue = load(tmp_path, broker, room_id, ZIGBEE, **PLACES, homeassistant={"discovery": False})
    off = App(config, catalogue, web=False, audio=False).start()
    try:
        hass._wait(lambda: not any(s["entity_id"] in ids.values() for s in hass.states()), "entities stayed")
    finally:
        off.stop()
