"""Limits, schedules and the pulse decoder: pure rules, by example and by property."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from room_controller.vitals import pulse, schedule
from room_controller.vitals.limits import PulseWatch, crossed
from room_controller.vitals.model import Limits, Schedule, Values

MDMA = Limits.model_validate({"source": "MDMA protocol v3", "instruction": "Tell the physician", "systolic": {"above": 160},
                              "diastolic": {"above": 110}, "pulse": {"above": 110, "below": 45},
                              "temperature": {"above": 38.0, "instruction": "Cool the room's air, tell the physician"}})
values = st.fixed_dictionaries({}, optional={"systolic": st.integers(50, 300), "diastolic": st.integers(20, 200),
                                             "pulse": st.integers(20, 250), "temperature": st.floats(30, 45)})


def test_a_limit_is_crossed_beyond_it_not_at_it():
    assert crossed(MDMA, {"systolic": 160, "diastolic": 110, "pulse": 110, "temperature": 38.0}) == []
    found = crossed(MDMA, {"systolic": 161, "pulse": 44, "temperature": 38.2})
    assert [(c.value_name, c.side, c.limit) for c in found] == [("systolic", "above", 160), ("pulse", "below", 45),
                                                                 ("temperature", "above", 38.0)]
    assert found[0].instruction == "Tell the physician"
    assert found[2].instruction == "Cool the room's air, tell the physician"   # a limit's own instruction wins
    assert found[0].text() == "systolic 161 mmHg is above 160"


def test_a_profiles_limits_go_over_the_rooms():
    room = Limits.model_validate({"source": "Room protocol", "instruction": "Room's words", "pulse": {"above": 120}, "temperature": {"above": 38.5}})
    profile = Limits.model_validate({"source": "example", "pulse": {"above": 110}})
    merged = profile.over(room)
    assert (merged.pulse.above, merged.temperature.above, merged.instruction) == (110, 38.5, "Room's words")
    assert crossed(None, {"pulse": 200}) == []


@pytest.mark.slow
@given(values)
def test_crossings_are_exactly_the_values_beyond_their_bounds(data):
    found = {c.value_name for c in crossed(MDMA, data)}
    for name, value in data.items():
        bound = getattr(MDMA, name)
        beyond = (bound.above is not None and value > bound.above) or (bound.below is not None and value < bound.below)
        assert (name in found) == beyond


@pytest.mark.slow
@given(st.lists(st.integers(20, 250), max_size=60))
def test_the_live_pulse_gives_one_notice_per_excursion(stream):
    watch = PulseWatch()
    notices = [bpm for bpm in stream if watch.check(MDMA, bpm) is not None]
    outside = [not 45 <= bpm <= 110 for bpm in stream]
    starts = [i for i, out in enumerate(outside) if out and (i == 0 or not outside[i - 1])]
    assert notices == [stream[i] for i in starts]


def test_a_reading_is_whole_and_plausible():
    assert Values(systolic=120, diastolic=80).measures() == {"blood_pressure"}
    for bad, words in (({"systolic": 120}, "together"), ({"systolic": 80, "diastolic": 120}, "swapped"),
                       ({}, "at least one"), ({"pulse": 720}, "less than or equal to 250"),
                       ({"temperature": float("nan")}, "temperature")):
        with pytest.raises(ValidationError, match=words):
            Values.model_validate(bad)


MDMA_SCHEDULE = Schedule.model_validate({"every": "30m", "from": "0m", "until": "6h20m",
                                         "at": [{"at": "15m", "name": "Before the initial dose"},
                                                {"at": "1h50m", "name": "Before the supplemental dose"}]})


def test_the_schedule_lists_regular_times_and_named_moments():
    due = schedule.times(MDMA_SCHEDULE, 8 * 3600)
    assert [d.due_s for d in due][:4] == [0, 900, 1800, 3600]
    assert [d.due_s for d in due][-1] == 6 * 3600   # 6h20m is not on the 30-minute grid: the last is 6h
    assert [d.name for d in due if d.name] == ["Before the initial dose", "Before the supplemental dose"]
    assert len(due) == 13 + 2
    assert schedule.times(None, 1e6) == []


def test_a_reading_marks_its_measurement_done_and_a_late_one_the_next():
    bp, everything = {"blood_pressure"}, {"blood_pressure", "pulse", "temperature"}
    state = {s.due.due_s: s.state for s in schedule.status(MDMA_SCHEDULE, [(1700, everything)], 1750, ahead=0)}
    assert state == {0: "missed", 900: "missed", 1800: "done"}   # 5 minutes early counts, for its own time
    partial = schedule.status(MDMA_SCHEDULE, [(1810, bp)], 1820, ahead=0)[-1]
    assert (partial.state, partial.missing) == ("due", ("pulse", "temperature"))
    upcoming = schedule.status(MDMA_SCHEDULE, [], 10, ahead=1000)
    assert [s.state for s in upcoming] == ["due", "upcoming"]


@pytest.mark.slow
@given(st.lists(st.tuples(st.floats(0, 30000), st.sets(st.sampled_from(["blood_pressure", "pulse", "temperature"]))),
                max_size=30), st.floats(0, 30000))
def test_each_reading_counts_for_one_measurement_and_done_means_covered(readings, now):
    statuses = schedule.status(MDMA_SCHEDULE, readings, now, ahead=0)
    for s in statuses:
        assert (s.state == "done") == (s.missing == ())
        assert s.state != "upcoming" or s.due.due_s > now
    # no reading falls in two measurements' windows: the windows' covered sets add up to no more than given
    given_kinds = sum(len(kinds) for _, kinds in readings)
    covered = sum(len(s.due.measure) - len(s.missing) for s in statuses)
    assert covered <= given_kinds


@pytest.mark.parametrize("payload, path, bpm", [
    (b"72.0", "", 72.0),                                    # ESPHome's MQTT sensor: the state as text
    (b"  88 ", "", 88.0),
    (json.dumps({"heart_rate": {"bpm": 64}}).encode(), "heart_rate.bpm", 64.0),
    (json.dumps({"hr": "71"}).encode(), "hr", 71.0),
])
def test_a_pulse_payload_is_read(payload, path, bpm):
    assert pulse.decode(payload, path) == bpm


@pytest.mark.parametrize("payload, path, words", [
    (b"nan", "", "no value"), (b"None", "", "no value"), (b"NaN", "", "no value"), (b"abc", "", "not a number"),
    (b"\xff\xfe", "", "UTF-8"), (b"{}", "hr", "no 'hr'"), (b'{"hr": true}', "hr", "not a number"),
    (b"720", "", "not believed"), (b"-5", "", "not believed"), (b'{"hr": [72]}', "hr", "not a number"),
    (b"1e999", "", "no value"),
])
def test_a_bad_pulse_payload_is_an_error_never_a_value(payload, path, words):
    with pytest.raises(pulse.PulseError, match=words):
        pulse.decode(payload, path)


@pytest.mark.slow
@given(st.binary(max_size=64), st.sampled_from(["", "hr", "a.b"]))
def test_any_payload_is_a_believable_pulse_or_a_pulse_error(payload, path):
    try:
        bpm = pulse.decode(payload, path)
    except pulse.PulseError:
        return
    assert math.isfinite(bpm) and pulse.LOWEST <= bpm <= pulse.HIGHEST


@pytest.mark.slow
@given(st.lists(st.tuples(st.floats(0.1, 5), st.floats(40, 200)), max_size=300))
def test_the_stored_pulse_is_bounded_and_loses_no_extreme(samples):
    window, now, rows, seen = pulse.Window(), 0.0, [], []
    for gap, bpm in samples:
        now += gap
        window.add(now, bpm)
        seen.append(bpm)
        if window.full(now, 60.0):
            rows.append((now, window.take()))
    assert len(rows) <= now / 60.0 + 1
    assert all(b - a >= 60.0 for (a, _), (b, _) in zip(rows, rows[1:]))
    stored = [r["max"] for _, r in rows] + [r["min"] for _, r in rows]
    leftover = window.take()
    if leftover:
        stored += [leftover["max"], leftover["min"]]
    if seen:
        assert max(stored) == max(seen) and min(stored) == min(seen)
    assert sum(r["n"] for _, r in rows) + (leftover["n"] if leftover else 0) == len(seen)
