"""Properties of the fade and ramp arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from room_controller.audio import ramps

unit = st.floats(0, 1)
volume = st.floats(0, 100)


@given(unit)
def test_crossfade_keeps_the_power_constant(p):
    out_gain, in_gain = ramps.crossfade_gains(p)
    assert out_gain ** 2 + in_gain ** 2 == pytest.approx(1.0)


@given(volume, unit, volume)
def test_volume_for_follows_the_cubic_law_and_the_cap(level, gain, max_volume):
    v = ramps.volume_for(level, gain, max_volume)
    assert 0 <= v <= max_volume
    if level <= max_volume:
        assert ramps.amplitude(v) == pytest.approx(ramps.amplitude(level) * gain, abs=1e-9)


@given(unit, unit, st.floats(0.1, 30), unit)
def test_a_fade_moves_monotonically_between_its_ends(start, end, duration, p):
    fade = ramps.Fade(start, end, 10.0, duration)
    assert fade.gain(10.0) == pytest.approx(start)
    assert fade.gain(10.0 + duration) == pytest.approx(end)
    g = fade.gain(10.0 + p * duration)
    assert min(start, end) - 1e-9 <= g <= max(start, end) + 1e-9


@pytest.mark.slow
@given(volume, volume, volume, st.floats(0.5, 50), st.floats(0.1, 10), unit)
def test_a_ramp_never_rises_faster_than_allowed_nor_above_the_cap(current, target, cap, rate, fade_out, p):
    ramp = ramps.plan_ramp(current, target, 0.0, cap, rate, fade_out)
    assert ramp.target == min(target, cap)
    t = p * ramp.duration
    if ramp.target > current:
        assert ramp.at(t) - current <= rate * t + 1e-6
    assert ramp.at(ramp.duration + 1) == ramp.target
