"""The commands Home Assistant's entities send, parsed strictly (pure: unit and property tests), and the preset
select's safety for any set of clinic presets: no option, and no command any option renders, is emergency."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.commands import CommandError, LightsCommand, MusicCommand, parse_command
from room_controller.config import BUILTIN_PRESETS, RoomConfig
from room_controller.integrations.homeassistant.entities import entities
from tests.homeassistant import templates


@pytest.mark.parametrize("payload, command, kind", [
    ({"music": "play"}, MusicCommand("play"), "playing"),
    ({"music": "pause"}, MusicCommand("pause"), "playing"),
    ({"music": "next"}, MusicCommand("next"), "next"),
    ({"music": {"volume": 33}}, MusicCommand("volume", 33.0), "volume"),
    ({"music": {"volume": 0}}, MusicCommand("volume", 0.0), "volume"),
    ({"lights": {"on": False}}, LightsCommand(on=False), "lights"),
    ({"lights": {"on": True, "brightness": 50.2, "kelvin": 2700, "transition": 2}},
     LightsCommand(on=True, brightness=50.2, kelvin=2700.0, transition=2.0), "lights"),
])
def test_the_commands_of_home_assistants_entities(payload, command, kind):
    parsed = parse_command(json.dumps(payload).encode())
    assert (parsed, parsed.kind) == (command, kind)


@pytest.mark.parametrize("payload", [
    {"music": "stop"}, {"music": {"volume": 101}}, {"music": {"volume": -1}}, {"music": {"volume": True}},
    {"music": {"volume": "40"}}, {"music": {"volume": 40, "x": 1}}, {"music": ["play"]}, {"music": None},
    {"lights": {}}, {"lights": {"transition": 2}}, {"lights": {"on": "yes"}}, {"lights": {"brightness": 100.5}},
    {"lights": {"kelvin": 1000}}, {"lights": {"kelvin": 9000}}, {"lights": {"color": "#ff0000"}},
    {"lights": {"transition": 4000, "on": True}}, {"lights": [1]},
])
def test_anything_else_is_refused_with_a_reason(payload):
    with pytest.raises(CommandError, match="unknown command"):
        parse_command(json.dumps(payload).encode())


VALUES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(value=VALUES | st.dictionaries(st.sampled_from(["volume", "on", "brightness", "kelvin", "transition",
                                                         "color"]), VALUES, max_size=4),
       key=st.sampled_from(["music", "lights"]))
def test_a_music_or_lights_payload_is_a_valid_command_or_refused(key, value):
    try:
        command = parse_command(json.dumps({key: value}).encode())
    except CommandError:
        return
    if isinstance(command, MusicCommand):
        assert command.control in ("play", "pause", "next") or 0 <= command.volume <= 100
    else:
        assert command.on is not None or command.brightness is not None or command.kelvin is not None
        assert command.brightness is None or 0 <= command.brightness <= 100
        assert command.kelvin is None or 1800 <= command.kelvin <= 6500


NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(extra=st.lists(NAMES, max_size=5, unique=True))
def test_no_option_of_the_preset_select_sends_emergency(extra):
    """Home Assistant's select can only send one of its options (select/__init__.py `_valid_option_or_raise`);
    cycling goes through the options. So if no option renders a command naming emergency, none reaches it."""
    presets = {**BUILTIN_PRESETS, **{name: {"lights": {"brightness": 20}} for name in extra}}
    config = RoomConfig.model_validate({"room": {"id": "r"}, "presets": presets, "homeassistant": {"discovery": True}})
    found = entities(config)
    select = found["homeassistant/select/therapy-room_r/preset/config"]
    sent = {option: json.loads(templates.command(select["command_template"], value=option))
            for option in select["options"]}
    assert "emergency" not in select["options"]
    assert {command["preset"] for command in sent.values()} == {None} | (set(presets) - {"emergency"})
    presses = [json.loads(p["payload_press"]) for p in found.values() if "payload_press" in p]
    assert [p for p in presses if p.get("preset") == "emergency"] == [{"preset": "emergency"}]   # its button only
