"""The vitals of the running session, on the core loop: readings, notices, the schedule, the live pulse.

The room never acts on a value: a limit crossed is a notice for the therapist (with the protocol's
instruction) and a mark in the record, nothing more. Rows are written straight to the journal and logged
by kind and id only, so no value of the client's body reaches the service's log. What the panel sees is
in the snapshot (behind the PIN or the api_token); the MQTT state summary never includes it.

After a restart everything is read back from the journal: the readings, the notices not yet seen, and
which scheduled measurements were already announced as due or as missed. Each row is told to the parts that
follow the room (`tell`: the alerts, which never pass a value on).

It is given only what it uses (core/room.py wires it): the room's vitals settings, the core loop for its tick,
the clock, the journal it writes and reads back, the session runner (the running session and its time), the
intake that paces the pulse to the core, the room's problems (the journal's, when a row cannot be written), and
the room's `touch` (a new snapshot), `tell` (a row to the followers) and `emit` (journal an event, tell them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from room_controller.errors import Conflict, Invalid, NotFound
from room_controller.journal.store import Journal, JournalError, Row
from room_controller.vitals import pulse, record, schedule
from room_controller.vitals.limits import PulseWatch, crossed, in_force
from room_controller.vitals.model import VALUES, Entry, Limits, Schedule, Settings, Values

if TYPE_CHECKING:
    from room_controller.core.intake import Intake
    from room_controller.core.loop import Loop
    from room_controller.infrastructure.clock import Clock

log = logging.getLogger(__name__)

TICK = 1.0          # seconds between looks at the schedule and the pulse's staleness
PULSE_PACE = 1.0    # seconds: the sensor's messages reach the core at most this often, the latest winning
SHOWN_READINGS = 6
SHOWN_HISTORY = 2 * 3600.0   # seconds of past measurements the panel's list keeps
UNRECORDED = "not recorded"   # the source of limits journaled before limits named one
KEPT = ("vitals", "vitals_corrected", "vitals_notice_seen", "pulse_limit")   # what the desk keeps in memory


class Profile(Protocol):
    """What the desk reads of a session's profile: the protocol's schedule of measurements and its limits."""

    @property
    def vitals(self) -> Schedule | None: ...

    @property
    def vitals_limits(self) -> Limits | None: ...


class Running(Protocol):
    @property
    def profile(self) -> Profile: ...


class Runner(Protocol):
    """What the desk reads of the session runner: the running session, and its id and session time."""

    @property
    def session(self) -> Running | None: ...

    def session_info(self) -> tuple[int, float] | None: ...


class Desk:
    def __init__(self, settings: Settings, *, loop: Loop, clock: Clock, journal: Journal, runner: Runner,
                 intake: Intake, problems: dict[str, str], touch: Callable[[], None],
                 tell: Callable[[str, dict], None], emit: Callable[..., bool]) -> None:
        self._loop, self._clock, self._journal, self._runner, self._intake = loop, clock, journal, runner, intake
        self._problems, self._touch, self._tell, self._emit = problems, touch, tell, emit
        self.settings = settings
        self.pulse_topic = self.settings.pulse_topic
        self._session: int | None = None
        self._rows: list[Row] = []
        self._announced = -1.0
        self._missed = -1.0   # the last measurement journaled as missed
        self._bpm: float | None = None
        self._heard: float | None = None
        self._stale = False
        self._trend = pulse.Trend()
        self._window = pulse.Window()
        self._watch = PulseWatch()
        loop.call_later(TICK, self._tick)

    # -- the running session ---------------------------------------------------------------------------------

    def _follow(self) -> tuple[int, float] | None:
        """The running session (id, session time); its vitals read from the journal when it is new here."""
        info = self._runner.session_info()
        current = info[0] if info else None
        if current != self._session:
            self._store_pulse(self._session)   # what the last minute of the old session's pulse was
            self._session, self._rows, self._announced, self._watch = current, [], -1.0, PulseWatch()
            self._missed = -1.0
            if current is not None:
                rows = self._journal.read.events(current, KEPT + ("vitals_due", "vitals_missed"))
                self._rows = [row for row in rows if row.kind in KEPT]
                self._announced = max([row.data.get("due_s", -1.0) for row in rows if row.kind == "vitals_due"],
                                      default=-1.0)
                self._missed = max([row.data.get("due_s", -1.0) for row in rows if row.kind == "vitals_missed"],
                                   default=-1.0)
        return info

    def limits(self) -> Limits | None:
        running = self._runner.session
        own = running.profile.vitals_limits if running is not None else None
        return own.over(self.settings.limits) if own is not None else self.settings.limits

    def _schedule(self) -> Schedule | None:
        running = self._runner.session
        return running.profile.vitals if running is not None else None

    def _taken(self) -> list[tuple[float, set[str]]]:
        return [(r["at_s"], Values.model_validate({k: r[k] for k in VALUES if k in r}).measures())
                for r in record.readings(self._rows)]

    def _write(self, kind: str, data: dict, session_id: int | None = None) -> int:
        """A row of the running session (or of `session_id`, after it); JournalError if it could not be written:
        a reading is never acknowledged and lost."""
        info = self._runner.session_info()
        running = info is not None and session_id in (None, info[0])
        target, session_s = (info[0], info[1]) if info is not None and running else (session_id, None)
        clock = self._clock
        wall, mono = clock.wall(), clock.monotonic()
        try:
            event = self._journal.append(kind, data, wall=wall, mono=mono, session_id=target, session_s=session_s)
        except JournalError:
            self._problems["journal"] = self._journal.problem or "the journal cannot be written"
            self._touch()
            raise
        log.info("%s (event %d)", kind, event)   # the values stay in the journal, out of the log
        if running and kind in KEPT:
            self._rows.append(Row(event, target, wall, mono, session_s, kind, data))
        self._touch()
        self._tell(kind, data)
        return event

    # -- readings (core loop) --------------------------------------------------------------------------------

    def add(self, entry: Entry) -> dict:
        info = self._follow()
        if info is None:
            raise Conflict("no session is running: vitals belong to a session's record")
        taken_s = info[1] - entry.ago
        if taken_s < 0:
            raise Invalid("the reading's time is before the session began",
                          [{"path": "ago", "message": "before the session began"}])
        taken_wall = self._clock.wall() - entry.ago
        values = Values.model_validate(entry.present())
        limits = self.limits()
        found = [c.as_dict() for c in crossed(limits, values.present())]
        event = self._write("vitals", {**values.present(), "taken_wall": taken_wall, "taken_s": round(taken_s, 1),
                                       "crossed": found, "limits": _sources(limits)})
        return {"reading": event, "crossed": found}

    def correct(self, event_id: int, values: Values) -> dict:
        """A reading corrected afterwards (a typo): a new row, the original kept and shown beside it."""
        found = record.event(self._journal.path, event_id)
        if found is None or found[1] != "vitals" or found[0] is None:
            raise NotFound(f"there is no reading {event_id}")
        session_id = found[0]
        rows = self._journal.read.events(session_id, ["vitals", "vitals_corrected"])
        was = next(r for r in record.readings(rows) if r["event"] == event_id)
        limits = self._limits_of(session_id)
        marks = [c.as_dict() for c in crossed(limits, values.present())]
        self._write("vitals_corrected", {"reading": event_id, **values.present(), "crossed": marks,
                                         "limits": _sources(limits), "was": {k: was[k] for k in VALUES if k in was}},
                    session_id)
        return {"reading": event_id, "crossed": marks}

    def _limits_of(self, session_id: int) -> Limits | None:
        if session_id == self._session:
            return self.limits()
        session = self._journal.read.session(session_id) or {}
        own = (session.get("profile") or {}).get("vitals_limits")
        if not own:
            return self.settings.limits
        own = {"source": UNRECORDED, **own}   # a record from before limits named their source
        return Limits.model_validate(own).over(self.settings.limits)

    def seen(self, notice_id: int) -> dict:
        self._follow()
        if not any(row.id == notice_id for row in record.notices_open(self._rows)):
            raise NotFound(f"no notice {notice_id} is open")
        self._write("vitals_notice_seen", {"notice": notice_id})
        return {"notice": notice_id, "seen": True}

    def delete(self, session_id: int) -> dict:
        """The clinic tools remove a session's health data; the journal says that it was done."""
        if self._journal.read.session(session_id) is None:
            raise NotFound(f"there is no session {session_id}")
        removed = self._journal.call(lambda db: record.delete(db, session_id))
        if session_id == self._session:
            self._rows, self._window = [], pulse.Window()
        self._write("vitals_deleted", {"rows": removed}, session_id)
        return {"session": session_id, "deleted_rows": removed}

    # -- the live pulse ------------------------------------------------------------------------------------------

    def offer_pulse(self, payload: bytes, bad: Callable[[str], None]) -> None:
        """paho's thread: decode (pure), then the intake paces it to the core; a bad payload is logged, ignored."""
        try:
            bpm = pulse.decode(payload, self.settings.pulse_path)
        except pulse.PulseError as exc:
            bad(str(exc))
            return
        self._intake.offer(("pulse",), bpm, self._pulse, interval=PULSE_PACE)

    def _pulse(self, bpm: float) -> None:
        now = self._clock.monotonic()
        self._bpm, self._heard, self._stale = bpm, now, False
        self._trend.add(now, bpm)
        self._touch()
        if self._follow() is None:
            return   # shown, not stored: a record belongs to a session
        self._window.add(now, bpm)
        if self._window.full(now, self.settings.pulse_store_every):
            self._store_pulse(self._session)
        crossing = self._watch.check(self.limits(), bpm)
        if crossing is not None:
            self._try_write("pulse_limit", {"bpm": bpm, "crossed": [crossing.as_dict()]})

    def _store_pulse(self, session_id: int | None) -> None:
        row = self._window.take()
        if row is not None and session_id is not None:
            self._try_write("pulse", row, session_id)

    def _try_write(self, kind: str, data: dict, session_id: int | None = None) -> None:
        try:
            self._write(kind, data, session_id)
        except JournalError:
            pass   # shown in health; the pulse goes on

    # -- the tick ---------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        self._loop.call_later(TICK, self._tick)
        now = self._clock.monotonic()
        info = self._follow()
        if self._heard is not None and not self._stale and now - self._heard >= self.settings.pulse_stale_after:
            self._stale = True
            self._store_pulse(self._session)
            if info is not None:
                self._try_write("pulse_stale", {"quiet_s": round(now - self._heard, 1)})
            self._touch()
        if info is None:
            return
        for item in schedule.status(self._schedule(), self._taken(), info[1], ahead=0.0):
            if item.state == "due" and item.due.due_s > self._announced:
                self._announced = item.due.due_s
                self._emit("vitals_due", due_s=item.due.due_s, name=item.due.name, measure=list(item.due.measure))
            elif item.state == "missed" and item.due.due_s > self._missed:   # its window closed without it
                self._missed = item.due.due_s
                self._emit("vitals_missed", due_s=item.due.due_s, name=item.due.name,
                               measure=list(item.due.measure), missing=list(item.missing))

    # -- what the panel sees ---------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        info = self._follow()
        out: dict = {"pulse": self._pulse_state(), "readings": [], "schedule": [], "notices": [], "limits": None}
        if info is None:
            return out
        out["limits"] = in_force(self.limits())
        now_s = info[1]
        out["readings"] = record.readings(self._rows)[-SHOWN_READINGS:]
        items = schedule.status(self._schedule(), self._taken(), now_s)
        upcoming = [s for s in items if s.state == "upcoming"][:1]
        out["schedule"] = [s.as_dict() for s in items
                           if s.state != "upcoming" and s.due.due_s >= now_s - SHOWN_HISTORY] \
            + [s.as_dict() for s in upcoming]
        out["notices"] = [notice(row) for row in record.notices_open(self._rows)]
        return out

    def _pulse_state(self) -> dict | None:
        if self.pulse_topic is None:
            return None
        now = self._clock.monotonic()
        return {"bpm": self._bpm, "stale": self._stale or self._heard is None,
                "heard_s_ago": None if self._heard is None else round(now - self._heard, 1),
                "trend": self._trend.since(now)}


def _sources(limits: Limits | None) -> list[str]:
    """Which limits a reading was checked against, for the record: none is a reading recorded, not checked."""
    return limits.sources() if limits is not None else []


def notice(row: Row) -> dict:
    marks = row.data.get("crossed", [])
    return {"id": row.id, "at_s": row.session_s, "wall": row.wall, "live": row.kind == "pulse_limit",
            "crossed": marks, "instructions": list(dict.fromkeys(m["instruction"] for m in marks))}
