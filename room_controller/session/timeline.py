"""Phase math: which phase a session is in at a given session time, and how the therapist moves it.

Pure and small on purpose. A `Timeline` is the planned length of each phase (with the extensions the
therapist added) and an anchor: the phase entered by the last explicit move (start, next, previous) and the
session time it was entered at. From the anchor on, phases follow each other by their lengths; an `open`
phase lasts until the therapist moves on; after the last phase the room holds its setting (overtime) until
the session is stopped. `phase_at` is total: any session time gives a phase.

A move (next, previous, a corrected session time) can be taken back: `undo` gives the timeline and clock the
session would have had if the move had never happened, counting the time since the move in the phase it left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Timeline:
    durations: tuple[float | None, ...]  # seconds per phase; None: open, until the therapist moves on
    anchor_index: int = 0
    anchor_at: float = 0.0

    def __post_init__(self) -> None:
        if not self.durations:
            raise ValueError("a session has at least one phase")
        if not 0 <= self.anchor_index < len(self.durations):
            raise ValueError("anchor outside the phases")


@dataclass(frozen=True)
class Position:
    index: int
    started_at: float          # session time the phase began
    elapsed: float             # in the phase
    remaining: float | None    # None for an open phase
    overtime: float = 0.0      # past the planned end of the last phase

    @property
    def ends_at(self) -> float | None:
        return None if self.remaining is None else self.started_at + self.elapsed + self.remaining


def phase_at(timeline: Timeline, elapsed: float) -> Position:
    """The phase at session time `elapsed` (times before the anchor count as the anchor's start)."""
    elapsed = max(elapsed, timeline.anchor_at)
    start = timeline.anchor_at
    last = len(timeline.durations) - 1
    for index in range(timeline.anchor_index, last + 1):
        length = timeline.durations[index]
        if length is None:
            return Position(index, start, elapsed - start, None)
        if elapsed < start + length or index == last:
            remaining = max(0.0, start + length - elapsed)
            overtime = max(0.0, elapsed - (start + length)) if index == last else 0.0
            return Position(index, start, elapsed - start, remaining, overtime)
        start += length
    raise AssertionError("unreachable: the last phase holds")


def move_to(timeline: Timeline, index: int, elapsed: float) -> Timeline:
    """Enter phase `index` now (next, previous, or back to the start of a phase)."""
    index = min(max(index, 0), len(timeline.durations) - 1)
    return replace(timeline, anchor_index=index, anchor_at=elapsed)


def undo(timeline: Timeline, clock: SessionClock, before: Timeline, shift: float, now: float
         ) -> tuple[Timeline, SessionClock]:
    """The session as if a move had never happened: the anchor of `before` (the timeline the move left) with
    the lengths as they are now (an extension made since stands), and the clock less the `shift` the move
    gave it (a corrected session time; 0 for a phase move). Time since the move counts on in the old phase."""
    return (replace(timeline, anchor_index=before.anchor_index, anchor_at=before.anchor_at),
            clock.shifted(-shift, now) if shift else clock)


def extend(timeline: Timeline, index: int, seconds: float) -> Timeline:
    """Lengthen phase `index`; an open phase has no length to extend."""
    length = timeline.durations[index]
    if length is None:
        raise ValueError("an open phase lasts until you move on; it cannot be extended")
    durations = list(timeline.durations)
    durations[index] = length + seconds
    return replace(timeline, durations=tuple(durations))


def planned_total(timeline: Timeline) -> float | None:
    """The planned length of the whole session, or None when a phase is open."""
    if any(d is None for d in timeline.durations):
        return None
    return float(sum(timeline.durations))  # type: ignore[arg-type]


@dataclass(frozen=True)
class SessionClock:
    """Session time: real time since the start, less the pauses. `running_since` is monotonic time."""

    accumulated: float = 0.0
    running_since: float | None = None

    def elapsed(self, now: float) -> float:
        if self.running_since is None:
            return self.accumulated
        return self.accumulated + max(0.0, now - self.running_since)

    @property
    def paused(self) -> bool:
        return self.running_since is None

    def pause(self, now: float) -> SessionClock:
        return SessionClock(self.elapsed(now), None) if not self.paused else self

    def resume(self, now: float) -> SessionClock:
        return SessionClock(self.accumulated, now) if self.paused else self

    def set(self, seconds: float, now: float) -> SessionClock:
        """Session time `seconds` now, running on as before (or still paused)."""
        return SessionClock(seconds, None if self.paused else now)

    def shifted(self, seconds: float, now: float) -> SessionClock:
        """The same clock, `seconds` later (earlier when negative), never before the session's start."""
        return self.set(max(0.0, self.elapsed(now) + seconds), now)
