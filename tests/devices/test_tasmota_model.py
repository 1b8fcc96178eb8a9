"""Tasmota: the room's fades through the firmware's own behaviour (room_controller/demo/models/tasmota.py)."""

from __future__ import annotations

import pytest

from room_controller.demo.models.tasmota import Tasmota, gamma_reverse_fast
from room_controller.lighting.state import LightState
from tests.devices.fades import run

CALM = LightState(True, 15, 2200)
BRIGHT = LightState(True, 60, 4000)
OFF = LightState(False, 0)


def lamp(**settings) -> Tasmota:
    return Tasmota("lamp", **settings)


@pytest.mark.parametrize("stored_fade", [False, True])
def test_a_3_s_fade_takes_3_s_smoothly(stored_fade):
    result = run("tasmota", "lamp", lamp(fade=stored_fade, speed=1), BRIGHT, CALM, 3)
    assert 3 * 0.85 <= result.reached(15) <= 3 * 1.15
    assert result.max_step() <= 2
    assert result.samples[-1][1].kelvin == pytest.approx(2200, abs=30)


def test_a_30_min_fade_is_a_chain_that_joins_smoothly():
    result = run("tasmota", "lamp", lamp(), LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
                 sample=0.5, tail=0.02)
    assert 1800 * 0.85 <= result.reached(10) <= 1800 * 1.15
    assert result.max_step(after=1) <= 2
    # no stairs: with SetOption117 every 20 s link moves its share over the whole link
    assert result.max_step(after=1) < 0.2


def test_without_setoption117_long_fades_are_stairs():
    """Why the profile's setup message is needed: a fade's time is otherwise Speed x the distance."""
    device = lamp()
    result = run("tasmota", "lamp", device, LightState(True, 80, 3000), LightState(True, 10, 2200), 600,
                 sample=0.5, tail=0.02, overrides={})
    device_without = lamp()
    device_without.receive = _dropping_setoption117(device_without.receive)
    stairs = run("tasmota", "lamp", device_without, LightState(True, 80, 3000), LightState(True, 10, 2200), 600,
                 sample=0.5, tail=0.02)
    assert result.max_step(after=1) < 0.2 <= stairs.max_step(after=1)


def _dropping_setoption117(receive):
    def without(topic, payload, at):
        return [] if topic.endswith("SetOption117") else receive(topic, payload, at)
    return without


@pytest.mark.parametrize("stored_dimmer", [50, 100])
@pytest.mark.parametrize("duration", [0, 3])
def test_turning_on_never_shows_the_stored_level(stored_dimmer, duration):
    result = run("tasmota", "lamp", lamp(dimmer=stored_dimmer, fade=True, speed=10), OFF, CALM, duration)
    assert result.highest() <= 15 + 0.01
    assert result.reached(15, 0.01) <= max(0.5, duration * 1.15)


def test_instant_is_instant_with_the_stored_fade_on():
    result = run("tasmota", "lamp", lamp(fade=True, speed=40), BRIGHT, LightState(True, 100, 4000), 0)
    assert result.reached(100, 0.01) <= 0.3           # the Backlog's first light command, at 200 ms


def test_turning_off_fades_and_leaves_the_stored_settings():
    device = lamp(fade=False, speed=3)
    result = run("tasmota", "lamp", device, CALM, OFF, 3)
    assert 3 * 0.85 <= result.reached(0, 0.01) <= 3 * 1.15
    assert result.max_step() <= 2
    assert (device.settings["Fade"], device.settings["Speed"]) == (False, 3)
    assert not any("Fade" in m.payload or "Speed " in m.payload for _, m in result.sent)


def test_the_old_payload_ended_early_as_issue_12_says():
    """The firmware behaviour the model holds, not our encoder: `Fade 1; Speed2 6; CT 455; Dimmer 15`."""
    device = lamp(setoption117=True, speed=1)
    device.receive("cmnd/lamp/Backlog", b"Dimmer 60; CT 250", 0.0)
    device.receive("cmnd/lamp/Backlog", b"Fade 1; Speed2 6; CT 455; Dimmer 15", 10.0)
    levels = [(t / 20, device.shown(10 + t / 20).level) for t in range(0, 80)]
    ended = next(t for t, level in levels if abs(level - 15) < 0.01)
    assert ended < 1.5 and device.settings["Fade"] is True


def test_the_first_second_of_a_fade_runs_ahead_through_the_fast_gamma_table():
    assert [gamma_reverse_fast(v) for v in (0, 96, 192, 384, 576, 1023, 5000)] == [0, 192, 384, 576, 768, 1023,
                                                                                   5000]


def test_reports_use_power1_on_a_multi_relay_device():
    device = Tasmota("lamp", power_key="POWER1")
    device.receive("cmnd/lamp/Backlog", b"Speed2 0; White 20", 0.0)
    answers = device.poll(1.0)
    assert '"POWER1":"ON"' in answers[-1][1].payload and '"White":20' in answers[-1][1].payload
