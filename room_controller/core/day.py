"""The clinic's day in the room (docs/day.md): the room's plan, its preparation ahead of each booking, and the
one-tap start of a booked session.

The room reads its bookings from the clinic file it names (`clinic:`), that file's `day.bookings` and its
calendar, again whenever the clinic file or a calendar file changes (looked at every CHECK seconds) and a
calendar URL every `day.refresh`; reading runs on a thread of its own (a slow calendar server never holds up
the core), and what it read is handed to the core loop. A URL that fails keeps the last good reading and says so
as a problem of the plan. The plan itself is worked out on the core loop (session/day.py) from the wall time.

At a booking's `prepare_at` the room shows the arrival scene, its profile's first phase's lights and music, as
its base layer (no session starts; a preset such as calm holds over it, and its release returns to it), until
the therapist starts the session (`start`, the panel's one tap) or the booking is missed by more than an hour,
when the room goes back to its idle scene. A session started by hand with the booking's profile while it is
prepared counts as its start.

Why the core loop's timers and not APScheduler's date jobs, although these are wall-clock times: APScheduler
reads the computer's clock itself, so the tests' ManualClock cannot drive it, and a date job that an NTP step
jumps over is reported missed and never runs (RESEARCH: APScheduler). Here each look works out what should be
true at the wall time it is now, and the next look is due at the next moment a state can change (a
`prepare_at`, a start's missed hour, an arrival's fade, midnight) and at least every CHECK seconds, so a stepped
clock is caught within CHECK seconds and a look late or twice changes nothing.

Published: the plan in the room's snapshot (`day`) and, retained at QoS 1, on `<base_topic>/<room>/day` whenever it
or a booking's state changes, and again on each connect (as the alerts' retained list is). Journaled:
`day_changed` (how many bookings, the problems' codes), `booking_prepared`, `booking_started`,
`booking_unprepared`: ids, profiles and times, never a calendar's text.

It is given only what it uses (app.App wires it): the clinic file, the room's configuration as it is now, the core
loop and the clock, the journal it reads back, the session runner (its profiles, the running session, the start),
the layers it sets the arrival and idle scenes on, the music (None in a room without it), the room's `emit`
(journal an event, tell the followers) and `touch` (a new snapshot), whether the broker is connected, and the
link's publish.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from room_controller.errors import Conflict, NotFound
from room_controller.files.yamlfile import ConfigError
from room_controller.integrations import calendar
from room_controller.lighting.state import MqttMessage
from room_controller.session import day as dayplan
from room_controller.session.day import Booking, Problem, ProfileFacts
from room_controller.session.dayfile import DaySettings, read_day

if TYPE_CHECKING:
    from room_controller.audio.music import Music
    from room_controller.config import RoomConfig
    from room_controller.core.layers import Layers
    from room_controller.core.loop import Loop, Timer
    from room_controller.core.session import SessionRunner
    from room_controller.infrastructure.clock import Clock
    from room_controller.journal.store import Journal

log = logging.getLogger(__name__)

CHECK = 10.0            # seconds between looks at the files (and the latest a look at the plan comes)
STARTED_KEPT = 200      # bookings whose start is remembered (a day has a handful per room)


class UnknownBooking(NotFound):
    code = "unknown_booking"


@dataclass
class Reading:
    """What the reader found: the day's settings, this room's bookings by hand and from the calendar, and what
    could not be read. `calendar_at`: when the calendar's bookings were last read well (wall time)."""
    settings: DaySettings | None
    hand: list[Booking]
    calendar: list[Booking]
    problems: list[Problem] = field(default_factory=list)


class Reader:
    """Reads the clinic file and its calendar (a thread of its own): a new Reading when anything changed."""

    def __init__(self, clinic: Path, room_id: str, room_name: str, clock) -> None:
        self.clinic, self.room_id, self.room_name, self.clock = clinic, room_id, room_name, clock
        self._clinic_seen: tuple | None = None
        self._settings: DaySettings | None = None
        self._hand: list[Booking] = []
        self._clinic_problem: Problem | None = None
        self._calendar_seen: tuple | None = None
        self._calendar_data: bytes | None = None
        self._calendar_read_at: float | None = None   # monotonic, of the last attempt
        self._calendar_good_at: float | None = None   # wall, of the last good reading
        self._calendar_problem: Problem | None = None
        self._expanded: tuple | None = None
        self._calendar: list[Booking] = []
        self._last: Reading | None = None

    def read(self, profiles: dict[str, str], urls: bool = True) -> Reading | None:
        """`profiles`: each profile's id and name, casefolded, to its id. None when nothing changed."""
        self._read_clinic()
        settings = self._settings
        source = settings.calendar if settings is not None else None
        if source is None:
            self._calendar, self._calendar_problem, self._calendar_data = [], None, None
        else:
            self._read_calendar(source, settings, urls)   # type: ignore[arg-type]
            self._expand(profiles)
        reading = Reading(settings, list(self._hand), list(self._calendar),
                          [p for p in (self._clinic_problem, self._calendar_problem) if p is not None])
        if reading == self._last:
            return None
        self._last = reading
        return reading

    def _read_clinic(self) -> None:
        seen = _signature(self.clinic)
        if seen == self._clinic_seen:
            return
        self._clinic_seen = seen
        try:
            self._settings = read_day(self.clinic)
        except ConfigError as exc:
            first = exc.problems[0]
            where = f"{Path(first.file).name}:{first.line}: {first.path + ': ' if first.path else ''}"
            self._clinic_problem = Problem(None, f"The clinic file cannot be read, so the plan is as it was: "
                                                 f"{where}{first.message}", "clinic_file")
            return
        self._clinic_problem = None
        self._calendar_seen = None   # the calendar named may be another one now
        names = {self.room_id.casefold(), self.room_name.casefold()} - {""}
        self._hand = [Booking(dayplan.booking_id("file", self.room_id, b.start.isoformat()), b.profile,
                              b.start.astimezone())
                      for b in (self._settings.bookings if self._settings else []) if b.room.casefold() in names]

    def _read_calendar(self, source: str, settings: DaySettings, urls: bool) -> None:
        now = self.clock.monotonic()
        if calendar.is_url(source):
            due = self._calendar_read_at is None or now - self._calendar_read_at >= settings.refresh \
                or self._calendar_seen != (source,)
            if not (urls and due):
                return
            seen: tuple = (source,)
        else:
            seen = (source, *_signature(self.clinic.parent / source))
            due = seen != self._calendar_seen or self._calendar_read_at is None \
                or now - self._calendar_read_at >= settings.refresh
            if not due:
                return
        self._calendar_seen, self._calendar_read_at = seen, now
        try:
            data = calendar.read(source, self.clinic.parent)
        except calendar.CalendarError as exc:
            self._calendar_failed(str(exc))
            return
        if data != self._calendar_data:
            self._calendar_data, self._expanded = data, None
        self._calendar_good_at = self.clock.wall()
        self._calendar_problem = None

    def _calendar_failed(self, why: str) -> None:
        if self._calendar_good_at is None:
            what = f"The calendar cannot be read ({why}): no bookings from it"
        else:
            kept = datetime.fromtimestamp(self._calendar_good_at).astimezone().strftime("%H:%M")
            what = f"The calendar cannot be read ({why}): the plan keeps its reading of {kept}"
        self._calendar_problem = Problem(None, what, "calendar")

    def _expand(self, profiles: dict[str, str]) -> None:
        """The calendar's events of today and tomorrow (again after midnight, or with other profiles)."""
        if self._calendar_data is None:
            self._calendar = []
            return
        start, end = calendar.day_bounds(datetime.fromtimestamp(self.clock.wall()).astimezone())
        key = (start, tuple(sorted(profiles.items())))
        if key == self._expanded:
            return
        try:
            self._calendar = calendar.bookings(self._calendar_data, self.room_id, self.room_name, profiles, start, end)
        except calendar.CalendarError as exc:
            self._calendar_data = None
            self._calendar_good_at = None
            self._calendar = []
            self._calendar_failed(str(exc).removeprefix("the calendar is "))
            return
        self._expanded = key


def _signature(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (None,)
    return (stat.st_mtime_ns, stat.st_size)


class Day:
    """The room's day: a follower of the room (app.App wires it), acting on the core loop."""

    def __init__(self, clinic: Path | None, *, config: Callable[[], RoomConfig], loop: Loop, clock: Clock,
                 journal: Journal, session: SessionRunner, layers: Layers, music: Music | None,
                 emit: Callable[..., bool], touch: Callable[[], None], mqtt_connected: Callable[[], bool],
                 publish: Callable[[MqttMessage], bool]) -> None:
        """`config`: the room's configuration as it is now (the room file may be read again); `mqtt_connected`:
        whether the broker is connected now."""
        self.clinic, self._config, self._loop, self._clock, self._journal = clinic, config, loop, clock, journal
        self._session, self._layers, self._music = session, layers, music
        self._emit, self._touch, self._mqtt_connected, self._publish = emit, touch, mqtt_connected, publish
        first = config()
        self.topic = f"{first.topic_prefix}/day"
        self.reader = Reader(clinic, first.room.id, first.room.name, clock) if clinic is not None else None
        self.reading = Reading(None, [], [])
        self.started: dict[str, int] = {}             # booking id -> the session it started
        self.prepared: tuple[str, datetime] | None = None
        self.plan: dayplan.Plan | None = None
        self._body: dict | None = None                # the published plan, with its `at`
        self._known: tuple | None = None              # the bookings and problems as last journaled
        self._sent: str | None = None
        self._starting = False
        self._timer: Timer | None = None
        self._looked = float("-inf")
        self._reading: Future | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- start and stop ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """From the starting thread: the files read at once (a calendar URL is fetched after, off the loop), the
        bookings started before a restart from the journal, the first plan."""
        if self.reader is None:
            return
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="day-reader")
        first = self.reader.read(self._profile_names(), urls=False)
        self._loop.call(self._begin, first)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _begin(self, first: Reading | None) -> None:
        rows = self._journal.call(lambda db: db.execute(
            "SELECT data FROM events WHERE kind = 'booking_started' ORDER BY id DESC LIMIT ?",
            (STARTED_KEPT,)).fetchall())
        for (text,) in reversed(rows):
            data = json.loads(text)
            self.started[data["booking"]] = data["session"]
        if first is not None:
            self.reading = first
        self.look()

    # -- the plan (core loop) ----------------------------------------------------------------------------------

    def _profile_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for profile in self._session.profiles.values():
            names.setdefault(profile.name.casefold(), profile.id)
        return names | {profile_id.casefold(): profile_id for profile_id in self._session.profiles}

    def _facts(self) -> dict[str, ProfileFacts]:
        out = {}
        for profile in self._session.profiles.values():
            first = profile.phases[0]
            out[profile.id] = ProfileFacts(profile.name, profile.kind, profile.planned_seconds,
                                           first.lights.transition if first.lights else 0.0)
        return out

    def _take(self, reading: Reading) -> None:
        self.reading = reading
        self._update()

    def look(self) -> None:
        """The timer's work: the files looked at (every CHECK seconds), the plan worked out at this moment."""
        now = self._clock.monotonic()
        if now - self._looked >= CHECK and (self._reading is None or self._reading.done()):
            self._looked = now
            self._read_soon()
        self._update()

    def _read_soon(self) -> None:
        if self.reader is None or self._pool is None:
            return
        reader, names, loop = self.reader, self._profile_names(), self._loop

        def read() -> None:
            reading = reader.read(names)
            if reading is not None:
                loop.submit(self._take, reading)
        try:
            self._reading = self._pool.submit(read)
        except RuntimeError:   # shut down: the room is stopping
            self._reading = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.wall()).astimezone()

    def _work_out(self, now: datetime, facts: dict[str, ProfileFacts]) -> dayplan.Plan:
        settings = self.reading.settings
        session = self._session.session
        return dayplan.plan(self._config().room.id, [*self.reading.hand, *self.reading.calendar], facts, now,
                            settings.prepare_ahead if settings else DaySettings().prepare_ahead,
                            session.id if session else None, self.started, self.prepared, self.reading.problems)

    def _update(self) -> None:
        if self.reader is None:
            return
        now, facts = self._now(), self._facts()
        plan = self._work_out(now, facts)
        wanted = plan.prepare
        if wanted is not None and (self.prepared is None or self.prepared[0] != wanted.id):
            self.prepared = (wanted.id, now)
            self._arrive(wanted, facts)
            plan = self._work_out(now, facts)
        elif wanted is None and self.prepared is not None:
            left, self.prepared = self.prepared[0], None
            self._layers.arrival = False
            if self._session.session is None:
                self._rest(left, plan.states.get(left, "removed"))
        self.plan = plan
        if self._body is None or {**self._body, "at": None} != {**plan.body, "at": None}:
            self._body = {"room": plan.body["room"], "at": dayplan.iso(now), **plan.body}
            self._journal_change(plan.body)
            self._touch()
        self._schedule(now, facts)

    def _journal_change(self, body: dict) -> None:
        known = (tuple((b["id"], b["profile"], b["start"]) for b in body["bookings"]),
                 tuple((p["booking"], p["code"]) for p in body["problems"]))
        if known != self._known:
            self._known = known
            self._emit("day_changed", bookings=len(known[0]), problems=[code for _, code in known[1]])

    def _schedule(self, now: datetime, facts: dict[str, ProfileFacts]) -> None:
        settings = self.reading.settings
        ahead = settings.prepare_ahead if settings else DaySettings().prepare_ahead
        times = dayplan.moments([*self.reading.hand, *self.reading.calendar], facts, ahead, self.prepared)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time()).astimezone()
        # a moment's own look comes a millisecond after it, so the wall time read then is past it, never a hair short
        wait = min([(t - now).total_seconds() + 0.001 for t in [*times, midnight] if t > now] + [CHECK])
        if self._timer is not None:   # one look waits at a time, whoever worked the plan out last
            self._timer.cancel()
        self._timer = self._loop.call_later(wait, self.look)

    # -- what the room does -------------------------------------------------------------------------------------

    def _arrive(self, booking: Booking, facts: dict[str, ProfileFacts]) -> None:
        """The arrival scene and music: the booking's profile's first phase, as the room's base layer."""
        profile = self._session.profiles[booking.profile or ""]
        phase = profile.phases[0]
        layers = self._layers
        layers.arrival = True
        layers.set_scene(phase.lights.changes(self._config().lights) if phase.lights else {},
                         phase.lights.transition if phase.lights else 0.0)
        if phase.music is not None and self._music is not None:
            self._music.play(phase.music, reason=f"arrival for {profile.id}")
        self._emit("booking_prepared", booking=booking.id, profile=profile.id, start=dayplan.iso(booking.start),
                   arrival_s=facts[profile.id].arrival_s)

    def _rest(self, booking_id: str, state: str) -> None:
        """No booking to prepare for: back to the idle scene, the music out."""
        config = self._config()
        self._layers.set_scene(self._layers.idle, config.idle.transition)
        if self._music is not None:
            self._music.play("stop", reason="no booking to prepare")
        self._emit("booking_unprepared", booking=booking_id, state=state)

    # -- the therapist's tap ------------------------------------------------------------------------------------

    def begin(self, booking_id: str) -> dict:
        """`POST /api/day/start`: the booking's session, started exactly as `POST /api/session` starts one."""
        if self.plan is None:
            raise UnknownBooking("this room has no day plan (no `clinic:` in its file)")
        self._update()
        assert self.plan is not None
        booking = next((b for b in self.plan.body["bookings"] if b["id"] == booking_id), None)
        if booking is None:
            raise UnknownBooking(f"there is no booking {booking_id[:40]!r} in this room's plan")
        if booking["state"] in ("started", "done"):
            raise Conflict("this booking's session was started already")
        if booking["name"] is None:
            raise Conflict("this booking names no session profile of this room")
        self._starting = True
        try:
            result = self._session.start(booking["profile"])
        finally:
            self._starting = False
        self._started(booking_id, booking["profile"], result["session"], by="day")
        return result

    def _started(self, booking_id: str, profile: str, session: int, by: str) -> None:
        self.started[booking_id] = session
        while len(self.started) > STARTED_KEPT:
            del self.started[next(iter(self.started))]
        self._emit("booking_started", booking=booking_id, profile=profile, session=session, by=by)
        self._update()

    # -- following the room ------------------------------------------------------------------------------------

    def event(self, kind: str, data: dict) -> None:
        if self.reader is None:
            return
        if kind == "session_started" and not self._starting and self.prepared is not None and self.plan is not None:
            prepared = next((b for b in self.plan.body["bookings"] if b["id"] == self.prepared[0]), None)
            session = self._session.session
            if prepared is not None and prepared["profile"] == data.get("profile") and session is not None:
                booking_id, session_id = prepared["id"], session.id
                self._loop.call_later(0, lambda: self._started(booking_id, data["profile"], session_id, "session"))
        if kind in ("session_started", "session_stopped", "session_recovered"):
            self._loop.call_later(0, self.look)
        elif kind == "mqtt_connected":
            self._sent = None

    def review(self, snapshot: dict) -> dict:
        """The plan in the snapshot; published when it changed (or the broker is new)."""
        body = self._body if self.reader is not None else None
        if body is not None and self._mqtt_connected():
            payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
            if payload != self._sent and self._publish(MqttMessage(self.topic, payload, qos=1, retain=True)):
                self._sent = payload
        return {"day": body}
