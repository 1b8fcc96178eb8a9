"""Whose level the room plays at (audio.volume), for any order of what the phase, presets and therapist do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from room_controller.audio.volume import Volume

level = st.floats(0, 100)
maybe = st.none() | level
# what can happen to the room's volume, in any order: (method, argument)
acts = st.lists(st.one_of(st.tuples(st.just("chosen"), level), st.tuples(st.just("following_phase"), st.none()),
                          st.tuples(st.just("phase_asks"), maybe), st.tuples(st.just("held"), maybe),
                          st.tuples(st.just("released"), st.none())), max_size=12)


def run(volume: Volume, steps) -> Volume:
    for method, arg in steps:
        args = () if method in ("following_phase", "released") else (arg,)
        volume = getattr(volume, method)(*args)
    return volume


@pytest.mark.slow
@given(level, acts, level, st.lists(maybe, max_size=5))
def test_a_choice_holds_across_any_phase_changes(phase, before, choice, phases):
    volume = run(Volume(phase), before).released().chosen(choice)
    for asked in phases:
        volume = volume.phase_asks(asked)
        assert volume.requested == choice and volume.source == "therapist"


@pytest.mark.slow
@given(level, acts, maybe)
def test_following_the_phase_goes_to_the_phase_level(phase, before, asked):
    start = run(Volume(phase), before).released()
    volume = start.phase_asks(asked).following_phase()
    assert volume.source == "phase" and volume.requested == (start.phase if asked is None else asked)


@given(level, acts, maybe, st.lists(st.one_of(st.tuples(st.just("phase_asks"), maybe),
                                               st.tuples(st.just("following_phase"), st.none()),
                                               st.tuples(st.just("held"), st.none())), max_size=5))
def test_a_held_preset_sets_its_level_until_released(phase, before, preset, during):
    start = run(Volume(phase), before)
    held = start.held(preset)
    expected = start.requested if preset is None else preset
    assert held.requested == expected
    assert run(held, during).requested == expected      # phases and "follow phase" wait for the release


@pytest.mark.slow
@given(level, acts, maybe, level)
def test_a_choice_made_under_a_preset_sets_the_level_now_and_after_the_release(phase, before, preset, choice):
    volume = run(Volume(phase), before).held(preset).chosen(choice)
    assert volume.requested == choice
    assert volume.released().requested == choice and volume.released().source == "therapist"


@given(level, acts, maybe)
def test_release_returns_to_the_choice_or_else_the_phase(phase, before, preset):
    start = run(Volume(phase), before)
    after = start.held(preset).released()
    assert after.requested == (start.phase if start.therapist is None else start.therapist)


def test_calm_over_a_choice_and_back():
    volume = Volume(40).phase_asks(60).chosen(25)
    assert (volume.requested, volume.source) == (25, "therapist")
    calm = volume.held(35)
    assert (calm.requested, calm.source) == (35, "therapist")
    assert calm.phase_asks(45).released().requested == 25
    assert calm.following_phase().requested == 35                    # calm keeps its level while it holds
    assert calm.following_phase().released().requested == 60
