"""Home Assistant MQTT discovery on a real broker: the exact retained config payloads (keys as Home Assistant's
MQTT integration reads them, docs/homeassistant.md), re-sent when Home Assistant comes online, removed cleanly
after a change of room id and when discovery is turned off; then each entity both ways: its templates read
the room's real retained state, and what Home Assistant would publish for each action makes the room act.
tests/homeassistant/test_real_home_assistant.py runs the same through a real Home Assistant."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from room_controller import __version__
from room_controller.app import App
from room_controller.core.session import UNDO_WINDOW
from room_controller.infrastructure.clock import ManualClock
from tests.broker import MARK, Capture
from tests.homeassistant import templates
from tests.rooms import load
from tests.test_room_wire import ZIGBEE, wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
NOT_STATE = '"None"'   # Home Assistant reads the payload None as "unknown"


def expected(room_id: str, phases: tuple[str, ...] = ()) -> dict[str, dict]:
    node = f"therapy-room_{room_id}"
    prefix = f"therapy-room/{room_id}"
    command, state = f"{prefix}/command", f"{prefix}/state"
    online = {"availability_topic": f"{prefix}/status", "payload_available": "online",
              "payload_not_available": "offline"}
    own = {   # every entity's but the undo button's availability
        "device": {"identifiers": [node], "name": "Test room", "manufacturer": "room-controller",
                   "model": "Therapy room controller", "sw_version": __version__, "suggested_area": "Test room"},
        "origin": {"name": "room-controller", "sw_version": __version__},
    }
    common = {**online, **own}

    def button(obj, name, icon, press):
        return {f"homeassistant/button/{node}/{obj}/config": {
            "name": name, "icon": icon, "command_topic": command, "payload_press": press,
            "unique_id": f"{node}_{obj}", **common}}

    return {
        f"homeassistant/select/{node}/preset/config": {
            "name": "Preset", "icon": "mdi:lightbulb-group", "command_topic": command,
            "command_template": '{"preset": {{ (none if value == "No preset" else value) | tojson }}}',
            "options": ["No preset", "calm", "check-in"], "state_topic": state,
            "value_template": '{% set p = value_json.preset %}{{ "No preset" if p is none else p '
                              'if p in ["calm","check-in"] else "None" }}',
            "json_attributes_topic": state, "json_attributes_template": '{{ {"active": value_json.preset} | tojson }}',
            "unique_id": f"{node}_preset", **common},
        **button("calm", "Calm", "mdi:weather-night", '{"preset":"calm"}'),
        **button("release", "Release preset", "mdi:undo", '{"preset":null}'),
        **button("emergency", "Emergency light", "mdi:alarm-light", '{"preset":"emergency"}'),
        **button("pause", "Pause session", "mdi:pause", '{"session":"pause"}'),
        **button("resume", "Resume session", "mdi:play", '{"session":"resume"}'),
        **button("next_phase", "Next phase", "mdi:skip-next", '{"session":"next"}'),
        **button("previous_phase", "Previous phase", "mdi:skip-previous", '{"session":"previous"}'),
        **button("stop", "Stop session", "mdi:stop", '{"session":"stop"}'),
        **button("next_track", "Next track", "mdi:music-note-plus", '{"music":"next"}'),
        f"homeassistant/button/{node}/undo_phase/config": {   # there while the room offers an undo
            "name": "Undo phase move", "icon": "mdi:undo-variant", "command_topic": command,
            "payload_press": '{"session":"undo"}', "availability_mode": "all",
            "availability": [
                {"topic": f"{prefix}/status", "payload_available": "online", "payload_not_available": "offline"},
                {"topic": state, "payload_available": "online", "payload_not_available": "offline",
                 "value_template": '{{ "online" if value_json.session and value_json.session.undo else "offline" }}'}],
            "unique_id": f"{node}_undo_phase", **own},
        f"homeassistant/sensor/{node}/phase/config": {
            "name": "Phase", "icon": "mdi:timeline-clock", "state_topic": state, "device_class": "enum",
            "options": ["No session", *phases],
            "value_template": '{{ value_json.session.phase.name if value_json.session else "No session" }}',
            "json_attributes_topic": state,
            "json_attributes_template": '{{ {"profile": value_json.session.profile_name, "paused": '
                                        'value_json.session.paused} | tojson if value_json.session else "{}" }}',
            "unique_id": f"{node}_phase", **common},
        f"homeassistant/sensor/{node}/phase_left/config": {
            "name": "Phase time left", "icon": "mdi:timer-sand", "state_topic": state, "device_class": "duration",
            "unit_of_measurement": "min",
            "value_template": '{{ ((value_json.session.phase.remaining_s / 60) | round(0, "ceil") | int) if '
                              'value_json.session and value_json.session.phase.remaining_s is not none '
                              'else "None" }}',
            "unique_id": f"{node}_phase_left", **common},
        f"homeassistant/sensor/{node}/session_time/config": {
            "name": "Session time", "icon": "mdi:clock-outline", "state_topic": state, "device_class": "duration",
            "unit_of_measurement": "min",
            "value_template": '{{ (value_json.session.elapsed_s / 60) | int if value_json.session else "None" }}',
            "unique_id": f"{node}_session_time", **common},
        f"homeassistant/number/{node}/volume/config": {
            "name": "Volume", "icon": "mdi:volume-high", "command_topic": command,
            "command_template": '{"music": {"volume": {{ value }}}}', "state_topic": state,
            "value_template": '{{ value_json.music.volume if value_json.music else "None" }}',
            "min": 0, "max": 80.0, "step": 1, "mode": "slider", "unit_of_measurement": "%",
            "unique_id": f"{node}_volume", **common},
        f"homeassistant/switch/{node}/music/config": {
            "name": "Music", "icon": "mdi:music", "command_topic": command, "state_topic": state,
            "payload_on": '{"music":"play"}', "payload_off": '{"music":"pause"}', "state_on": "ON", "state_off": "OFF",
            "value_template": '{{ "ON" if value_json.music and value_json.music.playing else "OFF" }}',
            "unique_id": f"{node}_music", **common},
        f"homeassistant/event/{node}/reminder/config": {
            "name": "Reminder", "icon": "mdi:bell-ring", "state_topic": f"{prefix}/reminder",
            "event_types": ["reminder"], "unique_id": f"{node}_reminder", **common},
        f"homeassistant/event/{node}/alert/config": {
            "name": "Alert", "icon": "mdi:alarm-light-outline", "state_topic": f"{prefix}/alert",
            "event_types": ["emergency_on", "vitals_beyond_limit", "reading_missed", "calm_pressed", "problem",
                            "emergency_off"],
            "value_template": '{{ {"event_type": value_json.kind, "id": value_json.id, "urgent": value_json.urgent, '
                              '"what": value_json.what, "phase": value_json.phase, "session_s": value_json.session_s, '
                              '"at": value_json.at, "detail": value_json.detail} | tojson }}',
            "unique_id": f"{node}_alert", **common},
        f"homeassistant/binary_sensor/{node}/problem/config": {
            "name": "Problem", "device_class": "problem", "entity_category": "diagnostic", "state_topic": state,
            "value_template": '{{ "ON" if value_json.problems or (value_json.music and value_json.music.problem) '
                              'else "OFF" }}',
            "json_attributes_topic": state,
            "json_attributes_template": '{{ {"problems": value_json.problems + ([value_json.music.problem] if '
                                        'value_json.music and value_json.music.problem else [])} | tojson }}',
            "unique_id": f"{node}_problem", **common},
    }


def run(tmp_path, broker, room_id, discovery: bool, lights=ZIGBEE, clock=None, audio=False, **homeassistant):
    config, catalogue = load(tmp_path, broker, room_id, lights, homeassistant={"discovery": discovery, **homeassistant},
                             **PLACES)
    app = App(config, catalogue, clock=clock, web=False, audio=audio).start()
    wait_until(lambda: app.room.mqtt_connected)
    app.loop.settle()
    return app


MARK_BELOW, CONFIG_MARK = "homeassistant/test/mark", "homeassistant/test/mark/here/config"   # Capture.retained's


def configs(messages) -> dict[str, dict | str]:
    return {m.topic: json.loads(m.payload) if m.payload else "" for m in messages
            if not m.topic.startswith(MARK_BELOW)}   # another capture's mark


def test_discovery_payloads_are_exact_and_retained(tmp_path, own_broker, room_id):
    broker = own_broker   # discovery topics are not per room: a broker of this test's own
    app = run(tmp_path, broker, room_id, discovery=True)
    first = Capture(broker, "homeassistant/#")
    wait_until(lambda: set(configs(first.all)) == set(expected(room_id)))   # all sent (retained or live)
    first.close()
    late = Capture(broker, "homeassistant/#")          # a Home Assistant that starts later reads them retained
    got = late.retained(MARK_BELOW)
    assert {(m.qos, m.retain) for m in got} == {(1, True)}
    assert configs(got) == expected(room_id)
    # Home Assistant restarts and announces itself: the room sends its entities again
    late.publish("homeassistant/status", "online")
    again: list = []
    while set(configs(again)) != set(expected(room_id)):
        again += [m for m in [late.next()] if m.topic != "homeassistant/status"]
    assert configs(again) == expected(room_id)
    app.stop()
    late.close()


def test_the_room_light_and_the_panel_link_when_asked_for(tmp_path, own_broker, room_id):
    app = run(tmp_path, own_broker, room_id, discovery=True, room_light=True, panel_url="http://room-3.lan:8080/")
    got = configs(Capture(own_broker, "homeassistant/#").retained(MARK_BELOW))
    node, prefix = f"therapy-room_{room_id}", f"therapy-room/{room_id}"
    light = got.pop(f"homeassistant/light/{node}/lights/config")
    assert set(got) == set(expected(room_id))
    assert {payload["device"]["configuration_url"] for payload in got.values()} == {"http://room-3.lan:8080/"}
    assert light == {
        "name": "Lights", "icon": "mdi:lightbulb-group-outline", "schema": "template",
        "command_topic": f"{prefix}/command", "state_topic": f"{prefix}/state",
        "command_on_template": '{"lights":{"on":true{% if brightness is defined %},"brightness":{{ (brightness / 2.55)'
                               ' | round(1) }}{% endif %}{% if color_temp is defined %},"kelvin":{{ color_temp }}'
                               '{% endif %}{% if transition is defined %},"transition":{{ transition }}{% endif %}}}',
        "command_off_template": '{"lights":{"on":false{% if transition is defined %},"transition":{{ transition }}'
                                '{% endif %}}}',
        "state_template": '{{ "on" if value_json.light.on else "off" }}',
        "brightness_template": "{{ (value_json.light.brightness * 2.55) | round(0) | int }}",
        "color_temp_template": '{{ value_json.light.kelvin or "" }}',
        "color_temp_kelvin": True, "min_kelvin": 1800, "max_kelvin": 6500,
        "unique_id": f"{node}_lights", **{k: v for k, v in got[f"homeassistant/button/{node}/calm/config"].items()
                                           if k in ("availability_topic", "payload_available",
                                                    "payload_not_available", "device", "origin")}}
    # turned on from Home Assistant at half brightness and 2700 K: every light goes there, and the entity says so
    ha = Capture(own_broker, f"{prefix}/state")
    ha.publish(f"{prefix}/command", templates.command(light["command_on_template"], brightness=128, color_temp=2700))
    wait_until(lambda: app.room.snapshot()["lights"][0]["target"] == {"on": True, "brightness": 50.2, "mode": "white",
                                                                      "kelvin": 2700})
    seen = ha.wait_for(lambda m: json.loads(m.payload)["light"]["on"]).payload
    assert [templates.value(light[key], seen) for key in ("state_template", "brightness_template",
                                                          "color_temp_template")] == ["on", "128", "2700"]
    ha.publish(f"{prefix}/command", templates.command(light["command_off_template"], transition=2))
    seen = ha.wait_for(lambda m: not json.loads(m.payload)["light"]["on"]).payload
    assert templates.value(light["state_template"], seen) == "off"
    app.stop()
    ha.close()


def test_a_new_room_id_removes_the_old_entities_and_turning_off_removes_all(tmp_path, own_broker, room_id):
    broker = own_broker   # discovery topics are not per room: a broker of this test's own
    old_id, new_id = f"{room_id}-old", f"{room_id}-new"
    run(tmp_path, broker, old_id, discovery=True).stop()
    watch = Capture(broker, "homeassistant/+/+/+/config", MARK)
    assert set(configs(watch.retained(CONFIG_MARK))) == set(expected(old_id))
    app = run(tmp_path, broker, new_id, discovery=True)   # same data_dir: the room was renamed
    got = configs(watch.sent_until_now(app))
    assert got == {**{topic: "" for topic in expected(old_id)}, **expected(new_id)}
    app.stop()
    after = Capture(broker, "homeassistant/+/+/+/config")
    assert set(configs(after.retained(CONFIG_MARK))) == set(expected(new_id))   # the old ones are gone
    after.close()
    app = run(tmp_path, broker, new_id, discovery=False)
    assert configs(watch.sent_until_now(app)) == {topic: "" for topic in expected(new_id)}
    app.stop()
    empty = Capture(broker, "homeassistant/#")
    assert empty.retained(MARK_BELOW) == []
    empty.close()
    watch.close()


class HomeAssistantStandIn:
    """What Home Assistant does with the room's entities, on the real broker: it reads each entity's state with
    the entity's own template from the retained state, and publishes what the entity's action would."""

    def __init__(self, broker, room_id: str, app: App) -> None:
        self.app, self.prefix = app, f"therapy-room/{room_id}"
        self.node = f"therapy-room_{room_id}"
        self.bus = Capture(broker, "homeassistant/#", f"{self.prefix}/state", f"{self.prefix}/reminder",
                           f"{self.prefix}/alert")
        self.configs: dict[str, dict] = {}
        self.state = ""
        self._take(self.bus.drain(0.5))

    def _take(self, messages) -> None:
        for m in messages:
            if m.topic.endswith("/config"):
                self.configs[m.topic.split("/")[-2]] = json.loads(m.payload)
            elif m.topic.endswith("/state"):
                self.state = m.payload

    def settle(self) -> None:
        """After the room's loop (and music thread) ran what was sent: what it published since has arrived."""
        self.app.loop.settle()
        if self.app.music is not None:
            self.app.music.settle()
            self.app.loop.settle()
        self._take(self.bus.drain(0.3))

    def shown(self, obj: str, key: str = "value_template") -> str:
        return templates.value(self.configs[obj][key], self.state)

    def available(self, obj: str) -> bool:
        """As Home Assistant reads an entity's availability: each topic's payload against its template, all of
        them online (`availability_mode: all`); the status is online while the room runs."""
        config = self.configs[obj]
        found = config.get("availability") or [{"topic": config["availability_topic"]}]
        seen = {f"{self.prefix}/status": "online", f"{self.prefix}/state": self.state}
        return all((templates.value(a["value_template"], seen[a["topic"]]) if "value_template" in a
                    else seen[a["topic"]]) == a.get("payload_available", "online") for a in found)

    def press(self, obj: str, payload: str = "payload_press") -> None:
        self.bus.publish(self.configs[obj]["command_topic"], self.configs[obj][payload])

    def send(self, obj: str, template_key: str = "command_template", **variables) -> None:
        self.bus.publish(self.configs[obj]["command_topic"], templates.command(self.configs[obj][template_key],
                                                                               **variables))

    def act(self, clock: ManualClock, action) -> None:
        """One action, with the room's pace and repeat gap (its own clock) passed before the next."""
        clock.advance(3)
        action()
        wait_until(lambda: self.app.loop.call(lambda: not self.app.room.intake._waiting))
        self.settle()
        clock.advance(1)   # the music tells the room of a change at most every ANNOUNCE_GAP, on the room's clock
        self.settle()


def test_each_entity_both_ways_through_the_broker(tmp_path, broker, room_id, caplog):
    clock = ManualClock()
    app = run(tmp_path, broker, room_id, discovery=True, clock=clock, audio=True)
    ha = HomeAssistantStandIn(broker, room_id, app)
    assert [ha.shown(obj) for obj in ("preset", "phase", "phase_left", "session_time", "problem")] == [
        "No preset", "No session", "None", "None", "OFF"]
    assert ha.shown("phase", "json_attributes_template") == "{}"
    # the preset select: each option, and "No preset" releases; emergency is its own button, never an option
    ha.act(clock, lambda: ha.send("preset", value="calm"))
    assert (app.room.snapshot()["preset"], ha.shown("preset")) == ("calm", "calm")
    ha.act(clock, lambda: ha.send("preset", value="No preset"))
    assert (app.room.snapshot()["preset"], ha.shown("preset")) == (None, "No preset")
    ha.act(clock, lambda: ha.press("emergency"))
    assert (app.room.snapshot()["preset"], ha.shown("preset")) == ("emergency", "None")
    [alert] = [m for m in ha.bus.all if m.topic.endswith("/alert")]   # the alert event, as its template reads it
    event = json.loads(templates.value(ha.configs["alert"]["value_template"], alert.payload))
    assert ({k: event[k] for k in ("event_type", "id", "urgent", "what", "phase")}, alert.retain) == (
        {"event_type": "emergency_on", "id": f"{room_id}-1", "urgent": True, "what": "Emergency light switched on",
         "phase": None}, False)
    assert ha.shown("preset", "json_attributes_template") == '{"active":"emergency"}'
    ha.act(clock, lambda: ha.press("calm"))      # refused: the emergency light holds until it is released
    assert app.room.snapshot()["preset"] == "emergency"
    ha.act(clock, lambda: ha.press("release"))
    assert app.room.snapshot()["preset"] is None
    # a session: the phase sensor's options become the running profile's phases
    app.loop.call(app.room.session.start, "ketamine-1h", "client A")
    ha.settle()
    phases = ("Arrival", "Onset", "Journey", "Re-entry", "Closing")
    assert ha.configs["phase"] == expected(room_id, phases)[f"homeassistant/sensor/{ha.node}/phase/config"]
    assert [ha.shown(obj) for obj in ("phase", "phase_left", "session_time")] == ["Arrival", "10", "0"]
    ha.act(clock, lambda: ha.press("pause"))
    assert ha.shown("phase", "json_attributes_template") == '{"profile":"Ketamine, about 1 hour","paused":true}'
    ha.act(clock, lambda: ha.press("resume"))
    assert app.room.snapshot()["session"]["paused"] is False
    assert not ha.available("undo_phase") and ha.available("next_phase")
    ha.act(clock, lambda: ha.press("next_phase"))
    assert [ha.shown(obj) for obj in ("phase", "phase_left", "session_time")] == ["Onset", "10", "0"]
    assert ha.available("undo_phase")                          # the move can be undone
    ha.act(clock, lambda: ha.press("undo_phase"))
    undone = app.room.snapshot()["session"]
    assert (ha.shown("phase"), undone["phase"]["elapsed_s"]) == ("Arrival", undone["elapsed_s"])   # as if never moved
    assert not ha.available("undo_phase")                      # undone: nothing more to undo
    ha.act(clock, lambda: ha.press("next_phase"))
    ha.act(clock, lambda: ha.press("previous_phase"))
    assert ha.shown("phase") == "Arrival" and ha.available("undo_phase")
    clock.advance(UNDO_WINDOW)
    ha.settle()
    assert not ha.available("undo_phase")                      # the offer ended: the button goes
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="room_controller.core.inbox"):
        ha.act(clock, lambda: ha.press("undo_phase"))          # a press that came too late: refused, logged
    assert ha.shown("phase") == "Arrival"
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == [
        f"command SessionCommand(control='undo') on {ha.prefix}/command refused: too late to undo: a phase move "
        f"can be undone for {UNDO_WINDOW:g} s after it"]
    # the music: the volume it ramps to, on and off, the next track
    ha.act(clock, lambda: ha.send("volume", value=33))
    assert (app.room.snapshot()["audio"]["requested_volume"], ha.shown("volume")) == (33, "33.0")
    assert ha.shown("music") == "ON"
    ha.act(clock, lambda: ha.press("music", "payload_off"))
    assert ha.shown("music") == "OFF"
    ha.act(clock, lambda: ha.press("music", "payload_on"))
    assert ha.shown("music") == "ON"
    ha.act(clock, lambda: ha.press("next_track"))
    with app.journal.reader() as reader:
        changes = [row.data for row in reader.events(app.room.session.session.id, ["music_changed"])]
    assert changes == [{"volume": 33.0, "played": 33.0}, {"playing": False}, {"playing": True}, {"next": True}]
    # the reminder at 8 minutes reaches Home Assistant's event entity, not retained (an old one is no news)
    clock.advance(8 * 60)
    event = ha.bus.wait_for(lambda m: m.topic.endswith("/reminder"))
    assert (event.payload, event.retain) == ('{"event_type":"reminder","text":"Dose when the client is ready",'
                                             '"phase":"Arrival"}', False)
    ha.act(clock, lambda: ha.press("stop"))
    assert [ha.shown(obj) for obj in ("phase", "phase_left", "session_time")] == ["No session", "None", "None"]
    assert ha.configs["phase"] == expected(room_id)[f"homeassistant/sensor/{ha.node}/phase/config"]
    app.stop()
    ha.bus.close()
