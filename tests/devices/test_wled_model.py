"""WLED: the room's fades through the firmware's own behaviour (room_controller/demo/models/wled.py)."""

from __future__ import annotations

import json

import pytest

from room_controller import units
from room_controller.demo.models.wled import Wled
from room_controller.lighting.state import LightState
from tests.devices.fades import allowed_step, run

CALM = LightState(True, 15, 2200)


def test_a_3_s_fade_takes_3_s_smoothly():
    result = run("wled", "shelf", Wled("shelf"), LightState(True, 60, 4000), CALM, 3, sample=0.02)
    assert 3 * 0.85 <= result.reached(15) <= 3 * 1.15
    assert result.max_step() <= allowed_step("wled", 15)   # one bri unit at a time (briT is a byte)


def test_a_30_min_fade_follows_the_eye_without_steps():
    result = run("wled", "shelf", Wled("shelf"), LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
                 sample=0.5, tail=0.02)
    assert 1800 * 0.85 <= result.reached(10) <= 1800 * 1.15
    assert result.max_step() <= allowed_step("wled", 10)   # bri 3 to 4 is 10.4 to 13.0 L*


@pytest.mark.parametrize("duration", [0, 3])
def test_turning_on_never_shows_the_last_level(duration):
    result = run("wled", "shelf", Wled("shelf", bri=255), LightState(False, 0), CALM, duration)
    assert result.highest() <= 15 + 0.5


def test_tt_is_in_tenths_of_a_second_and_wraps_past_655():
    strip = Wled("shelf")
    strip.receive("wled/shelf/api", b'{"on":true,"bri":255,"tt":0}', 0.0)
    strip.receive("wled/shelf/api", b'{"on":true,"bri":1,"tt":30}', 1.0)
    assert strip.shown(2.5).level == pytest.approx(units.luminance_to_lightness(128 / 255), abs=1)
    strip.receive("wled/shelf/api", b'{"on":true,"bri":255,"tt":656}', 10.0)     # 65600 ms: 64 ms in 16 bits
    assert strip.shown(10.1).level == 100


def test_reports_the_target_on_g_and_an_rgbw_colour_on_c():
    strip = Wled("shelf")
    answers = strip.receive("wled/shelf/api", json.dumps({"on": True, "bri": 40, "tt": 20,
                                                          "seg": [{"col": [[255, 120, 0, 30]]}]}).encode(), 0.0)
    assert [(m.topic, m.payload) for _, m in answers] == [("wled/shelf/g", "40"), ("wled/shelf/c", "#1EFF7800")]


# -- multi-segment and RGBW strips --------------------------------------------------------------------------

RED_ORANGE = LightState(True, 60, rgb=(255, 60, 0))
EMERGENCY = LightState(True, 100, 4000)
STRIPS = {   # name: (model, the light's capabilities in the room file)
    "two-segments": (lambda: Wled("shelf", segments=2), {}),
    "two-segments-by-id": (lambda: Wled("shelf", segments=2), {"segments": 2}),
    "rgbw": (lambda: Wled("shelf", rgbw=True, white_kelvin=4000), {"color_modes": ["rgbw"], "white_kelvin": 4000}),
}


def strip(name: str) -> tuple[Wled, dict]:
    make, caps = STRIPS[name]
    return make(), {"capabilities": caps}


def assert_white(name: str, model: Wled, at: float, kelvin: float) -> None:
    """Every segment shows the white asked for; an RGBW strip makes it with its white LEDs."""
    for shown, col in zip(model.segments_shown(at), model.col):
        if name == "rgbw":
            assert col[3] > 0 and col[2] == 0, f"white LEDs dark or a cold tint: {col}"
        else:
            assert shown.rgb == units.kelvin_to_rgb(kelvin), f"a segment left behind: {shown}"


def preset_colour(model: Wled) -> None:
    model.receive("wled/shelf/api", b'{"on":true,"bri":72,"seg":[{"id":0,"col":[[255,60,0,0]]},'
                                    b'{"id":1,"col":[[255,60,0,0]]}],"tt":0}', -5.0)


@pytest.mark.parametrize("name", sorted(STRIPS))
@pytest.mark.parametrize("known", [True, False], ids=["known-start", "unknown-start"])
def test_calm_and_emergency_after_a_colour_scene_reach_every_segment(name, known):
    model, overrides = strip(name)
    if not known:
        preset_colour(model)
    result = run("wled", "shelf", model, RED_ORANGE if known else None, CALM, 3, overrides=overrides)
    assert_white(name, model, 20.0, 2200)
    assert model.shown(20.0).level == pytest.approx(15, abs=allowed_step("wled", 15))
    assert result.highest() <= 60 + 0.5
    run("wled", "shelf", model, RED_ORANGE if known else None, EMERGENCY, 0, overrides=overrides)
    assert_white(name, model, 0.05, 4000)
    if name == "rgbw":   # 4000 K is its white LEDs' own colour: those alone
        assert model.col[0] == (0, 0, 0, 255) and model.shown(0.05).kelvin == 4000


@pytest.mark.parametrize("name", sorted(STRIPS))
def test_a_colour_scene_on_every_segment_and_back_to_white(name):
    model, overrides = strip(name)
    run("wled", "shelf", model, CALM, RED_ORANGE, 3, overrides=overrides)
    assert all(col == (255, 60, 0, 0) for col in model.col), "a segment or the white LEDs left behind"
    run("wled", "shelf", model, RED_ORANGE, CALM, 3, overrides=overrides)
    assert_white(name, model, 20.0, 2200)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STRIPS))
def test_fades_of_3_s_and_30_min_on_every_strip(name):
    model, overrides = strip(name)
    result = run("wled", "shelf", model, LightState(True, 60, 4000), CALM, 3, sample=0.02, overrides=overrides)
    assert 3 * 0.85 <= result.reached(15) <= 3 * 1.15 and result.max_step() <= allowed_step("wled", 15)
    model, overrides = strip(name)
    result = run("wled", "shelf", model, LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
                 sample=0.5, tail=0.02, overrides=overrides)
    assert 1800 * 0.85 <= result.reached(10) <= 1800 * 1.15 and result.max_step() <= allowed_step("wled", 10)
    assert_white(name, model, 1900.0, 2200)


def test_an_array_of_one_changes_the_first_segment_only():
    """What the room sent before (the issue's point 3): "seg":[{...}] is segment 0's (json.cpp 483-486)."""
    model = Wled("shelf", segments=2)
    model.receive("wled/shelf/api", b'{"on":true,"bri":255,"seg":[{"col":[[255,60,0]]}],"tt":0}', 0.0)
    assert model.col == [(255, 60, 0, 0), (255, 160, 80, 0)]


def test_a_deselected_segment_is_reached_only_by_its_id():
    model = Wled("shelf", segments=2)
    model.selected[1] = False     # unticked in WLED's app
    run("wled", "shelf", model, RED_ORANGE, CALM, 0)
    assert model.col[1] == (255, 160, 80, 0)        # the object form never reached it
    model = Wled("shelf", segments=2)
    model.selected[1] = False
    run("wled", "shelf", model, RED_ORANGE, CALM, 0, overrides={"capabilities": {"segments": 2}})
    assert_white("two-segments-by-id", model, 1.0, 2200)


def test_an_rgb_colour_alone_leaves_rgbw_white_leds_dark():
    """What the room sent before (the issue's point 4): [r,g,b] sets the white channel to 0 (json.cpp 249)."""
    model = Wled("shelf", rgbw=True)
    model.receive("wled/shelf/api", b'{"on":true,"bri":5,"seg":{"col":[[255,150,47]]},"tt":0}', 0.0)
    assert model.col[0][3] == 0
