"""When vitals are due, and which are done: worked out from the profile's schedule and the readings alone.

Nothing is remembered besides the readings, so after a restart the list is the same. Each measurement
has a window: from EARLY before its time (measuring a little early counts; never before half-way from the
one before) to where the next one's window begins. It is done when the readings taken in its window cover everything it asks for; a window that has passed
without them is missed.
"""

from __future__ import annotations

from dataclasses import dataclass

from room_controller.vitals.model import Schedule

EARLY = 300.0   # seconds: a reading up to 5 minutes before its time counts for it


@dataclass(frozen=True)
class Due:
    due_s: float
    name: str               # "" for a regular measurement, else the moment's name
    measure: tuple[str, ...]


@dataclass(frozen=True)
class Status:
    due: Due
    state: str              # upcoming, due, done, missed
    missing: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"due_s": self.due.due_s, "name": self.due.name, "measure": list(self.due.measure),
                "state": self.state, "missing": list(self.missing)}


def times(schedule: Schedule | None, until_s: float) -> list[Due]:
    """Every measurement due at or before session time `until_s`, in order (a moment at a regular time
    is one measurement, with the moment's name)."""
    if schedule is None:
        return []
    measure = tuple(schedule.measure)
    found: dict[float, str] = {}
    if schedule.every is not None:
        last = until_s if schedule.until is None else min(until_s, schedule.until)
        t, n = schedule.start, 0
        while t <= last:
            found[t] = ""
            n += 1
            t = schedule.start + n * schedule.every   # multiplied, so no rounding drift over 8 hours
    for moment in schedule.at:
        if moment.at <= until_s:
            found[moment.at] = moment.name
    return [Due(t, found[t], measure) for t in sorted(found)]


def status(schedule: Schedule | None, readings: list[tuple[float, set[str]]], now_s: float,
           ahead: float = 3600.0) -> list[Status]:
    """Each measurement up to `ahead` (at least EARLY, so an early reading finds its own) past now: upcoming,
    due, done or missed. `readings` are (session time, measures covered) pairs in any order."""
    items = times(schedule, now_s + max(ahead, EARLY))
    starts = [max(item.due_s - EARLY, (items[i - 1].due_s + item.due_s) / 2 if i else float("-inf"))
              for i, item in enumerate(items)]
    out = []
    for i, item in enumerate(items):
        start, end = starts[i], starts[i + 1] if i + 1 < len(items) else float("inf")
        got: set[str] = set()
        for at, measures in readings:
            if start <= at < end:
                got |= measures
        missing = tuple(m for m in item.measure if m not in got)
        if not missing:
            state = "done"
        elif now_s < item.due_s:
            state = "upcoming"
        else:
            state = "missed" if now_s >= end else "due"
        out.append(Status(item, state, missing))
    return out
