"""Shelly: the room's fades through the documented behaviour (room_controller/demo/models/shelly.py)."""

from __future__ import annotations

import json

import pytest

from room_controller.demo.models.shelly import ShellyGen2, ShellyRgbw2
from room_controller.lighting.state import LightState
from tests.devices.fades import allowed_step, run

CALM = LightState(True, 15, 2200)
BRIGHT = LightState(True, 60, 4000)


def gen2(rgbw: bool = False) -> ShellyGen2:
    return ShellyGen2("dimmer", rgbw=rgbw)


@pytest.mark.slow
@pytest.mark.parametrize("profile,rgbw", [("shelly-gen2", False), ("shelly-gen2-rgbw", True)])
def test_gen2_3_s_and_30_min_fades(profile, rgbw):
    short = run(profile, "dimmer", gen2(rgbw), BRIGHT, CALM, 3, sample=0.02)
    target = short.samples[-1][1].level
    assert 3 * 0.85 <= short.reached(target, 0.01) <= 3 * 1.15 and short.max_step() <= 2
    long = run(profile, "dimmer", gen2(rgbw), LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
               sample=0.5, tail=0.02)
    assert 1800 * 0.85 <= long.reached(long.samples[-1][1].level, 0.01) <= 1800 * 1.15
    assert long.max_step() <= allowed_step(profile, 10)


@pytest.mark.parametrize("state", [LightState(True, 100, 4000), LightState(False, 0)])
def test_gen2_instant_is_the_shortest_transition_it_takes(state):
    result = run("shelly-gen2", "dimmer", gen2(), BRIGHT, state, 0)
    (_, message), = result.sent
    assert json.loads(message.payload)["params"]["transition_duration"] == 0.5
    assert result.reached(result.samples[-1][1].level, 0.01) <= 0.5


def test_gen2_refuses_a_transition_below_half_a_second():
    light = gen2()
    (_, reply), = light.receive("dimmer/rpc", b'{"id":1,"src":"room","method":"Light.Set",'
                                             b'"params":{"id":0,"on":true,"transition_duration":0}}', 0.0)
    assert reply.topic == "room/rpc" and "error" in json.loads(reply.payload)
    assert light.shown(1.0).on is False


@pytest.mark.slow
@pytest.mark.parametrize("honours", [False, True])
def test_gen1_rgbw2_fades_in_small_steps_whether_or_not_it_honours_transition(honours):
    """Unverified over MQTT: the room sends no `transition` and steps the fade itself."""
    long = run("shelly-rgbw2", "rgbw2", ShellyRgbw2("rgbw2", honours_transition=honours),
               LightState(True, 80, 3000), LightState(True, 10, 2200), 1800, sample=0.5, tail=0.02)
    assert 1800 * 0.85 <= long.reached(long.samples[-1][1].level, 0.6) <= 1800 * 1.15
    assert long.max_step() <= allowed_step("shelly-rgbw2", 10)   # gain 2 % to 1 %: 15.5 to 9 L*
    assert all("transition" not in m.payload for _, m in long.sent)
    short = run("shelly-rgbw2", "rgbw2", ShellyRgbw2("rgbw2", honours_transition=honours), BRIGHT, CALM, 3)
    assert 3 * 0.85 <= short.reached(short.samples[-1][1].level, 0.01) <= 3 * 1.15
    levels = [BRIGHT.brightness] + short.levels()
    assert levels == sorted(levels, reverse=True)     # down only: a 3 s fade at 2 steps a second, never back up


def test_gen1_turning_on_never_shows_the_last_gain():
    result = run("shelly-rgbw2", "rgbw2", ShellyRgbw2("rgbw2"), LightState(False, 0), CALM, 3)
    assert result.highest() <= result.samples[-1][1].level + 0.01
