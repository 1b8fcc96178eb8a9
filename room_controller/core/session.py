"""A running session, on the core loop: its clock, its timeline, the tick that keeps the room in phase.

The tick (every second, and at once after any control) derives the phase from session time and, when it
differs from the phase the room was last set for, sets the room for it: the phase's scene as the room's
base layer (manual adjustments are dropped, a preset keeps holding on top), and the phase's music. It is
idempotent: ticking twice changes nothing. Reminders come due by session time, so a wall-clock step
(NTP on a computer with no real-time clock) never skips, repeats or delays a phase or a reminder.

A move (next, previous, a corrected session time) can be undone for UNDO_WINDOW seconds of real time after
it, paused or not: the session goes back to the phase it left, at the time that phase has reached by now
(`timeline.undo`), and the tick sets the room for it again. A newer move replaces the offer; stopping the
session or restarting the service ends it (after a restart the move stands, as the journal says).

Every control and every phase entered is journaled with a copy of the timeline, and a checkpoint of session
time is written every few seconds, with the session's recovery record when it changed (session.recovery):
`recover()` rebuilds the session from the newest of these and the events after it. Across a reboot the time
the room was off is known only from a synchronised wall clock; otherwise the session resumes at its last
checkpoint, the panel says so, and the therapist sets the session time (`set_elapsed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from room_controller import units
from room_controller.errors import Conflict, NotFound
from room_controller.journal.store import Checkpoint, Journal, JournalError
from room_controller.session import recovery
from room_controller.session import timeline as tl
from room_controller.session.profiles import SessionProfile
from room_controller.session.recovery import RECOVERY_KINDS, Record

if TYPE_CHECKING:
    from room_controller.audio.music import Music
    from room_controller.config import RoomConfig
    from room_controller.core.layers import Layers
    from room_controller.core.loop import Loop, Timer
    from room_controller.core.presets import Presets

log = logging.getLogger(__name__)

TICK = 1.0
CHECKPOINT_EVERY = 2.0
MAX_GAP_ACROSS_BOOTS = 24 * 3600.0   # a wall-clock gap larger than this after a reboot is not believed
CLOCK_PROBLEM = "session_clock"      # room.problems key: the session time after a reboot may be wrong
UNDO_WINDOW = 15.0                   # seconds a move can be undone: long enough to see it was a mistake


@dataclass
class PendingReminder:
    id: int
    text: str
    due_s: float
    phase: str


@dataclass(frozen=True)
class Move:
    """A move that can still be undone: what it left, and the time it was made."""
    reason: str                 # next, previous, or clock (a corrected session time)
    before: tl.Timeline         # the timeline it left
    shift: float                # the session time it added to the clock (0 for a phase move)
    left: int                   # the phase it left
    left_at: float              # how far into that phase the session was
    session_at: float           # and the session time
    at: float                   # monotonic time of the move
    problem: str | None = None  # the doubt about the session time that a correction cleared

    def open(self, now: float) -> bool:
        return now - self.at <= UNDO_WINDOW


@dataclass
class Session:
    id: int
    profile: SessionProfile
    label: str
    clock: tl.SessionClock
    timeline: tl.Timeline
    applied: int | None = None
    reminded_to: float = 0.0              # session time up to which session reminders were checked
    phase_reminded_to: float = -1.0       # phase time up to which the phase's reminders were checked
    reminders: list[PendingReminder] = field(default_factory=list)
    last_checkpoint: float = float("-inf")
    recovered: bool = False               # rebuilt from the journal after a restart (not started here)
    record: Record = field(default_factory=Record)   # what recovery would rebuild, up to the newest event
    record_saved: bool = False            # the journal's copy of `record` is up to date
    undo: Move | None = None              # the last move, while it can be undone

    def elapsed(self, now: float) -> float:
        return self.clock.elapsed(now)

    def position(self, now: float) -> tl.Position:
        return tl.phase_at(self.timeline, self.elapsed(now))


class SessionRunner:
    """Given only what a session touches (core/room.Room wires it): the room's configuration as it is now, the
    loop and its clock, the journal, the session profiles, the layers (a phase's scene, the idle scene, the
    adjustments recovery puts back), the presets (the one that stood before a restart), the music (None: a room
    without audio), the room's problems, and its `emit` (journal an event, tell the followers) and `touch` (a
    new snapshot)."""

    def __init__(self, journal: Journal, profiles: dict[str, SessionProfile], *, config: Callable[[], RoomConfig],
                 loop: Loop, layers: Layers, presets: Presets, music: Music | None, problems: dict[str, str],
                 emit: Callable[..., object], touch: Callable[[], object]) -> None:
        self.journal = journal
        self.profiles = profiles
        self._config, self.loop, self.clock = config, loop, loop.clock
        self.layers, self.presets, self.music, self.problems = layers, presets, music, problems
        self.emit, self.touch = emit, touch
        self.session: Session | None = None
        self._timer: Timer | None = None
        self._reminder_ids = 0
        journal.on_append = self._journaled

    # -- controls (core loop) --------------------------------------------------------------------------------

    def start(self, profile_id: str, label: str = "") -> dict:
        if self.session is not None:
            raise Conflict(f"a session is running ({self.session.profile.name}); stop it first")
        profile = self.profiles.get(profile_id)
        if profile is None:
            raise NotFound(f"there is no session profile {profile_id!r}; profiles: {', '.join(self.profiles)}")
        now = self.clock.monotonic()
        session_id = self.journal.new_session(profile.id, profile.name, label, profile.model_dump(mode="json"),
                                              self.clock.wall())
        timeline = tl.Timeline(tuple(p.seconds for p in profile.phases))
        self.session = Session(session_id, profile, label, tl.SessionClock(0.0, now), timeline)
        self.emit("session_started", profile=profile.id, name=profile.name, label=label,
                       timeline=asdict(timeline))
        if self.music is not None:
            self.music.reset_dose()   # the sound dose is this client's, from their session's start
        self._tick()
        return {"session": session_id}

    def pause(self) -> dict:
        return self._set_paused(True)

    def resume(self) -> dict:
        return self._set_paused(False)

    def _set_paused(self, paused: bool) -> dict:
        """Stop or restart the session clock; asking for what already is changes nothing."""
        session = self._running()
        if session.clock.paused != paused:
            now = self.clock.monotonic()
            session.clock = session.clock.pause(now) if paused else session.clock.resume(now)
            self.emit("session_paused" if paused else "session_resumed")
            self._checkpoint(force=True)
        return self._state()

    def next(self) -> dict:
        return self._move(+1, "next")

    def previous(self) -> dict:
        return self._move(-1, "previous")

    def _move(self, step: int, reason: str) -> dict:
        session = self._running()
        now = self.clock.monotonic()
        position = session.position(now)
        target = position.index + step
        if not 0 <= target < len(session.profile.phases):
            raise Conflict("this is the last phase; stop the session to end it" if step > 0
                           else "this is the first phase")
        session.undo = Move(reason, session.timeline, 0.0, position.index, position.elapsed, session.elapsed(now), now)
        session.timeline = tl.move_to(session.timeline, target, session.elapsed(now))
        self.emit("phase_moved", to=target, reason=reason, timeline=asdict(session.timeline))
        self._tick()
        return self._state()

    def extend(self, seconds: float) -> dict:
        session = self._running()
        index = session.position(self.clock.monotonic()).index
        try:
            session.timeline = tl.extend(session.timeline, index, seconds)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        self.emit("phase_extended", phase=index, by_s=seconds, timeline=asdict(session.timeline))
        self._tick()
        return self._state()

    def stop(self) -> dict:
        session = self._running()
        dose = self.music.snapshot().get("dose") if self.music is not None else None
        self.emit("session_stopped", elapsed_s=round(session.elapsed(self.clock.monotonic()), 1),
                       **({"dose": dose["percent"]} if dose else {}))
        self.journal.end_session(session.id, self.clock.wall())
        self.session = None
        self.problems.pop(CLOCK_PROBLEM, None)
        if self._timer:
            self._timer.cancel()
        self.layers.set_scene(self.layers.idle, self._config().idle.transition)   # slowly, to the room at rest
        if self.music is not None:
            self.music.play("stop", reason="session stopped")
        return {"session": None}

    def set_elapsed(self, seconds: float) -> dict:
        """The therapist's correction of the session time (after a reboot without network time): the room
        moves to the phase of that time; reminders before it are not shown again."""
        session = self._running()
        now = self.clock.monotonic()
        before, left = session.elapsed(now), session.position(now)
        session.clock = session.clock.set(seconds, now)
        position = session.position(now)
        session.reminded_to, session.phase_reminded_to = seconds, position.elapsed
        session.undo = Move("clock", session.timeline, seconds - before, left.index, left.elapsed, before, now,
                            self.problems.pop(CLOCK_PROBLEM, None))
        self.emit("session_clock_set", from_s=round(before, 1), to_s=round(seconds, 1))
        self._checkpoint(force=True)
        self._tick()
        return self._state()

    def undo(self) -> dict:
        """Take back the last move within UNDO_WINDOW of it: the phase it left, at the time that phase has
        reached by now, with its light, and its music where it stood; reminders that came due meanwhile in it are
        shown."""
        session = self._running()
        now = self.clock.monotonic()
        move = session.undo
        if move is None:
            raise Conflict("there is no phase move to undo")
        if not move.open(now):
            raise Conflict(f"too late to undo: a phase move can be undone for {UNDO_WINDOW:g} s after it")
        moved = session.position(now)
        session.timeline, session.clock = tl.undo(session.timeline, session.clock, move.before, move.shift, now)
        session.undo = None
        position = session.position(now)
        if move.shift:
            session.reminded_to = move.session_at
        if move.problem is not None:
            self.problems[CLOCK_PROBLEM] = move.problem
        phases = session.profile.phases
        self.emit("phase_undone", undid=move.reason, moved_to=phases[moved.index].name,
                       back_to=phases[position.index].name, index=position.index,
                       phase_elapsed_s=round(position.elapsed, 1), elapsed_s=round(session.elapsed(now), 1),
                       after_s=round(now - move.at, 1), timeline=asdict(session.timeline))
        if position.index != session.applied:
            self._enter(session, position, returning=True)
        session.phase_reminded_to = move.left_at if position.index == move.left else -1.0
        self._checkpoint(force=True)
        self._tick()
        return self._state()

    def acknowledge(self, reminder_id: int) -> dict:
        session = self._running()
        for reminder in session.reminders:
            if reminder.id == reminder_id:
                session.reminders.remove(reminder)
                self.emit("reminder_acknowledged", reminder=reminder.id, text=reminder.text)
                return self._state()
        raise NotFound(f"no reminder {reminder_id} is waiting")

    def _running(self) -> Session:
        if self.session is None:
            raise Conflict("no session is running")
        return self.session

    def _state(self) -> dict:
        return {"session": self.snapshot()}

    # -- the tick --------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self._timer:
            self._timer.cancel()
        session = self.session
        if session is None:
            return
        now = self.clock.monotonic()
        position = session.position(now)
        if position.index != session.applied:
            self._enter(session, position)
        self._remind(session, position)
        self._checkpoint()
        self.touch()
        self._timer = self.loop.call_at(now + TICK, self._tick)

    def _enter(self, session: Session, position: tl.Position, returning: bool = False) -> None:
        """Set the room for the phase; `returning` to it by an undo, whose fade had run (or part of it)."""
        phase = session.profile.phases[position.index]
        # only a session rebuilt after a restart has a fade that already ran; a fresh one is a few
        # microseconds old at its first tick on a real clock, which is no reason to shorten anything
        recovering = session.recovered and session.applied is None and position.elapsed > 0
        session.applied = position.index
        session.phase_reminded_to = position.elapsed if recovering else -1.0
        transition = phase.lights.transition if phase.lights else 0.0
        if recovering or returning:  # the phase's own fade has run (or part of it) already
            transition = max(self._config().lighting.reassert_transition, transition - position.elapsed)
        self.layers.set_scene(phase.lights.changes(self._config().lights) if phase.lights else {}, transition)
        if phase.music is not None and self.music is not None:   # back by an undo: where it stood
            self.music.play(phase.music, reason=f"phase {phase.name}", resume=returning)
        self.emit("phase_entered", index=position.index, name=phase.name, planned_s=phase.seconds,
                       transition_s=transition, recovered=recovering, **({"returned": True} if returning else {}))

    def _remind(self, session: Session, position: tl.Position) -> None:
        elapsed = position.started_at + position.elapsed
        due: list[tuple[float, str, str]] = []
        for reminder in session.profile.reminders:
            for t in reminder.times(elapsed):
                if t > session.reminded_to:
                    due.append((t, reminder.text, ""))
        session.reminded_to = elapsed
        phase = session.profile.phases[position.index]
        for reminder in phase.reminders:
            for t in reminder.times(position.elapsed):
                if t > session.phase_reminded_to:
                    due.append((position.started_at + t, reminder.text, phase.name))
        session.phase_reminded_to = position.elapsed
        shown = {r.text for r in session.reminders}
        for due_s, text, phase_name in sorted(due):
            if text in shown:   # late ticks (a restart) show a repeating reminder once, not once per miss
                continue
            shown.add(text)
            self._reminder_ids += 1
            session.reminders.append(PendingReminder(self._reminder_ids, text, due_s, phase_name))
            self.emit("reminder_shown", reminder=self._reminder_ids, text=text, due_s=due_s, phase=phase_name)

    def _checkpoint(self, force: bool = False) -> None:
        session = self.session
        now = self.clock.monotonic()
        if session is None or (not force and now - session.last_checkpoint < CHECKPOINT_EVERY):
            return
        session.last_checkpoint = now
        try:
            self.journal.checkpoint(Checkpoint(session.id, session.elapsed(now), now, self.clock.wall(), self.clock.boot(),
                                               session.clock.paused))
            if not session.record_saved:   # so recovery reads only the events after this
                self.journal.save_recovery(session.id, session.record.to_json())
                session.record_saved = True
        except JournalError:   # disk full: the session keeps time all the same (the tick must not die here)
            self.problems["journal"] = self.journal.problem or "the journal cannot be written"

    def _journaled(self, session_id: int | None, kind: str, data: dict) -> None:
        """Every row the journal takes (core loop): the running session's record follows its events."""
        session = self.session
        if session is not None and session_id == session.id and kind in RECOVERY_KINDS:
            session.record.add(kind, data)
            session.record_saved = False

    # -- what the panel sees -----------------------------------------------------------------------------------

    def session_info(self) -> tuple[int, float] | None:
        if self.session is None:
            return None
        return self.session.id, round(self.session.elapsed(self.clock.monotonic()), 3)

    def snapshot(self) -> dict | None:
        session = self.session
        if session is None:
            return None
        now = self.clock.monotonic()
        position = session.position(now)
        phase = session.profile.phases[position.index]
        return {
            "id": session.id,
            "profile": session.profile.id,
            "profile_name": session.profile.name,
            "label": session.label,
            "elapsed_s": round(session.elapsed(now), 1),
            "paused": session.clock.paused,
            "planned_s": tl.planned_total(session.timeline),
            "phase": {"index": position.index, "name": phase.name, "elapsed_s": round(position.elapsed, 1),
                      "remaining_s": None if position.remaining is None else round(position.remaining, 1),
                      "overtime_s": round(position.overtime, 1), "guidance": phase.guidance},
            "phases": [{"name": p.name, "duration_s": d}
                       for p, d in zip(session.profile.phases, session.timeline.durations)],
            "reminders": [asdict(r) for r in session.reminders],
            "undo": self._offer(session, now),
        }

    def _offer(self, session: Session, now: float) -> dict | None:
        """What an undo would return to now, and for how long it is offered (None: nothing to undo)."""
        move = session.undo
        if move is None or not move.open(now):
            return None
        timeline, clock = tl.undo(session.timeline, session.clock, move.before, move.shift, now)
        back = tl.phase_at(timeline, clock.elapsed(now))
        return {"undoes": move.reason, "back_to": session.profile.phases[back.index].name, "index": back.index,
                "phase_elapsed_s": round(back.elapsed, 1), "expires_in_s": round(move.at + UNDO_WINDOW - now, 1),
                "window_s": UNDO_WINDOW}

    # -- recovery ----------------------------------------------------------------------------------------------

    def recover(self) -> None:
        """Resume the session that was running when the service stopped, at the offset real time says, and
        the preset that held the room (with or without a session)."""
        found = self.journal.read.running_session()
        record = recovery.load(self.journal.read, found[0]) if found else Record()
        preset = self._standing_preset(record)
        if found is not None:
            self._resume(*found, record, preset)
        if preset is not None and preset in self._config().presets:
            self.presets.restore(preset)   # a calm room before the crash is a calm room after it
            volume, under_preset = record.chosen_volume
            if self.music is not None and volume is not None and under_preset:
                self.music.set_volume(volume)   # chosen under the preset: its level too

    def _standing_preset(self, record: Record) -> str | None:
        """The preset on when the service stopped: the standing file's word (written even on a full disk),
        or for a journal from before it, the session's last preset event."""
        standing = self.journal.standing.state
        if standing is not None:
            return standing.get("preset")
        return record.preset

    def _resume(self, session_id: int, profile_data: dict, checkpoint: Checkpoint | None, record: Record,
                preset: str | None) -> None:
        profile = SessionProfile.model_validate(profile_data)
        timeline = record.timeline_or(tl.Timeline(tuple(p.seconds for p in profile.phases)))
        now = self.clock.monotonic()
        elapsed, paused, doubt = 0.0, False, None
        gap: float | None = 0.0
        if checkpoint is not None:
            paused = checkpoint.paused
            gap, doubt = self._gap(checkpoint, now)
            elapsed = checkpoint.session_s + (0.0 if paused else gap or 0.0)
        clock = tl.SessionClock(elapsed, None if paused else now)
        self.session = Session(session_id, profile, record.label, clock, timeline, reminded_to=elapsed, recovered=True,
                               record=record)
        self.session.reminders = [PendingReminder(*pending) for pending in record.pending()]
        self._reminder_ids = max(record.reminders, default=0)
        if doubt and not paused:
            self.problems[CLOCK_PROBLEM] = (
                f"{doubt}: the session resumed at {units.format_duration(elapsed)}, where it was last saved, "
                "and the time the room was off is not counted. Set the session time if it is later.")
            log.warning(self.problems[CLOCK_PROBLEM])
        self.emit("session_recovered", gap_s=None if gap is None else round(gap, 1),
                       elapsed_s=round(elapsed, 1), paused=paused, preset=preset,
                       clock=doubt or "trusted")
        if self.music is not None:   # the dose goes on from the last step the journal has
            self.music.reset_dose(0.0 if record.dose is None else record.dose)
        volume, _ = record.chosen_volume
        if self.music is not None and volume is not None:
            self.music.set_volume(volume)   # before the phase's music, which then keeps to the therapist's level
        self.layers.manual = record.held_adjustments(set(self.layers.lights))
        self._tick()

    def _gap(self, checkpoint: Checkpoint, now: float) -> tuple[float | None, str | None]:
        """How long the session ran on since its checkpoint, and why that cannot be trusted (None: it can).
        The same boot: monotonic time. Another boot: only a synchronised wall clock, within a day."""
        if checkpoint.boot_id == self.clock.boot() and now >= checkpoint.mono:
            return now - checkpoint.mono, None
        if self.clock.synchronised() is False:
            return None, "this computer restarted and its clock is not synchronised (no network time)"
        gap = self.clock.wall() - checkpoint.wall
        if not 0 <= gap <= MAX_GAP_ACROSS_BOOTS:
            return None, f"this computer restarted and its clock says {units.format_duration(abs(gap))} " \
                         f"{'later' if gap > 0 else 'earlier'} than the last save, which is not believed"
        return gap, None

