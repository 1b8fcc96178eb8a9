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
