"""Phase math: total, monotonic, and consistent under pause, extend, next and previous."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.session import timeline as tl

durations = st.lists(st.one_of(st.none(), st.floats(1, 4 * 3600)), min_size=1, max_size=10).map(tuple)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(durations=durations, times=st.lists(st.floats(0, 20 * 3600), min_size=2, max_size=30))
def test_phase_at_is_total_and_monotonic(durations, times):
    timeline = tl.Timeline(durations)
    positions = [tl.phase_at(timeline, t) for t in sorted(times)]
    indexes = [p.index for p in positions]
    assert indexes == sorted(indexes)
    for t, p in zip(sorted(times), positions):
        assert 0 <= p.index < len(durations)
        assert p.started_at + p.elapsed == pytest.approx(t)
        assert p.elapsed >= 0
        if p.remaining is not None:
            assert p.remaining >= 0
        if durations[p.index] is None:  # an open phase holds until the therapist moves on
            assert p.remaining is None


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(durations=durations,
       moves=st.lists(st.tuples(st.sampled_from(["next", "previous", "extend", "wait"]), st.floats(0, 3600)),
                      max_size=20))
def test_controls_keep_the_timeline_consistent(durations, moves):
    timeline, now = tl.Timeline(durations), 0.0
    last = tl.phase_at(timeline, now)
    for move, amount in moves:
        now += amount
        here = tl.phase_at(timeline, now)
        if move == "next":
            timeline = tl.move_to(timeline, here.index + 1, now)
            assert tl.phase_at(timeline, now).index == min(here.index + 1, len(durations) - 1)
        elif move == "previous":
            timeline = tl.move_to(timeline, here.index - 1, now)
            assert tl.phase_at(timeline, now).index == max(here.index - 1, 0)
        elif move == "extend" and durations[here.index] is not None:
            before = here.remaining
            timeline = tl.extend(timeline, here.index, amount)
            after = tl.phase_at(timeline, now)
            assert after.index == here.index
            assert after.remaining == pytest.approx(max(0.0, before + amount - here.overtime), abs=1e-9)
        now_pos = tl.phase_at(timeline, now)
        assert now_pos.started_at <= now and now_pos.started_at + now_pos.elapsed == pytest.approx(now, abs=1e-9)
        last = now_pos
    assert 0 <= last.index < len(durations)


def test_the_last_phase_holds_with_overtime():
    timeline = tl.Timeline((60.0, 60.0))
    end = tl.phase_at(timeline, 200)
    assert (end.index, end.remaining, end.overtime) == (1, 0.0, 80.0)


def test_an_open_phase_cannot_be_extended():
    with pytest.raises(ValueError, match="open phase"):
        tl.extend(tl.Timeline((None,)), 0, 60)


@pytest.mark.slow
@given(events=st.lists(st.tuples(st.booleans(), st.floats(0, 1000)), max_size=30))
def test_session_clock_counts_real_time_less_pauses(events):
    clock, now, expected = tl.SessionClock(0.0, 0.0), 0.0, 0.0
    for pause, wait in events:
        clock = clock.pause(now) if pause else clock.resume(now)
        now += wait
        if not clock.paused:
            expected += wait
        assert clock.elapsed(now) == pytest.approx(expected)
