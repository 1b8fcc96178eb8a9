"""ESPHome: the room's fades through ESPHome's own JSON reading (room_controller/demo/models/esphome.py)."""

from __future__ import annotations

import json

import pytest

from room_controller import units
from room_controller.demo.models.esphome import EspHome
from room_controller.lighting.state import LightState
from tests.devices.fades import run

CALM = LightState(True, 15, 2200)
TOPIC = "esp/light/reading"


def test_a_3_s_fade_takes_3_s_smoothly():
    result = run("esphome", TOPIC, EspHome(TOPIC), LightState(True, 60, 4000), CALM, 3)
    assert 3 * 0.85 <= result.reached(15) <= 3 * 1.15
    assert result.max_step() <= 2


@pytest.mark.slow
def test_a_30_min_fade_is_one_whole_second_transition():
    result = run("esphome", TOPIC, EspHome(TOPIC), LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
                 sample=0.5, tail=0.02)
    assert 1800 * 0.85 <= result.reached(10) <= 1800 * 1.15
    assert result.max_step() <= 2


@pytest.mark.parametrize("duration", [0, 2.5, 7.25])
def test_a_fractional_transition_is_never_sent(duration):
    result = run("esphome", TOPIC, EspHome(TOPIC, default_transition=30), LightState(True, 60, 4000), CALM,
                 duration)
    sent = [json.loads(m.payload)["transition"] for _, m in result.sent]
    assert sent and all(isinstance(t, int) and t >= duration for t in sent)
    assert result.reached(15) <= max(0.1, duration + 1)    # the device never fell back to its 30 s default


def test_a_fraction_would_have_been_ignored():
    """The firmware's reading, not our encoder: 2.5 is not is<uint16_t>, the default transition is used."""
    light = EspHome(TOPIC, default_transition=1.0)
    light.receive(f"{TOPIC}/command", b'{"state":"ON","brightness":255,"transition":0}', 0.0)
    light.receive(f"{TOPIC}/command", b'{"state":"ON","brightness":25,"transition":2.5}', 10.0)
    assert light.shown(11.0).level == pytest.approx(25 / 255 * 100)


def test_turning_on_starts_dark():
    result = run("esphome", TOPIC, EspHome(TOPIC), LightState(False, 0), CALM, 3)
    assert result.highest() <= 15 + 0.5


def test_reports_an_empty_colour_in_white_mode():
    light = EspHome(TOPIC)
    (_, report), = light.receive(f"{TOPIC}/command", b'{"state":"ON","brightness":38,"color_temp":455}', 0.0)
    assert json.loads(report.payload) == {"color_mode": "color_temp", "state": "ON", "brightness": 38, "color": {},
                                          "color_temp": 455}


# -- every light type: the platforms with and without color_interlock, as the room file names them -----------

RED_ORANGE = LightState(True, 60, rgb=(255, 60, 0))
EMERGENCY = LightState(True, 100, 4000)
LAMPS = {   # name: (platform, color_interlock, the light's color_modes; None: the family's [color_temp, rgb])
    "rgb": ("rgb", False, ["rgb"]),
    "rgbw": ("rgbw", False, ["rgbw"]),
    "rgbw-interlock": ("rgbw", True, ["rgb", "white"]),
    "rgbww": ("rgbww", False, ["rgbww"]),
    "rgbww-interlock": ("rgbww", True, None),
    "rgbct": ("rgbct", False, ["rgbct", "color_temp"]),
    "rgbct-interlock": ("rgbct", True, None),
}
MIXING = {"rgbw", "rgbww", "rgbct"}      # colour and white lit together: one mode, a crossfade
WHITE_LED = 4000                          # the models' RGBW white LED


def lamp(name: str, **kw) -> tuple[EspHome, dict]:
    platform, interlock, modes = LAMPS[name]
    caps = {"color_modes": modes} if modes else {}
    if platform == "rgbw":
        caps["white_kelvin"] = WHITE_LED
    return EspHome(TOPIC, platform=platform, interlock=interlock, **kw), {"capabilities": caps}


def assert_white(name: str, light: EspHome, at: float, kelvin: float, level: float) -> None:
    """The white asked for, and no colour left: only the white LEDs lit where the lamp has them (an RGBW lamp
    tints its one white with the colour LEDs), the colour of that white where it has none."""
    shown, out = light.shown(at), light.outputs(at)
    assert shown.level == pytest.approx(level, abs=0.5)
    if name == "rgb":     # its colour LEDs set to the white's colour (ESPHome then applies its gamma to each)
        v = light.values(at)
        assert [round(c * v.color_brightness * 255) for c in (v.red, v.green, v.blue)] == list(
            units.kelvin_to_rgb(kelvin))
    elif name == "rgbw":  # its white LED lit, tinted towards the white asked for by the colour LEDs
        assert out["white"] > 0 and out["blue"] == 0
    elif name == "rgbw-interlock":
        assert shown.rgb is None and shown.kelvin == pytest.approx(WHITE_LED)   # its white LED alone
    else:
        assert shown.rgb is None, f"{name} still shows {shown.rgb}: colour left"
        assert units.kelvin_to_mired(shown.kelvin) == pytest.approx(units.kelvin_to_mired(kelvin), abs=3)


def preset_colour(light: EspHome) -> None:
    """The lamp showing a colour scene the room was not told of (set from elsewhere, before a restart)."""
    light.receive(f"{TOPIC}/command", b'{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0},'
                                      b'"transition":0}', -5.0)
    assert light.shown(0.0).rgb is not None


def from_colour(name: str, known: bool, target, seconds: float):
    """The lamp showing a colour scene, told by the room (known) or set before the room was heard (unknown),
    then `target` over `seconds`: the lamp and the run."""
    light, overrides = lamp(name)
    if not known:
        preset_colour(light)
    return light, run("esphome", TOPIC, light, RED_ORANGE if known else None, target, seconds, overrides=overrides)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAMPS))
@pytest.mark.parametrize("known", [True, False], ids=["known-start", "unknown-start"])
def test_calm_after_a_colour_scene_leaves_no_colour(name, known):
    light, result = from_colour(name, known, CALM, 3)
    assert_white(name, light, 20.0, 2200, 15)
    assert result.highest() <= 60 + 0.5
    if known and LAMPS[name][2] != ["rgb", "white"] and (name in MIXING or name == "rgb"):
        assert result.max_step() <= 2      # one mode: a crossfade, no jump


@pytest.mark.parametrize("name", sorted(LAMPS))
@pytest.mark.parametrize("known", [True, False], ids=["known-start", "unknown-start"])
def test_emergency_is_full_white_at_once_from_a_colour(name, known):
    light, _ = from_colour(name, known, EMERGENCY, 0)
    assert_white(name, light, 0.05, 4000, 100)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAMPS))
def test_a_colour_scene_and_back_to_white(name):
    light, overrides = lamp(name)
    result = run("esphome", TOPIC, light, CALM, RED_ORANGE, 3, overrides=overrides)
    shown, out, v = light.shown(20.0), light.outputs(20.0), light.values(20.0)
    assert [round(c * v.color_brightness * 255) for c in (v.red, v.green, v.blue)] == [255, 60, 0]
    assert shown.rgb is not None and shown.level == pytest.approx(60, abs=0.5)
    assert out["cold"] == out["warm"] == out["white"] == 0, "a white channel left under the colour"
    if name in MIXING:
        assert result.max_step() <= 2
    run("esphome", TOPIC, light, RED_ORANGE, CALM, 3, overrides=overrides)
    assert_white(name, light, 20.0, 2200, 15)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAMPS))
def test_fades_of_3_s_and_30_min_on_every_type(name):
    light, overrides = lamp(name)
    result = run("esphome", TOPIC, light, LightState(True, 60, 4000), CALM, 3, overrides=overrides)
    assert 3 * 0.85 <= result.reached(15) <= 3 * 1.15 and result.max_step() <= 2
    light, overrides = lamp(name)
    result = run("esphome", TOPIC, light, LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
                 sample=1.0, tail=0.02, overrides=overrides)
    assert 1800 * 0.85 <= result.reached(10) <= 1800 * 1.15 and result.max_step() <= 2
    assert_white(name, light, 1900.0, 2200, 10)


@pytest.mark.parametrize("shown_white", [False, True], ids=["esphome-2024.5+", "esphome-2024.4"])
def test_a_colour_temperature_alone_leaves_an_rgbww_lamp_coloured(shown_white):
    """What the room sent before (the issue's point 1), through the firmware: the colour channels stay lit."""
    light = EspHome(TOPIC, platform="rgbww", interlock=False, cwww_from_shown_white=shown_white)
    light.receive(f"{TOPIC}/command", b'{"state":"ON","brightness":153,"color":{"r":255,"g":60,"b":0,"c":0,'
                                      b'"w":0},"transition":0}', 0.0)
    light.receive(f"{TOPIC}/command", b'{"state":"ON","brightness":38,"color_temp":455,"transition":0}', 1.0)
    assert light.outputs(2.0)["red"] > 0 and light.shown(2.0).rgb is not None


@pytest.mark.parametrize("shown_white", [False, True], ids=["esphome-2024.5+", "esphome-2024.4"])
def test_rgbww_calm_is_the_same_on_older_esphome(shown_white):
    light = EspHome(TOPIC, platform="rgbww", interlock=False, cwww_from_shown_white=shown_white)
    run("esphome", TOPIC, light, RED_ORANGE, CALM, 3, overrides={"capabilities": {"color_modes": ["rgbww"]}})
    assert_white("rgbww", light, 20.0, 2200, 15)


@pytest.mark.slow
@pytest.mark.parametrize("duration", [2.5, 1234.6])
def test_homeassistant_json_family_sends_esphome_whole_seconds(duration):
    """A resumed fade's remainder is a fraction: the homeassistant-json family rounds it up as well."""
    result = run("homeassistant-json", TOPIC, EspHome(TOPIC, default_transition=30), LightState(True, 60, 4000),
                 CALM, duration, sample=0.5 if duration > 100 else 0.05, tail=0.02)
    sent = [json.loads(m.payload)["transition"] for _, m in result.sent]
    assert sent and all(isinstance(t, int) and t >= duration for t in sent)
    assert result.reached(15) <= duration + 1
