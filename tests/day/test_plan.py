"""The day's plan worked out (session/day.py): each booking's state at each moment, the one the room prepares, the
problems, the order and the window; and properties over any bookings, sessions and times."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from room_controller.session.day import MISSED_AFTER, WAITING, Booking, Problem, ProfileFacts, booking_id, plan

PROFILES = {"psilocybin-8h": ProfileFacts("Psilocybin, 8 hours", "psilocybin", 28800.0, 60.0),
            "integration-75m": ProfileFacts("Integration, 75 minutes", "integration", 4500.0, 30.0),
            "open": ProfileFacts("Open", "other", None, 0.0)}
DAY = datetime(2026, 12, 8).astimezone()   # midnight, the room computer's own zone
AHEAD = 900.0


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def book(hours: float, profile: str | None = "psilocybin-8h", problem: str | None = None) -> Booking:
    return Booking(booking_id("test", str(hours), str(profile)), profile, at(hours), problem)


def states(bookings, now, session=None, started=None, prepared=None) -> list[str]:
    made = plan("room-1", bookings, PROFILES, now, AHEAD, session, started or {}, prepared)
    return [b["state"] for b in made.body["bookings"]]


def test_a_booking_through_its_morning():
    nine = book(9)
    assert states([nine], at(8.5)) == ["planned"]
    assert states([nine], at(8.75)) == ["preparing"]               # 08:45, its arrival fading in (60 s)
    assert states([nine], at(8.75) + timedelta(seconds=60), prepared=(nine.id, at(8.75))) == ["ready"]
    assert states([nine], at(9.5), prepared=(nine.id, at(9.49))) == ["preparing"]   # prepared late: its fade runs
    assert states([nine], at(9.5), session=4, started={nine.id: 4}) == ["started"]
    assert states([nine], at(12), session=None, started={nine.id: 4}) == ["done"]
    assert states([nine], at(10)) == ["missed"]                    # an hour past its start, unstarted
    assert plan("room-1", [nine], PROFILES, at(10), AHEAD, None, {}).prepare is None


def test_the_plan_object():
    nine, tomorrow = book(9), book(24 + 10.5, "integration-75m")
    made = plan("room-1", [tomorrow, nine, book(48 + 9), book(-1)], PROFILES, at(8.8), AHEAD, None, {},
                problems=[Problem(None, "The calendar cannot be read", "calendar")])
    first = {"id": nine.id, "profile": "psilocybin-8h", "name": "Psilocybin, 8 hours", "kind": "psilocybin",
             "start": at(9).isoformat(timespec="seconds"), "duration_s": 28800.0,
             "prepare_at": at(8.75).isoformat(timespec="seconds"), "state": "preparing"}
    second = {"id": tomorrow.id, "profile": "integration-75m", "name": "Integration, 75 minutes", "kind": "integration",
              "start": at(34.5).isoformat(timespec="seconds"), "duration_s": 4500.0,
              "prepare_at": at(34.25).isoformat(timespec="seconds"), "state": "planned"}
    assert made.body == {"room": "room-1", "next": first, "bookings": [first, second],   # yesterday's, the day after
                         "problems": [{"booking": None, "what": "The calendar cannot be read", "code": "calendar"}]}
    assert made.prepare == nine


def test_problems_say_which_booking_and_why():
    unknown, named = book(7, "lsd-12h"), book(7.5, None, "The calendar's booking at 07:30 names no session profile")
    a, b, c = book(9), book(12, "integration-75m"), book(18, "open")
    d, e = book(20, "open"), book(20, "integration-75m")
    made = plan("room-1", [unknown, named, a, b, c, d, e], PROFILES, at(6), AHEAD, None, {})
    problems = {p["booking"]: (p["code"], p["what"]) for p in made.body["problems"]}
    assert problems == {
        unknown.id: ("unknown_profile", "The booking at 07:00 names an unknown session profile 'lsd-12h'"),
        named.id: ("unknown_profile", "The calendar's booking at 07:30 names no session profile"),
        a.id: ("overlap", "The booking at 09:00 overlaps the booking at 12:00"),   # 8 hours from nine
        b.id: ("overlap", "The booking at 12:00 overlaps the booking at 09:00"),
        d.id: ("overlap", "The booking at 20:00 overlaps the booking at 20:00"),   # an open profile: the same start
        e.id: ("overlap", "The booking at 20:00 overlaps the booking at 20:00")}
    assert states([unknown, named, a, b, c, d, e], at(6)) == ["problem", "problem", "problem", "problem", "planned",
                                                               "problem", "problem"]


def test_a_session_in_the_way_is_a_problem_until_it_ends():
    nine = book(9)
    made = plan("room-1", [nine], PROFILES, at(8.8), AHEAD, 7, {})
    assert made.body["problems"] == [{"booking": nine.id, "code": "in_session",
                                      "what": "The room is in a session when the booking at 09:00 should be prepared"}]
    assert made.prepare is None and made.body["next"]["state"] == "problem"
    assert states([nine], at(8.9)) == ["preparing"]   # the session ended: now it prepares


def test_one_booking_is_prepared_at_a_time():
    early, later = book(9, "integration-75m"), book(10.5)
    made = plan("room-1", [later, early], PROFILES, at(8.9), 3 * 3600.0, None, {})
    assert made.prepare == early and [b["state"] for b in made.body["bookings"]] == ["preparing", "planned"]


bookings = st.lists(st.builds(book, st.floats(-30, 80).map(lambda h: round(h * 4) / 4),
                              st.sampled_from(["psilocybin-8h", "integration-75m", "open", "lsd-12h", None])),
                    max_size=8)


@given(bookings, st.floats(0, 48), st.sampled_from([None, 1, 2]), st.data())
def test_any_plan_keeps_its_promises(found, hours, session, data):
    now = at(hours)
    started = {b.id: data.draw(st.sampled_from([1, 2])) for b in found if data.draw(st.booleans())}
    made = plan("room-1", found, PROFILES, now, AHEAD, session, started)
    listed = made.body["bookings"]
    starts = [datetime.fromisoformat(b["start"]) for b in listed]
    assert starts == sorted(starts)
    assert all(0 <= (s.date() - now.date()).days <= 1 for s in starts)
    assert len({b["id"] for b in listed}) == len(listed)
    prepared = [b for b in listed if b["state"] in ("preparing", "ready")]
    assert len(prepared) <= 1 and (not prepared or session is None)
    assert (made.prepare is None) == (not prepared)
    assert made.body["next"] == next((b for b in listed if b["state"] in WAITING), None)
    with_problem = {p["booking"] for p in made.body["problems"]}
    assert with_problem == {b["id"] for b in listed if b["state"] == "problem"}
    for item, start in zip(listed, starts, strict=True):
        if item["id"] in started:
            assert item["state"] == ("started" if started[item["id"]] == session else "done")
        else:
            assert (item["state"] == "missed") == (now >= start + MISSED_AFTER)
    shuffled = list(found)
    random.Random(hours).shuffle(shuffled)
    assert plan("room-1", shuffled, PROFILES, now, AHEAD, session, started).body == made.body
