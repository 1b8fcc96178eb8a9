"""ESPHome: the room's fades through ESPHome's own JSON reading (room_controller/demo/models/esphome.py)."""

from __future__ import annotations

import json

import pytest

from room_controller.demo.models.esphome import EspHome
from room_controller.lighting.state import LightState
from tests.devices.fades import run

CALM = LightState(True, 15, 2200)
TOPIC = "esp/light/reading"


def test_a_3_s_fade_takes_3_s_smoothly():
    result = run("esphome", TOPIC, EspHome(TOPIC), LightState(True, 60, 4000), CALM, 3)
    assert 3 * 0.85 <= result.reached(15) <= 3 * 1.15
    assert result.max_step() <= 2


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
