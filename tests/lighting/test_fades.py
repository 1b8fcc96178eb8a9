"""The fade planner's promises, for every device family: monotonic, bounded rate, exact end, device limits."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from room_controller import units
from room_controller.lighting import fades
from room_controller.lighting.profiles import Catalogue
from room_controller.lighting.state import LightState

CATALOGUE = Catalogue.load()
PROFILES = sorted(CATALOGUE.profiles)

whites = st.builds(LightState, on=st.booleans(), brightness=st.floats(0, 100), kelvin=st.floats(1800, 6500))


def _b(state: LightState) -> float:
    return state.brightness if state.lit else 0.0


@settings(max_examples=400, deadline=None)
@given(profile=st.sampled_from(PROFILES), start=whites, target=whites, duration=st.floats(0, 7200),
       rate=st.sampled_from([0.5, 1.0, 2.0, 5.0]))
def test_plan_properties(profile, start, target, duration, rate):
    prof = CATALOGUE.profiles[profile]
    steps = fades.plan(prof, start, target, duration, rate)
    assert steps, "a plan always has at least one step"
    # reaches the target exactly, and at the planned end
    assert steps[-1].state == target
    assert math.isclose(steps[-1].at + steps[-1].transition, duration, abs_tol=1e-6) or duration == 0 \
        or start == target
    # bounded rate: consecutive commands no closer than 1/rate (a single command is always allowed)
    times = [s.at for s in steps]
    assert times == sorted(times)
    for a, b in zip(times, times[1:]):
        assert b - a >= 1 / rate - 1e-6
    # respects the device's native limit
    native = prof.capabilities.transition
    for s in steps:
        if native is None:
            assert s.transition == 0
        else:
            assert s.transition <= native.max + 1e-6
    # monotonic: brightness and white each move one way only
    bs = [_b(start)] + [_b(s.state) for s in steps]
    assert bs == sorted(bs) or bs == sorted(bs, reverse=True)
    mireds = [units.kelvin_to_mired(s.state.kelvin) for s in steps if s.state.kelvin is not None]
    assert mireds == sorted(mireds) or mireds == sorted(mireds, reverse=True)


@settings(max_examples=200, deadline=None)
@given(start=whites, target=whites, duration=st.floats(30, 7200))
def test_software_steps_are_imperceptibly_small_when_the_rate_allows(start, target, duration):
    prof = CATALOGUE.profiles["template-per-topic"]  # no native fades
    steps = fades.plan(prof, start, target, duration, 2.0)
    needed = abs(_b(target) - _b(start)) / fades.BRIGHTNESS_STEP
    assume(math.ceil(needed) <= math.floor(duration * 2))
    bs = [_b(start)] + [_b(s.state) for s in steps]
    assert max(abs(a - b) for a, b in zip(bs, bs[1:])) <= fades.BRIGHTNESS_STEP + 1e-6


def test_native_device_fades_in_one_command_within_its_limit():
    steps = fades.plan(CATALOGUE.profiles["zigbee2mqtt"], LightState(True, 60, 4000), LightState(True, 15, 2200), 120)
    assert steps == [fades.Step(0.0, LightState(True, 15, 2200), 120.0)]


def test_long_fade_on_a_short_native_limit_is_a_chain_of_native_chunks():
    steps = fades.plan(CATALOGUE.profiles["tasmota"], LightState(True, 60, 4000), LightState(True, 15, 2200), 120)
    assert [s.at for s in steps] == [0, 20, 40, 60, 80, 100]
    assert all(s.transition == 20 for s in steps)


def test_linear_light_device_follows_the_perceptual_curve_in_chunks():
    steps = fades.plan(CATALOGUE.profiles["wled"], LightState(True, 80, 2700), LightState(True, 10, 2700), 60)
    assert len(steps) == 12
    assert [round(s.state.brightness, 3) for s in steps[:2]] == [round(80 - 70 / 12, 3), round(80 - 140 / 12, 3)]


def test_fade_from_off_comes_on_low_and_fade_to_off_ends_off():
    prof = CATALOGUE.profiles["template-per-topic"]
    up = fades.plan(prof, LightState(False, 0), LightState(True, 30, 2700), 60)
    assert up[0].state.on and up[0].state.brightness < 1
    down = fades.plan(prof, LightState(True, 30, 2700), LightState(False, 0, 2700), 60)
    assert down[-1].state.lit is False and all(s.state.lit for s in down[:-1])


def test_interpolation_of_white_to_colour_goes_through_rgb():
    mid = fades.interpolate(LightState(True, 50, 2700), LightState(True, 50, rgb=(0, 0, 255)), 0.5)
    assert mid.rgb is not None and mid.kelvin is None
