"""The room's entities in Home Assistant: each one's MQTT discovery config, built from the room file alone.

Every entity acts through the room's own command topic and reads its retained `state` summary (or, for the
reminder event, `<room>/reminder`; for the alert event, the public `<room>/alert`), so Home Assistant needs
nothing the room does not publish anyway. Each
template picks only what its entity shows: the room's setting, the session's phase and times, the music,
reminders' texts and problems — never the session's label, a phase's guidance or a note. Why each key is what
it is, with the lines of Home Assistant's MQTT integration that decide it: docs/homeassistant.md.

Emergency light is a button of its own and nothing else: it is not one of the preset select's options, so no
`select_option`, `select_next`, `select_previous`, `select_first` or `select_last` can reach it (Home
Assistant refuses an option not in the list and cycles only through the list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from room_controller import __version__
from room_controller.alert_kinds import KINDS as ALERT_KINDS
from room_controller.config import RoomConfig
from room_controller.units import KELVIN_MAX, KELVIN_MIN

NO_PRESET = "No preset"     # not "none": Home Assistant's select reads that (any case) as "unknown"
NO_SESSION = "No session"
EMERGENCY = "emergency"
REMINDER = "reminder"       # the event type, and the leaf of the room's reminder topic


def node_id(config: RoomConfig) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{config.mqtt.base_topic}_{config.room.id}")


def reminder_topic(config: RoomConfig) -> str:
    return f"{config.topic_prefix}/{REMINDER}"


def device(config: RoomConfig) -> dict:
    """One device per room, in the area named after the room, linked to its panel when its address is known."""
    name = config.room.name or config.room.id
    found = {"identifiers": [node_id(config)], "name": name, "manufacturer": "room-controller",
             "model": "Therapy room controller", "sw_version": __version__, "suggested_area": name}
    if config.homeassistant.panel_url:
        found["configuration_url"] = config.homeassistant.panel_url
    return found


def _json(body: object) -> str:
    return json.dumps(body, separators=(",", ":"))


def _session(value: str, otherwise: str = '"None"') -> str:
    """A template of `value` while a session runs; `None` (Home Assistant's "unknown") or `otherwise` without."""
    return f"{{{{ {value} if value_json.session else {otherwise} }}}}"


def _buttons(command: str) -> dict[tuple[str, str], dict]:
    found = {
        "calm": ("Calm", "mdi:weather-night", {"preset": "calm"}),
        "release": ("Release preset", "mdi:undo", {"preset": None}),
        EMERGENCY: ("Emergency light", "mdi:alarm-light", {"preset": EMERGENCY}),
        "pause": ("Pause session", "mdi:pause", {"session": "pause"}),
        "resume": ("Resume session", "mdi:play", {"session": "resume"}),
        "next_phase": ("Next phase", "mdi:skip-next", {"session": "next"}),
        "previous_phase": ("Previous phase", "mdi:skip-previous", {"session": "previous"}),
        "stop": ("Stop session", "mdi:stop", {"session": "stop"}),
        "next_track": ("Next track", "mdi:music-note-plus", {"music": "next"}),
    }
    return {("button", obj): {"name": name, "icon": icon, "command_topic": command, "payload_press": _json(body)}
            for obj, (name, icon, body) in found.items()}


def _undo_button(command: str, state: str, status: str) -> dict:
    """Undo phase move: available while the room is online and its state offers an undo (`session.undo`), so it
    shows only when a press can act. The state is sent every second while a session runs, so the button goes when
    the offer ends; a press that arrives just after is refused by the room and logged."""
    return {
        "name": "Undo phase move", "icon": "mdi:undo-variant", "command_topic": command,
        "payload_press": _json({"session": "undo"}), "availability_mode": "all",
        "availability": [
            {"topic": status, "payload_available": "online", "payload_not_available": "offline"},
            {"topic": state, "payload_available": "online", "payload_not_available": "offline",
             "value_template": '{{ "online" if value_json.session and value_json.session.undo else "offline" }}'}]}


def _preset_select(config: RoomConfig, command: str, state: str) -> dict:
    presets = [name for name in config.presets if name != EMERGENCY]
    return {
        "name": "Preset", "icon": "mdi:lightbulb-group", "command_topic": command,
        "command_template": f'{{"preset": {{{{ (none if value == "{NO_PRESET}" else value) | tojson }}}}}}',
        "options": [NO_PRESET, *presets], "state_topic": state,
        # emergency (or a preset deleted while on) is no option: the select is unknown, the attribute says which
        "value_template": f'{{% set p = value_json.preset %}}{{{{ "{NO_PRESET}" if p is none else p '
                          f'if p in {_json(presets)} else "None" }}}}',
        "json_attributes_topic": state, "json_attributes_template": '{{ {"active": value_json.preset} | tojson }}'}


def _session_sensors(state: str, phases: Iterable[str]) -> dict[tuple[str, str], dict]:
    return {
        ("sensor", "phase"): {
            "name": "Phase", "icon": "mdi:timeline-clock", "state_topic": state, "device_class": "enum",
            "options": list(dict.fromkeys([NO_SESSION, *phases])),
            "value_template": _session("value_json.session.phase.name", f'"{NO_SESSION}"'),
            "json_attributes_topic": state,
            "json_attributes_template": _session('{"profile": value_json.session.profile_name, '
                                                 '"paused": value_json.session.paused} | tojson', '"{}"')},
        ("sensor", "phase_left"): {   # an open phase (until the therapist moves on) has no end: unknown
            "name": "Phase time left", "icon": "mdi:timer-sand", "state_topic": state, "device_class": "duration",
            "unit_of_measurement": "min",
            "value_template": '{{ ((value_json.session.phase.remaining_s / 60) | round(0, "ceil") | int) if '
                              'value_json.session and value_json.session.phase.remaining_s is not none else "None" }}'},
        ("sensor", "session_time"): {   # no state_class: Home Assistant would average a clock in its statistics
            "name": "Session time", "icon": "mdi:clock-outline", "state_topic": state, "device_class": "duration",
            "unit_of_measurement": "min", "value_template": _session("(value_json.session.elapsed_s / 60) | int")},
    }


def _music(config: RoomConfig, command: str, state: str) -> dict[tuple[str, str], dict]:
    return {
        ("number", "volume"): {
            "name": "Volume", "icon": "mdi:volume-high", "command_topic": command,
            "command_template": '{"music": {"volume": {{ value }}}}', "state_topic": state,
            "value_template": '{{ value_json.music.volume if value_json.music else "None" }}',
            "min": 0, "max": config.audio.max_volume, "step": 1, "mode": "slider", "unit_of_measurement": "%"},
        ("switch", "music"): {
            "name": "Music", "icon": "mdi:music", "command_topic": command, "state_topic": state,
            "payload_on": _json({"music": "play"}), "payload_off": _json({"music": "pause"}),
            "state_on": "ON", "state_off": "OFF",
            "value_template": '{{ "ON" if value_json.music and value_json.music.playing else "OFF" }}'},
    }


def _room_light(command: str, state: str) -> dict:
    """All the room's lights as one: brightness and white as the therapist's manual adjustment (it holds across
    phases until "Follow the phase"). A `flash` asked of it is ignored: no template reads it."""
    level = '{% if brightness is defined %},"brightness":{{ (brightness / 2.55) | round(1) }}{% endif %}'
    white = '{% if color_temp is defined %},"kelvin":{{ color_temp }}{% endif %}'
    fade = '{% if transition is defined %},"transition":{{ transition }}{% endif %}'
    return {
        "name": "Lights", "icon": "mdi:lightbulb-group-outline", "schema": "template",
        "command_topic": command, "state_topic": state,
        "command_on_template": '{"lights":{"on":true' + level + white + fade + "}}",
        "command_off_template": '{"lights":{"on":false' + fade + "}}",
        "state_template": '{{ "on" if value_json.light.on else "off" }}',
        "brightness_template": "{{ (value_json.light.brightness * 2.55) | round(0) | int }}",
        "color_temp_template": '{{ value_json.light.kelvin or "" }}',   # nothing to read in colour: ignored
        "color_temp_kelvin": True, "min_kelvin": KELVIN_MIN, "max_kelvin": KELVIN_MAX}


def _alert(config: RoomConfig) -> dict:
    """The room's alerts as events: the alert's kind is the event type, its other keys the attributes."""
    keys = ("id", "urgent", "what", "phase", "session_s", "at", "detail")
    fields = ", ".join(f'"{key}": value_json.{key}' for key in keys)
    return {"name": "Alert", "icon": "mdi:alarm-light-outline", "state_topic": f"{config.topic_prefix}/alert",
            "event_types": list(ALERT_KINDS),
            "value_template": f'{{{{ {{"event_type": value_json.kind, {fields}}} | tojson }}}}'}


def entities(config: RoomConfig, phases: Iterable[str] = ()) -> dict[str, dict]:
    """Each entity's discovery topic and config payload; `phases`: the running profile's phase names."""
    node, prefix = node_id(config), config.homeassistant.prefix
    command, state, status = (f"{config.topic_prefix}/{leaf}" for leaf in ("command", "state", "status"))
    common = {"device": device(config), "origin": {"name": "room-controller", "sw_version": __version__}}
    online = {"availability_topic": status, "payload_available": "online", "payload_not_available": "offline"}
    found = {
        ("select", "preset"): _preset_select(config, command, state),
        **_buttons(command),
        ("button", "undo_phase"): _undo_button(command, state, status),
        **_session_sensors(state, phases),
        **_music(config, command, state),
        ("event", REMINDER): {"name": "Reminder", "icon": "mdi:bell-ring", "state_topic": reminder_topic(config),
                              "event_types": [REMINDER]},
        ("event", "alert"): _alert(config),
        ("binary_sensor", "problem"): {
            "name": "Problem", "device_class": "problem", "entity_category": "diagnostic", "state_topic": state,
            "value_template": '{{ "ON" if value_json.problems or (value_json.music and value_json.music.problem) '
                              'else "OFF" }}',
            "json_attributes_topic": state,
            "json_attributes_template": '{{ {"problems": value_json.problems + ([value_json.music.problem] '
                                        'if value_json.music and value_json.music.problem else [])} | tojson }}'},
    }
    if config.homeassistant.room_light:
        found["light", "lights"] = _room_light(command, state)
    return {f"{prefix}/{component}/{node}/{obj}/config": {
                **payload, "unique_id": f"{node}_{obj}", **({} if "availability" in payload else online), **common}
            for (component, obj), payload in found.items()}
