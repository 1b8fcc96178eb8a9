"""The room's music: the service the core talks to.

Every public method only puts a command on a queue and returns; one thread (the music thread) owns VLC, the
decks, the fades and the timers, and publishes a snapshot for readers. Time comes from the injected Clock,
so a test with a ManualClock decides exactly when crossfades and ramps happen.

The thread's work is in parts: what plays (`programme.Programme`), the two decks that play it and the
crossfade and pause between them (`decks.Decks`), the room's level (`level.Level`) and the sound dose
(`dose.Dose`). With `normalise_to`, a track louder than that plays that much lower (measured off this
thread, `loudness.py`). Every few seconds the thread checks that the output still takes what VLC decodes.

The snapshot says what plays, where the level is and is going, the dose and the output's health. `on_change`
is called (on the music thread, at most every ANNOUNCE_GAP s) when the snapshot changes, so a panel sees a
ramp move.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path

from room_controller.audio import loudness
from room_controller.audio.decks import TICK, Decks
from room_controller.audio.dose import Dose
from room_controller.audio.level import Level
from room_controller.audio.programme import Programme
from room_controller.audio.settings import AudioSettings, MusicPlay, MusicSpec, as_spec
from room_controller.audio.vlc_player import OutputError
from room_controller.infrastructure.clock import Clock

log = logging.getLogger(__name__)

WATCH = 5.0          # seconds between checks that the output still takes what VLC decodes
RETRY = 10.0         # seconds between attempts to bring a failed output back
ANNOUNCE_GAP = 0.25  # seconds between `on_change` calls while the snapshot keeps changing (a ramp, a fade)


class Music:
    def __init__(self, settings: AudioSettings, playlists_dir: Path, clock: Clock,
                 notify: Callable[[str, dict], None], on_change: Callable[[], object] | None = None) -> None:
        self._settings = settings
        self._clock = clock
        self._notify_cb = notify
        self._on_change = on_change
        self._announced: dict | None = None     # the snapshot last announced, without its position
        self._announced_at = float("-inf")
        self._announce_at: float | None = None  # a change held back by ANNOUNCE_GAP goes out then
        self._commands: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._snap: dict = {"playing": False, "track": None, "position_s": 0.0, "volume": 0.0,
                            "playlist": None, "dose": None, "health": "error", "problem": "not started",
                            "held": False, "decks": []}
        self._snap_position: tuple[float, float | None] = (0.0, None)
        self._deadline: float | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        # music-thread state
        self._decks = Decks(settings)
        self._level = Level(settings)
        self._dose = Dose(settings, clock.monotonic(), self._notify)
        self._programme = Programme(settings, playlists_dir, clock, self._decks, self._level, self._notify,
                                    self._measure, self._set_problem)
        self._measurer = loudness.Measurer(lambda path, lufs: self._send("loudness", path, lufs))
        self._problem: str | None = "not started"
        self._next_watch = 0.0
        self._running = True

    # -- the interface (any thread; each returns at once) ---------------------------------------------------

    def start(self) -> None:
        """Start the music thread; returns once the output has been checked (about half a second)."""
        self._clock.register(self)
        self._thread = threading.Thread(target=self._run, name="music", daemon=True)
        self._thread.start()
        self._started.wait(10.0)

    def stop(self, fade: bool = True) -> None:
        """Fade out (unless `fade` is False), release VLC and end the music thread."""
        if self._thread is None:
            return
        self._send("shutdown", fade)
        self._thread.join(self._settings.fade_out + 10.0)
        unregister = getattr(self._clock, "unregister", None)
        if unregister:
            unregister(self)
        self._thread = None

    def play(self, music: MusicSpec | str, reason: str = "", resume: bool = False) -> None:
        """The phase's music: crossfade to a playlist, or to silence. Under a held preset it waits. `resume`:
        a phase move undone, so the music goes back to where it stood before another phase's replaced it."""
        self._send("play", as_spec(music), reason, resume)

    def hold(self, music: MusicSpec | str, reason: str = "") -> None:
        """A preset's music (calm, emergency) over the phase's; `release()` goes back to where it was."""
        self._send("hold", as_spec(music), reason)

    def release(self, reason: str = "") -> None:
        self._send("release", reason)

    def set_volume(self, volume: float) -> None:
        """The therapist's choice (0-100; ValueError outside): ramped to, capped by max_volume, and kept
        across phase changes until `follow_phase()`."""
        if not 0 <= volume <= 100:
            raise ValueError(f"volume {volume} is outside 0-100")
        self._send("volume", float(volume))

    def follow_phase(self) -> None:
        """Give up the therapist's choice: ramp to the phase's volume (on release, under a held preset)."""
        self._send("follow")

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def next(self) -> None:
        """Crossfade to the next track (a silent stretch ends at once)."""
        self._send("next")

    def calibrate(self, dba: float) -> None:
        """A new calibration (the clinic tools' step) counts from now on, not from the next start."""
        self._send("calibrate", float(dba))

    def reset_dose(self, percent: float = 0.0) -> None:
        """A new session starts at 0 %; after a restart the core may hand back what its journal says."""
        self._send("dose", float(percent))

    def snapshot(self) -> dict:
        with self._lock:
            snap = dict(self._snap)
            offset, since = self._snap_position
        if since is not None:
            snap["position_s"] = round(offset + max(0.0, self._clock.monotonic() - since), 1)
        return snap

    def health(self) -> str:
        return self.snapshot()["health"]

    # -- ManualClock driving --------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        with self._lock:
            return self._deadline

    def settle(self) -> None:
        """Let the music thread catch up with the clock (ManualClock calls this after each step)."""
        if self._thread is None or not self._thread.is_alive():
            return
        done = threading.Event()
        self._send("sync", done)
        done.wait(10.0)

    # -- the music thread -----------------------------------------------------------------------------------

    def _send(self, *command) -> None:
        self._commands.put(command)

    def _run(self) -> None:
        try:
            self._open()
        finally:
            self._started.set()
        try:
            while self._running:
                try:
                    command = self._commands.get(timeout=self._clock.timeout(self._deadline))
                except queue.Empty:
                    command = None
                syncs = []
                while command is not None:
                    if command[0] == "sync":
                        syncs.append(command[1])
                    else:
                        self._handle(command)
                    command = self._next_command()
                if self._running:
                    self._update(self._clock.monotonic())
                for done in syncs:
                    done.set()
        except Exception:  # the room carries on without music; say so in health
            log.exception("the music thread failed")
            self._set_problem("the music thread failed; see the log")
        finally:
            self._close()

    def _next_command(self):
        try:
            return self._commands.get_nowait()
        except queue.Empty:
            return None

    def _handle(self, command: tuple) -> None:
        kind, *args = command
        now = self._clock.monotonic()
        if kind == "play" and args[2] and self._programme.goes_on(args[0]):
            return   # the phase's music goes on as it is (paused too, if it was)
        if kind in ("hold", "release", "next") or (kind == "play" and not self._programme.held):
            self._end_pause(now)  # a pause is about the music playing now; new music plays
        if kind == "vlc":
            self._programme.ended(now, *args)
        elif kind == "play":
            self._level.phase_music(args[0])
            self._programme.play(now, args[0], resume=args[2])
        elif kind == "hold":
            self._level.volume = self._level.volume.held(args[0].volume if isinstance(args[0], MusicPlay) else None)
            self._programme.hold(now, args[0])
        elif kind == "release" and self._programme.held:
            self._level.volume = self._level.volume.released()
            self._programme.release(now)
        elif kind in ("volume", "follow"):
            volume = self._level.volume
            self._level.volume = volume.chosen(args[0]) if kind == "volume" else volume.following_phase()
            self._level.follow(now, self._decks)
        elif kind == "pause":
            self._decks.pause(now)
        elif kind == "resume":
            self._end_pause(now)
        elif kind == "next":
            self._programme.next(now)
        elif kind == "calibrate":
            self._dose.calibration_dba = args[0]
            self._measure([d.track.path for d in self._decks.sounding() if d.track is not None])
        elif kind == "dose":
            self._dose.reset(args[0])
        elif kind == "loudness":
            self._decks.measured(*args)
        elif kind == "shutdown":
            if args[0]:
                self._decks.fade_away()
            self._running = False

    def _open(self) -> None:
        try:
            self._decks.open(self._settings.vlc_args, lambda deck, kind: self._send("vlc", deck, kind))
        except OutputError as exc:
            self._set_problem(str(exc))
            return
        self._check_output(self._clock.monotonic())
        self._publish(self._clock.monotonic())

    def _check_output(self, now: float) -> None:
        assert self._decks.out is not None   # checked only while the output is open
        problem = self._decks.out.check_output()
        if problem is None:
            self._problem = None
        elif problem != self._problem:
            self._set_problem(problem)
        self._next_watch = now + (WATCH if problem is None else RETRY)

    def _set_problem(self, problem: str) -> None:
        self._problem = problem
        log.error("audio: %s", problem)
        self._notify("audio_error", {"message": problem})
        self._publish(self._clock.monotonic())

    def _close(self) -> None:
        self._decks.close()
        self._running = False

    def _notify(self, kind: str, data: dict) -> None:
        try:
            self._notify_cb(kind, data)
        except Exception:
            log.exception("audio: notify(%s) failed", kind)

    def _measure(self, paths: list[Path]) -> None:
        """Only what the dose or the normalisation needs: a room without either measures nothing."""
        if self._dose.calibration_dba is not None or self._settings.normalise_to is not None:
            self._measurer.want(paths)

    def _end_pause(self, now: float) -> None:
        self._programme.shift(self._decks.resume(now))

    # -- the tick -------------------------------------------------------------------------------------------

    def _update(self, now: float) -> None:
        if self._decks.out is None:
            self._publish(now)
            return
        self._dose.account(now)
        self._decks.settle(now)
        self._programme.follow(now)
        self._level.follow(now, self._decks)
        self._decks.set_volumes(now, self._level.at(now))
        self._dose.hear(self._decks.audible())
        if now >= self._next_watch:
            self._watch(now)
        self._publish(now)

    def _watch(self, now: float) -> None:
        """Is the output still taking what VLC decodes? If not, say so, and bring it back when possible."""
        if self._problem is not None:
            self._check_output(now)
            if self._problem is None:
                self._decks.replay(now)
            return
        self._next_watch = now + WATCH
        if self._decks.stalled():
            self._set_problem("the audio output stopped taking sound (device gone?)")
            self._next_watch = now + RETRY

    def _next_timer(self, now: float) -> float:
        if not self._level.done(now) or self._decks.fading(now) or self._programme.waiting:
            return now + TICK
        timers = [self._next_watch, *self._programme.timers()]
        if self._announce_at is not None:
            timers.append(self._announce_at)
        if self._decks.leaving():
            timers.append(now + TICK)
        return min(timers)

    def _publish(self, now: float) -> None:
        active = self._decks.active
        playing = self._decks.playing
        track = active.track if active else None
        position = round(self._decks.position(now), 1)
        snap = {
            "playing": playing,
            "track": track.title if track else None,
            "file": str(track.path) if track else None,
            "position_s": position,
            **self._level.snapshot(now),
            "playlist": self._programme.playlist,
            "silence": self._programme.silent,
            "held": self._programme.held,
            "dose": self._dose.snapshot(),
            "health": "ok" if self._problem is None else "error",
            "problem": self._problem,
            "decks": [{"track": d.track.title, "volume": round(d.volume, 1)} for d in self._decks.sounding()
                      if d.track],
        }
        with self._lock:
            self._snap = snap
            self._snap_position = (position, now if playing else None)
        self._announce(now, snap)
        with self._lock:
            if not self._running:
                self._deadline = None
            else:
                self._deadline = self._next_timer(now) if self._decks.out is not None else self._announce_at

    def _announce(self, now: float, snap: dict) -> None:
        """Tell `on_change` of a new snapshot (its position aside: readers work that out), at most every
        ANNOUNCE_GAP s; a change held back goes out at the end of the gap (a timer), so the last is never lost."""
        seen = {k: v for k, v in snap.items() if k != "position_s"}
        if self._on_change is None or seen == self._announced:
            self._announce_at = None
            return
        if now < self._announced_at + ANNOUNCE_GAP:
            self._announce_at = self._announced_at + ANNOUNCE_GAP
            return
        self._announced, self._announced_at, self._announce_at = seen, now, None
        try:
            self._on_change()
        except Exception:
            log.exception("audio: on_change failed")
