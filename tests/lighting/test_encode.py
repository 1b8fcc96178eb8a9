"""Every device family's payloads, exactly: what the devices' own code and documentation take
(docs/devices.md gives each source)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.lighting.encode import PER_SECOND, encode
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import LightState, MqttMessage

CATALOGUE = Catalogue.load()
CALM = LightState(on=True, brightness=15, kelvin=2200)
FULL_WHITE = LightState(on=True, brightness=100, kelvin=4000)
AMBER = LightState(on=True, brightness=50, kelvin=1800)   # warmer than any tunable white: made with colour
OFF = LightState(on=False, brightness=0)


def device(profile: str, name: str = "lamp", **overrides) -> Device:
    return Device("x", name, CATALOGUE.resolve(profile, overrides.get("capabilities"), overrides.get("quirks")),
                  "therapy-room-room-1")


def payloads(profile: str, state: LightState, transition: float, **kw) -> list[tuple[str, str]]:
    messages = encode(device(profile, **kw), state, transition)
    assert all(m.qos == 0 and m.retain is False for m in messages)
    return [(m.topic, m.payload) for m in messages]


EXPECTED = {
    ("zigbee2mqtt", "calm"): [("zigbee2mqtt/lamp/set", '{"state":"ON","brightness":38,"color_temp":455,"transition":3}')],
    ("zigbee2mqtt", "full"): [("zigbee2mqtt/lamp/set", '{"state":"ON","brightness":254,"color_temp":250,"transition":0}')],
    ("zigbee2mqtt", "off"): [("zigbee2mqtt/lamp/set", '{"state":"OFF","transition":2}')],
    ("zigbee2mqtt", "amber"): [("zigbee2mqtt/lamp/set",
                                '{"state":"ON","brightness":127,"color":{"x":0.5453,"y":0.4052},"transition":600}')],
    # Speed2 before every light command; a white is one Color, its level and temperature at once (docs/devices.md)
    ("tasmota", "calm"): [("cmnd/lamp/Backlog", "Speed2 6; Color 0,0,0,5,33")],
    ("tasmota", "full"): [("cmnd/lamp/Backlog", "Speed2 0; Color 0,0,0,184,71")],
    ("tasmota", "off"): [("cmnd/lamp/Backlog", "Speed2 4; Power OFF")],
    ("tasmota", "amber"): [("cmnd/lamp/Backlog", "Speed2 40; HSBColor 30,100,50")],
    ("wled", "calm"): [("wled/lamp/api", '{"on":true,"bri":5,"seg":{"col":[[255,150,47]]},"tt":30}')],
    ("wled", "full"): [("wled/lamp/api", '{"on":true,"bri":255,"seg":{"col":[[255,211,165]]},"tt":0}')],
    ("wled", "off"): [("wled/lamp/api", '{"on":false,"tt":20}')],
    ("wled", "amber"): [("wled/lamp/api", '{"on":true,"bri":47,"seg":{"col":[[255,126,0]]},"tt":650}')],
    ("shelly-rgbw2", "calm"): [("shellies/lamp/color/0/set",
                                '{"white":0,"turn":"on","gain":2,"red":255,"green":150,"blue":47}')],
    ("shelly-rgbw2", "off"): [("shellies/lamp/color/0/set", '{"white":0,"turn":"off"}')],
    ("shelly-gen2", "full"): [("lamp/rpc", '{"id":1,"src":"therapy-room-room-1","method":"Light.Set",'
                                           '"params":{"id":0,"on":true,"brightness":100,"transition_duration":0.5}}')],
    ("esphome", "calm"): [("lamp/command", '{"state":"ON","brightness":38,"color_temp":455,"transition":3}')],
    ("esphome", "full"): [("lamp/command", '{"state":"ON","brightness":255,"color_temp":250,"transition":0}')],
    ("esphome", "off"): [("lamp/command", '{"state":"OFF","transition":2}')],
    ("shelly-gen2", "calm"): [("lamp/rpc", '{"id":1,"src":"therapy-room-room-1","method":"Light.Set",'
                                           '"params":{"id":0,"on":true,"brightness":2,"transition_duration":3}}')],
    ("shelly-gen2", "off"): [("lamp/rpc", '{"id":1,"src":"therapy-room-room-1","method":"Light.Set",'
                                          '"params":{"id":0,"on":false,"transition_duration":2}}')],
    ("shelly-gen2-rgbw", "calm"): [("lamp/rpc", '{"id":1,"src":"therapy-room-room-1","method":"RGBW.Set","params":'
                                                '{"id":0,"white":0,"on":true,"brightness":2,"transition_duration":3,'
                                                '"rgb":[255,150,47]}}')],
    ("homeassistant-json", "calm"): [("lamp/set", '{"state":"ON","brightness":38,"color_temp":455,"transition":3}')],
    ("homeassistant-json", "amber"): [("lamp/set", '{"state":"ON","brightness":128,"color":{"r":255,"g":126,"b":0},'
                                                   '"transition":600}')],
    ("template-per-topic", "calm"): [("lamp/switch", "ON"), ("lamp/brightness/set", "38"),
                                     ("lamp/color_temp/set", "455")],
    ("template-per-topic", "off"): [("lamp/switch", "OFF")],
    ("template-per-topic", "amber"): [("lamp/switch", "ON"), ("lamp/brightness/set", "128"),
                                      ("lamp/rgb/set", "255,126,0")],
}
STATES = {"calm": (CALM, 3), "full": (FULL_WHITE, 0), "off": (OFF, 2), "amber": (AMBER, 600)}


@pytest.mark.parametrize("profile,case", sorted(EXPECTED))
def test_payloads_are_exactly_the_documented_ones(profile, case):
    state, transition = STATES[case]
    assert payloads(profile, state, transition) == EXPECTED[(profile, case)]


def test_ikea_quirk_never_splits_one_command_into_two_transitions():
    out = payloads("zigbee2mqtt", CALM, 3, quirks={"fade_one_property": True})
    assert out == [("zigbee2mqtt/lamp/set", '{"state":"ON","brightness":38,"color_temp":455,"transition":3}')]


def test_white_only_bulb_clamps_warm_white_instead_of_using_colour():
    out = payloads("zigbee2mqtt", AMBER, 0, capabilities={"color": False})
    assert out == [("zigbee2mqtt/lamp/set", '{"state":"ON","brightness":127,"color_temp":500,"transition":0}')]


def test_bulb_that_turns_off_at_one_never_gets_one():
    dim = LightState(on=True, brightness=0.1, kelvin=2700)
    out = payloads("zigbee2mqtt", dim, 0, capabilities={"brightness": {"min_on": 2}})
    assert json.loads(out[0][1])["brightness"] == 2


def test_long_fades_are_clamped_to_the_native_limit():
    assert json.loads(payloads("wled", CALM, 7200)[0][1])["tt"] == 650
    assert payloads("tasmota", CALM, 7200)[0][1] == "Speed2 40; Color 0,0,0,5,33"
    assert json.loads(payloads("shelly-gen2", CALM, 86400)[0][1])["params"]["transition_duration"] == 10800


def test_colour_state_on_every_colour_family():
    violet = LightState(on=True, brightness=40, rgb=(120, 40, 200))
    assert payloads("tasmota", violet, 0) == [("cmnd/lamp/Backlog", "Speed2 0; HSBColor 270,80,40")]
    assert payloads("wled", violet, 0)[0][1] == '{"on":true,"bri":29,"seg":{"col":[[120,40,200]]},"tt":0}'


@pytest.mark.parametrize("seconds,sent", [(2.5, 3), (0.4, 1), (2.0, 2), (0.0, 0), (3600.2, 3600)])
def test_esphome_gets_whole_seconds_never_shorter_than_asked(seconds, sent):
    assert json.loads(payloads("esphome", CALM, seconds)[0][1])["transition"] == sent


def test_tasmota_brightness_alone_is_a_dimmer_and_never_touches_stored_settings():
    assert payloads("tasmota", LightState(True, 40), 3) == [("cmnd/lamp/Backlog", "Speed2 6; Dimmer 40")]
    for state, seconds in ((CALM, 3), (OFF, 0), (AMBER, 20)):
        assert not any(word in payloads("tasmota", state, seconds)[0][1] for word in ("Fade", "Speed ", "SetOption"))


def test_device_effects_are_refused_in_profiles():
    from room_controller.lighting.profiles import DeviceProfile
    data = CATALOGUE.profiles["zigbee2mqtt"].model_dump(by_alias=True)
    data["command"]["static"] = {"effect": "blink"}
    with pytest.raises(ValueError, match="effects are never sent"):
        DeviceProfile.model_validate(data)


states = st.builds(
    LightState,
    on=st.booleans(),
    brightness=st.floats(0, 100),
    kelvin=st.one_of(st.none(), st.floats(1800, 6500)),
    rgb=st.none(),
) | st.builds(LightState, on=st.just(True), brightness=st.floats(0.1, 100),
              rgb=st.tuples(*[st.integers(0, 255)] * 3))


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(sorted(CATALOGUE.profiles)), state=states, transition=st.floats(0, 7200))
def test_every_profile_encodes_every_state_within_device_ranges(profile, state, transition):
    dev = device(profile)
    caps = dev.profile.capabilities
    messages = encode(dev, state, transition)
    assert messages and all(isinstance(m, MqttMessage) for m in messages)
    text = " ".join(m.payload for m in messages)
    for word in ("effect", "blink", "breathe", "flash", "colorloop"):
        assert word not in text.lower()
    if dev.profile.command.schema_ != "json":
        return
    fields = dev.profile.command.fields
    from room_controller.lighting.encode import lookup
    for m in messages:
        body = json.loads(m.payload)
        for name, check in (("brightness", lambda v: caps.brightness.min_on <= v <= caps.brightness.max),
                            ("color_temp", lambda v: caps.color_temp.min <= v <= caps.color_temp.max)):
            if name in fields:
                try:
                    value = lookup(body, fields[name].path)
                except KeyError:
                    continue
                assert check(value), (name, value)
        if "transition" in fields and caps.transition:
            value = lookup(body, fields["transition"].path)
            scale = PER_SECOND[caps.transition.unit]
            assert caps.transition.min * scale <= value <= caps.transition.max * scale
            assert not caps.transition.integer or isinstance(value, int)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(state=states, transition=st.floats(0, 7200))
def test_tasmota_every_light_command_has_its_own_speed2_and_nothing_stored_changes(state, transition):
    commands = encode(device("tasmota"), state, transition)[0].payload.split("; ")
    assert commands[0::2] and all(c.startswith("Speed2 ") for c in commands[0::2])
    assert all(c.split(" ")[0] in ("Color", "Dimmer", "HSBColor", "Power") for c in commands[1::2])
    speeds = [int(c.split(" ")[1]) for c in commands[0::2]]
    assert all(0 <= s <= 40 for s in speeds) and (min(speeds) > 0) == (round(min(transition, 20) * 2) > 0)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(seconds=st.floats(0, 3600))
def test_esphome_transitions_are_whole_and_never_shorter(seconds):
    sent = json.loads(payloads("esphome", CALM, seconds)[0][1])["transition"]
    assert isinstance(sent, int) and seconds - 1e-6 <= sent < seconds + 1   # (ceil, past float noise)


# -- light types: what each colour mode gets for a white and for a colour (docs/devices.md, "Light types") -----

RED = LightState(on=True, brightness=60, rgb=(255, 60, 0))
TYPES = {   # (profile, color_modes): (calm, a colour)
    ("esphome", None): ('{"state":"ON","brightness":38,"color_temp":455,"transition":3}',
                        '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0},"transition":3}'),
    ("esphome", ("rgb",)): ('{"state":"ON","brightness":38,"color":{"r":255,"g":150,"b":47},"transition":3}',
                            '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0},"transition":3}'),
    ("esphome", ("rgbw",)): ('{"state":"ON","brightness":38,"color":{"r":255,"g":126,"b":0,"w":58},"transition":3}',
                             '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0,"w":0},"transition":3}'),
    ("esphome", ("rgb", "white")): ('{"state":"ON","brightness":38,"color":{"w":255},"transition":3}',
                                    '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0},"transition":3}'),
    ("esphome", ("rgbww",)): ('{"state":"ON","brightness":38,"color":{"r":0,"g":0,"b":0,"c":130,"w":255},'
                              '"transition":3}',
                              '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0,"c":0,"w":0},'
                              '"transition":3}'),
    ("esphome", ("rgbct", "color_temp")): ('{"state":"ON","brightness":38,"color_temp":455,"color":{"r":0,"g":0,'
                                           '"b":0,"w":255},"transition":3}',
                                           '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0,"w":0},'
                                           '"transition":3}'),
    ("homeassistant-json", ("rgbww",)): ('{"state":"ON","brightness":38,"color":{"r":0,"g":0,"b":0,"c":38,"w":255},'
                                         '"transition":3}',
                                         '{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0,"c":0,"w":0},'
                                         '"transition":3}'),
    ("wled", ("rgbw",)): ('{"on":true,"bri":5,"seg":{"col":[[255,126,0,58]]},"tt":30}',
                          '{"on":true,"bri":72,"seg":{"col":[[255,60,0,0]]},"tt":30}'),
}


@pytest.mark.parametrize("profile,modes", sorted(TYPES, key=str))
def test_each_light_type_gets_its_own_channels(profile, modes):
    caps = {"color_modes": list(modes)} if modes else None
    calm, colour = TYPES[(profile, modes)]
    assert payloads(profile, CALM, 3, capabilities=caps)[0][1] == calm
    assert payloads(profile, RED, 3, capabilities=caps)[0][1] == colour


def test_an_rgbw_white_uses_the_white_channel_of_its_own_colour():
    caps = {"color_modes": ["rgbw"], "white_kelvin": 4000}
    out = payloads("wled", FULL_WHITE, 0, capabilities=caps)
    assert out == [("wled/lamp/api", '{"on":true,"bri":255,"seg":{"col":[[0,0,0,255]]},"tt":0}')]


def test_a_strip_with_its_segments_counted_gets_each_by_id():
    out = payloads("wled", CALM, 3, capabilities={"segments": 2})
    assert out == [("wled/lamp/api", '{"on":true,"bri":5,"seg":[{"id":0,"col":[[255,150,47]]},'
                                      '{"id":1,"col":[[255,150,47]]}],"tt":30}')]


def test_a_type_that_needs_a_white_range_or_colour_says_so():
    with pytest.raises(ValueError, match="rgbww needs color_temp"):
        CATALOGUE.resolve("wled", {"color_modes": ["rgbww"]})
    with pytest.raises(ValueError, match="rgbw has colour"):
        CATALOGUE.resolve("esphome", {"color_modes": ["rgbw"], "color": False})


@pytest.mark.parametrize("seconds,sent", [(1234.6, 1235), (2.5, 3)])
def test_homeassistant_json_sends_whole_seconds(seconds, sent):
    assert json.loads(payloads("homeassistant-json", CALM, seconds)[0][1])["transition"] == sent
