"""The fade planner's promises, for every device family: monotonic, bounded rate, exact end, device limits."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from room_controller import units
from room_controller.lighting import fades
from room_controller.lighting.encode import brightness_value
from room_controller.lighting.profiles import Catalogue
from room_controller.lighting.state import LightState

CATALOGUE = Catalogue.load()
PROFILES = sorted(CATALOGUE.profiles)
# A Zigbee bulb its bridge has described as no IKEA bulb: brightness and colour in one transition. Until then
# the family plans as for an IKEA bulb (below, and tests/devices/test_zigbee_converters.py).
HUE = CATALOGUE.resolve("zigbee2mqtt", None, {"fade_one_property": False})


def _as_described(name: str):
    return HUE if name == "zigbee2mqtt" else CATALOGUE.profiles[name]

whites = st.builds(LightState, on=st.booleans(), brightness=st.floats(0, 100), kelvin=st.floats(1800, 6500))


def _b(state: LightState) -> float:
    return state.brightness if state.lit else 0.0


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(profile=st.sampled_from(PROFILES), start=whites, target=whites, duration=st.floats(0, 7200),
       rate=st.sampled_from([0.5, 1.0, 2.0, 5.0]))
def test_plan_properties(profile, start, target, duration, rate):
    prof = _as_described(profile)
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


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(start=whites, target=whites, duration=st.floats(30, 7200))
def test_software_steps_are_imperceptibly_small_when_the_rate_allows(start, target, duration):
    prof = CATALOGUE.profiles["template-per-topic"]  # no native fades
    steps = fades.plan(prof, start, target, duration, 2.0)
    needed = abs(_b(target) - _b(start)) / fades.BRIGHTNESS_STEP
    assume(math.ceil(needed) <= math.floor(duration * 2))
    bs = [_b(start)] + [_b(s.state) for s in steps]
    assert max(abs(a - b) for a, b in zip(bs, bs[1:])) <= fades.BRIGHTNESS_STEP + 1e-6


@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(PROFILES), a=whites, b=whites, target=whites,
       duration=st.one_of(st.floats(0, 30), st.floats(0, 7200)), rate=st.sampled_from([0.5, 1.0, 2.0, 5.0]))
def test_a_plan_from_anywhere_is_the_same_one_command_from_every_start(profile, a, b, target, duration, rate):
    """What lets calm made ahead hold while a light fades (core/prepared.py): where `from_anywhere` says so,
    the plan from any two starts (but the target itself) is the target in one native command."""
    prof = _as_described(profile)
    assume(fades.from_anywhere(prof, target, duration, rate) and target not in (a, b))
    assert fades.plan(prof, a, target, duration, rate) == fades.plan(prof, b, target, duration, rate) \
        == [fades.Step(0.0, target, duration)]


@pytest.mark.parametrize(("profile", "duration", "anywhere"), [
    ("hue", 3.0, True), ("tasmota", 3.0, True), ("tasmota", 120.0, False), ("wled", 3.0, True),
    ("wled", 20.0, False), ("template-per-topic", 3.0, False), ("zigbee2mqtt", 3.0, False), ("hue", 0.0, False)])
def test_which_plans_hold_from_anywhere(profile, duration, anywhere):
    """Calm's 3 s: one command wherever the light is, but for a bulb that takes one property at a time
    (IKEA), a device without native fades and a chain of native chunks."""
    prof = HUE if profile == "hue" else CATALOGUE.profiles[profile]
    assert fades.from_anywhere(prof, LightState(True, 15, 2200), duration) is anywhere


def test_native_device_fades_in_one_command_within_its_limit():
    steps = fades.plan(HUE, LightState(True, 60, 4000), LightState(True, 15, 2200), 120)
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


# -- bulbs that run one transition at a time (IKEA) --------------------------------------------------------------

IKEA_WS = CATALOGUE.resolve("zigbee2mqtt", {"color": False, "color_temp": {"min": 250, "max": 454}},
                            {"fade_one_property": True, "color_fade_max": 5})
IKEA_CWS = CATALOGUE.resolve("zigbee2mqtt", {"color_temp": {"min": 250, "max": 454}},
                             {"fade_one_property": True, "color_fade_max": 5})


def _moves_colour(step: fades.Step) -> bool:
    return step.state.kelvin is not None or step.state.rgb is not None


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(profile=st.sampled_from([IKEA_WS, IKEA_CWS]), start=whites, target=whites, duration=st.floats(0.01, 7200))
def test_one_transition_at_a_time_plan_properties(profile, start, target, duration):
    assume(start != target)
    steps = fades.plan(profile, start, target, duration)
    # the whole target last, at once, once any colour transition this bulb could be busy with has ended
    assert steps[-1].state == target and steps[-1].transition == 0
    assert steps[-1].at >= max(duration, fades.COLOUR_SEGMENT)
    # each command after the last one's transition has ended, with quiet after a colour transition
    for a, b in zip(steps, steps[1:]):
        quiet = fades.GAP if _moves_colour(a) and a.transition else 0.0
        assert b.at >= a.at + a.transition + quiet - 1e-6 or b is steps[-1] and b.at >= a.at + a.transition - 1e-6
    fading = [s for s in steps if s.transition > 0]
    if duration >= fades.SPLIT_MIN:
        # brightness commands leave the colour as it is; colour transitions are short
        for s in fading:
            assert not _moves_colour(s) or s.transition <= min(fades.COLOUR_SEGMENT, 5) + 1e-6
        # the last transition ends at the time asked, and not before 85 % of it while brightness moves to the end
        if fading:
            end = max(s.at + s.transition for s in fading)
            assert end <= duration + fades.TICK / 2 + 1e-6   # on the 0.1 s grid
            links = math.ceil(duration / fades.COLOUR_LINK)
            if abs(brightness_value(profile, _b(start)) - brightness_value(profile, _b(target))) >= 2 * links:
                assert end >= duration * 0.85 - fades.TICK


def test_ikea_calm_dims_then_warms_and_says_it_all_again():
    steps = fades.plan(IKEA_WS, LightState(True, 60, 4000), LightState(True, 15, 2200), 3)
    assert steps == [fades.Step(0.0, LightState(True, 15), 2.3),
                     fades.Step(2.3, LightState(True, 15, 2200), 0.7),
                     fades.Step(3.3, LightState(True, 15, 2200), 0.0)]


def test_ikea_turn_on_sets_the_white_at_the_lowest_level_then_fades_brightness_alone():
    steps = fades.plan(IKEA_WS, LightState(False, 0, 4000), LightState(True, 60, 2700), 3)
    assert steps[0].transition == 0 and steps[0].state.kelvin == 2700 and steps[0].state.brightness < 0.01
    assert steps[1] == fades.Step(0.1, LightState(True, 60), 2.9)


def test_a_light_never_heard_from_gets_one_command_within_what_it_fades_natively():
    ikea = CATALOGUE.resolve("zigbee2mqtt", None, {"fade_one_property": True, "color_fade_max": 2})
    tasmota = CATALOGUE.resolve("tasmota", None, None)
    target = LightState(brightness=15, kelvin=2200)
    assert fades.plan_unknown(tasmota, target, 1800) == [fades.Step(0.0, target, tasmota.capabilities.transition.max)]
    assert fades.plan_unknown(HUE, target, 3) == [fades.Step(0.0, target, 3)]
    assert fades.plan_unknown(HUE, target, 0) == [fades.Step(0.0, target, 0.0)]
    assert fades.plan_unknown(HUE, LightState(on=False, brightness=0), 5) == [
        fades.Step(0.0, LightState(on=False, brightness=0), 5)]
    # issue 24 (5): one transition at a time (an IKEA bulb, or a Zigbee bulb not described yet), never brightness
    # and colour in one: brightness alone, the colour at the brightness now known, then the target once more
    level = LightState(brightness=15)
    assert fades.plan_unknown(ikea, target, 1800) == [fades.Step(0.0, level, 1797.7), fades.Step(1797.7, target, 2.0),
                                                      fades.Step(1800.3, target, 0.0)]
    for bulb in (ikea, CATALOGUE.profiles["zigbee2mqtt"]):
        assert fades.plan_unknown(bulb, target, 3) == [fades.Step(0.0, level, 2.0), fades.Step(2.0, target, 0.7),
                                                       fades.Step(3.3, target, 0.0)]
        # too short to take in turn, and an instant change: at once, and again once a colour step would be over
        assert fades.plan_unknown(bulb, target, 0.5) == fades.plan_unknown(bulb, target, 0) == [
            fades.Step(0.0, target, 0.0), fades.Step(2.3, target, 0.0)]
        assert fades.plan_unknown(bulb, level, 3) == [fades.Step(0.0, level, 3)]   # brightness alone: one fade


def test_an_instant_change_reaches_a_bulb_that_ignored_it_during_a_colour_step():
    """Issue 24 (6): emergency during an IKEA bulb's colour transition, without Zigbee2MQTT's unfreeze."""
    full = LightState(brightness=100, kelvin=4000)
    assert fades.plan(IKEA_WS, LightState(True, 15, 2200), full, 0) == [fades.Step(0.0, full, 0.0),
                                                                       fades.Step(2.3, full, 0.0)]
    assert fades.plan(HUE, LightState(True, 15, 2200), full, 0) == [fades.Step(0.0, full, 0.0)]
