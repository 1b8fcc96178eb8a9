"""A clinic's day for one room, worked out: its bookings of today and tomorrow, each one's state now, the one
the room should be prepared for, and what is wrong with the plan (docs/day.md).

Pure: the bookings (from the clinic file's `day.bookings` and the calendar), what the room knows of its
profiles, the time and the room's session go in; the plan as the room publishes it comes out. The state is
worked out afresh from the time at every look, so a look that comes late or twice changes nothing, and a
wall clock stepped by NTP is simply a new `now`. Nothing of a calendar's text reaches here but the profile
it names: a booking is an id, a profile and a start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MISSED_AFTER = timedelta(hours=1)   # a booking not started this long after its start is missed: the room rests
STATES = ("planned", "preparing", "ready", "started", "done", "missed", "problem")
WAITING = frozenset({"planned", "preparing", "ready", "problem"})   # what `next` may be


@dataclass(frozen=True)
class Booking:
    id: str
    profile: str | None   # None: a calendar event that names no profile of the room (its text is not kept)
    start: datetime       # with its offset
    problem: str | None = None   # found when it was read; a plain sentence with no calendar text


@dataclass(frozen=True)
class ProfileFacts:
    """What the plan needs of a session profile."""
    name: str
    kind: str
    duration_s: float | None   # None: a profile with an open phase
    arrival_s: float           # the first phase's fade: how long the arrival scene takes to come


@dataclass(frozen=True)
class Problem:
    booking: str | None
    what: str
    code: str   # unknown_profile, overlap, in_session, calendar, clinic_file: for a screen to say it in its words

    def as_dict(self) -> dict:
        return {"booking": self.booking, "what": self.what, "code": self.code}


@dataclass(frozen=True)
class Plan:
    body: dict                     # the published object, `at` aside
    prepare: Booking | None        # the booking the room should be showing its arrival for now
    states: dict[str, str] = field(default_factory=dict)


def booking_id(*parts: str) -> str:
    """A booking's id from what names it in its source (the room and start of a booking by hand, a calendar
    event's UID and the start of its occurrence): stable across reads, and hashed, so no calendar text shows."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def hhmm(moment: datetime) -> str:
    """The time of day on the room computer's clock (its zone's offset at that moment)."""
    return moment.astimezone().strftime("%H:%M")


def plan(room_id: str, bookings: Iterable[Booking], profiles: Mapping[str, ProfileFacts], now: datetime,
         prepare_ahead: float, session: int | None, started: Mapping[str, int],
         prepared: tuple[str, datetime] | None = None, problems: Iterable[Problem] = ()) -> Plan:
    """The room's plan at `now` (aware; days and times are the room computer's local ones). `session`: the running session's id;
    `started`: booking id -> the session it started; `prepared`: the booking whose arrival the room shows and
    since when; `problems`: the plan's own (a calendar or clinic file that cannot be read)."""
    today = now.astimezone().date()
    shown = sorted((b for b in _unique(bookings) if 0 <= (b.start.astimezone().date() - today).days <= 1),
                   key=lambda b: (b.start, b.id))
    issues = _issues(shown, profiles)
    ahead = timedelta(seconds=prepare_ahead)
    states: dict[str, str] = {}
    prepare: Booking | None = None
    for booking in shown:
        prepare_at = booking.start - ahead
        if booking.id in started:
            state = "started" if session == started[booking.id] else "done"
        elif now >= booking.start + MISSED_AFTER:
            state = "missed"
        elif booking.id in issues:
            state = "problem"
        elif now < prepare_at or prepare is not None:
            state = "planned"
        elif session is not None:
            state = "problem"
            issues[booking.id] = Problem(booking.id, f"The room is in a session when the booking at "
                                                     f"{hhmm(booking.start)} should be prepared", "in_session")
        else:
            prepare = booking
            since = prepared[1] if prepared is not None and prepared[0] == booking.id else now
            arrival = profiles[booking.profile or ""].arrival_s   # a booking with no issue names a known profile
            state = "preparing" if now < since + timedelta(seconds=arrival) else "ready"
        states[booking.id] = state
    listed = [_booking(b, profiles, ahead, states[b.id]) for b in shown]
    upcoming = next((item for item in listed if item["state"] in WAITING), None)
    said = [*problems, *(issues[b.id] for b in shown if states[b.id] == "problem")]
    body = {"room": room_id, "next": upcoming, "bookings": listed, "problems": [p.as_dict() for p in said]}
    return Plan(body, prepare, states)


def _unique(bookings: Iterable[Booking]) -> list[Booking]:
    """A booking written twice (the same id) counts once."""
    return list({b.id: b for b in bookings}.values())


def _issues(shown: list[Booking], profiles: Mapping[str, ProfileFacts]) -> dict[str, Problem]:
    """Why each booking cannot be prepared, as far as the bookings themselves say: an unknown profile, two
    bookings at once (each as long as its profile plans; one with an open phase only at the same start)."""
    issues: dict[str, Problem] = {}
    for booking in shown:
        if booking.problem is not None:
            issues[booking.id] = Problem(booking.id, booking.problem, "unknown_profile")
        elif booking.profile not in profiles:
            issues[booking.id] = Problem(booking.id, f"The booking at {hhmm(booking.start)} names an unknown "
                                                     f"session profile {booking.profile!r}", "unknown_profile")
    for i, first in enumerate(shown):
        facts = profiles.get(first.profile or "")
        length = timedelta(seconds=facts.duration_s or 0) if facts else timedelta(0)
        for second in shown[i + 1:]:
            if second.start != first.start and second.start >= first.start + length:
                break
            for one, other in ((first, second), (second, first)):
                issues.setdefault(one.id, Problem(one.id, f"The booking at {hhmm(one.start)} overlaps the "
                                                          f"booking at {hhmm(other.start)}", "overlap"))
    return issues


def _booking(booking: Booking, profiles: Mapping[str, ProfileFacts], ahead: timedelta, state: str) -> dict:
    facts = profiles.get(booking.profile or "")
    return {"id": booking.id, "profile": booking.profile, "name": facts.name if facts else None,
            "kind": facts.kind if facts else None, "start": iso(booking.start),
            "duration_s": facts.duration_s if facts else None, "prepare_at": iso(booking.start - ahead),
            "state": state}


def iso(moment: datetime) -> str:
    return moment.astimezone().isoformat(timespec="seconds")


def moments(bookings: Iterable[Booking], profiles: Mapping[str, ProfileFacts], prepare_ahead: float,
            prepared: tuple[str, datetime] | None) -> list[datetime]:
    """The times at which a booking's state may change by time alone: when to look again."""
    ahead = timedelta(seconds=prepare_ahead)
    out = []
    for booking in bookings:
        out += [booking.start - ahead, booking.start + MISSED_AFTER]
        facts = profiles.get(booking.profile or "")
        if prepared is not None and prepared[0] == booking.id and facts is not None:
            out.append(prepared[1] + timedelta(seconds=facts.arrival_s))
    return out
