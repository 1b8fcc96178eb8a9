"""The room's music: the service the core talks to.

Every public method only puts a command on a queue and returns; one thread (the music thread) owns the
VLC adapter, the decks, the fades and the timers, and publishes a snapshot for readers. Time comes from the
injected Clock, so a test with a ManualClock decides exactly when crossfades and ramps happen.

Two decks carry the sound. The active deck plays the current track; when it is `crossfade` seconds from
its end (or the phase or preset changes, or someone presses "next") the other deck starts the next track
and the two cross on an equal-power curve. The room's level is a ramp that rises no faster than
`max_rise_per_s` (no sudden blast, whoever asks); each deck plays at level x its fade gain, never above
`max_volume`. Which level is asked for (the phase's, the therapist's, a preset's) is `volume.Volume`'s rule.
With `normalise_to`, a track louder than that plays that much lower (measured off this thread, `loudness.py`).

The sound dose counts what is heard: each deck's volume and its track's measured loudness, through the
room's `calibration_dba`. Without calibration there is no number, and the snapshot says so.

The snapshot says where the level is (`volume`), where it is going (`target_volume`), what was asked
(`requested_volume`) and whether `max_volume` holds it back (`limited`). `on_change` is called (on the
music thread, at most every ANNOUNCE_GAP s) when the snapshot changes, so a panel sees a ramp move.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from room_controller.audio import loudness, playlists, ramps
from room_controller.audio.playlists import Playlist, Silence, Track
from room_controller.audio.ramps import Fade, Ramp
from room_controller.audio.settings import AudioSettings, MusicPlay, MusicSpec, as_spec
from room_controller.audio.vlc_player import BadTrack, Deck, OutputError, VlcOutput
from room_controller.audio.volume import Volume
from room_controller.infrastructure.clock import Clock

log = logging.getLogger(__name__)

TICK = 0.05          # seconds between volume steps while anything fades: each step is too small to hear
HURRY = 0.5          # a deck still fading out when a third track needs it fades out this fast
WATCH = 5.0          # seconds between checks that the output still takes what VLC decodes
RETRY = 10.0         # seconds between attempts to bring a failed output back
END_SLACK = 1.0      # a track that ends this much before its length ended early (a decoding problem)
READ_AHEAD = 1.5     # VLC amplifies as it decodes, up to this far ahead of what is heard (1-1.5 s
                     # measured with file-caching 300 ms through ALSA): a fade-out must end that long
                     # before the track does, or the track's tail is cut off loud
ANNOUNCE_GAP = 0.25  # seconds between `on_change` calls while the snapshot keeps changing (a ramp, a fade)


@dataclass
class _Deck:
    """What the music thread knows about one VLC deck."""

    out: Deck
    track: Track | None = None
    duration: float = 0.0
    offset: float = 0.0       # position (s) at `since`
    since: float = 0.0
    fade: Fade = Fade.steady(0.0)
    volume: float = 0.0       # what VLC was last told
    counters: tuple[int, int] = (0, 0)
    stalls: int = 0           # watches in a row at which the output took nothing
    lufs: float | None = None  # the track's loudness, once measured
    norm: float = 1.0         # its normalisation (amplitude), fixed when it starts: no jump mid-track

    def position(self, now: float) -> float:
        return self.offset + max(0.0, now - self.since)


@dataclass(frozen=True)
class _Resume:
    """Where the phase's music stood when a preset took over."""

    spec: MusicSpec | None
    playlist: Playlist | None
    index: int
    position: float


class Music:
    def __init__(self, settings: AudioSettings, playlists_dir: Path, clock: Clock,
                 notify: Callable[[str, dict], None], on_change: Callable[[], object] | None = None) -> None:
        self._settings = settings
        self._dir = Path(playlists_dir)
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
        self._out: VlcOutput | None = None
        self._decks: list[_Deck] = []
        self._active: _Deck | None = None
        self._playlist: Playlist | None = None
        self._index = 0
        self._silence_until: float | None = None
        self._pending: tuple[int, float, float] | None = None
        self._phase: MusicSpec | None = None
        self._held: _Resume | None = None
        self._volume = Volume(settings.default_volume)
        self._level = Ramp(settings.default_volume, min(settings.default_volume, settings.max_volume), 0, 0)
        self._pause = Fade.steady(1.0)
        self._paused_at: float | None = None
        self._resume_after_pause = False
        self._dose = 0.0
        self._dose_at = clock.monotonic()
        self._warned: set[float] = set()
        self._dba: float | None = None
        self._estimated = False               # a track whose loudness is not known yet is in the dose
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

    def play(self, music: MusicSpec | str, reason: str = "") -> None:
        """The phase's music: crossfade to a playlist, or to silence. Under a held preset it waits."""
        self._send("play", as_spec(music), reason)

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
        if kind in ("hold", "release", "next") or (kind == "play" and self._held is None):
            self._end_pause(now)  # a pause is about the music playing now; new music plays
        if kind == "vlc":
            self._on_vlc_event(now, *args)
        elif kind == "play":
            self._phase = args[0]
            self._phase_volume(args[0])
            if self._held is not None:
                self._held = self._resume_point(args[0], 0, 0.0)
            else:
                self._apply(now, args[0])
        elif kind == "hold":
            if self._held is None:
                self._held = self._resume_point(self._phase, self._index, self._active_position(now))
            self._volume = self._volume.held(args[0].volume if isinstance(args[0], MusicPlay) else None)
            self._apply(now, args[0])
        elif kind == "release" and self._held is not None:
            self._volume = self._volume.released()
            self._restore(now, self._held)
            self._held = None
        elif kind in ("volume", "follow"):
            self._volume = self._volume.chosen(args[0]) if kind == "volume" else self._volume.following_phase()
            self._follow_level(now)
        elif kind == "pause":
            self._start_pause(now)
        elif kind == "resume":
            self._end_pause(now)
        elif kind == "next":
            self._next(now)
        elif kind == "calibrate":
            self._settings = self._settings.model_copy(update={"calibration_dba": args[0]})
            self._measure([d.track.path for d in self._decks if d.track is not None])
        elif kind == "dose":
            self._dose, self._warned = args[0], {w for w in self._settings.dose_warnings if w <= args[0]}
        elif kind == "loudness":
            for deck in self._decks:
                if deck.track is not None and deck.track.path == args[0]:
                    deck.lufs = args[1]
        elif kind == "shutdown":
            self._shutdown(args[0])

    def _open(self) -> None:
        try:
            self._out = out = VlcOutput(self._settings.vlc_args, lambda deck, kind: self._send("vlc", deck, kind))
        except OutputError as exc:
            self._set_problem(str(exc))
            return
        self._decks = [_Deck(deck) for deck in out.decks]
        self._check_output(self._clock.monotonic())
        self._publish(self._clock.monotonic())

    def _check_output(self, now: float) -> None:
        assert self._out is not None   # checked only while the output is open
        problem = self._out.check_output()
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
        if self._out is not None:
            self._out.close()
            self._out = None
        self._decks = []
        self._running = False

    def _notify(self, kind: str, data: dict) -> None:
        try:
            self._notify_cb(kind, data)
        except Exception:
            log.exception("audio: notify(%s) failed", kind)

    # -- what to play ---------------------------------------------------------------------------------------

    def _apply(self, now: float, spec: MusicSpec | None) -> None:
        self._silence_until = None
        self._pending = None
        if not isinstance(spec, MusicPlay):
            self._playlist = None
            fade = self._settings.fade_out if spec == "stop" else self._settings.crossfade
            self._fade_out_all(now, fade)
            self._notify("silence", {"reason": spec or "nothing"})
            return
        self._follow_level(now)
        playlist = playlists.load(spec.playlist, self._dir)
        for problem in playlist.problems:
            self._notify("audio_error", {"message": str(problem)})
        self._playlist = playlist if playlist.entries else None
        self._measure([entry.path for entry in playlist.entries if isinstance(entry, Track)])
        self._index = 0
        if self._playlist is None:
            self._fade_out_all(now, self._settings.crossfade)
        else:
            self._advance(now, 0, 0.0, self._settings.crossfade)

    def _measure(self, paths: list[Path]) -> None:
        """Only what the dose or the normalisation needs: a room without either measures nothing."""
        if self._settings.calibration_dba is not None or self._settings.normalise_to is not None:
            self._measurer.want(paths)

    def _phase_volume(self, spec: MusicSpec) -> None:
        self._volume = self._volume.phase_asks(spec.volume if isinstance(spec, MusicPlay) else None)
        if spec == "stop":  # the session ended: the next client starts at their phases' levels
            self._volume = self._volume.following_phase()

    def _resume_point(self, spec: MusicSpec | None, index: int, position: float) -> _Resume:
        playlist = self._playlist if spec == self._phase and self._held is None else None
        return _Resume(spec, playlist, index, position)

    def _restore(self, now: float, where: _Resume) -> None:
        """Back to the phase's music where it stood, or to the next entry when little of the track was left."""
        self._follow_level(now)
        if where.playlist is None:
            self._apply(now, where.spec)
            return
        self._playlist, self._silence_until, self._pending = where.playlist, None, None
        entry = where.playlist.entries[where.index % len(where.playlist.entries)]
        if isinstance(entry, Silence):
            self._advance(now, where.index + 1, 0.0, self._settings.crossfade)
        else:
            self._advance(now, where.index, where.position, self._settings.crossfade)

    def _advance(self, now: float, index: int, position: float, fade: float) -> None:
        """Start entry `index` (wrapping around: a phase may outlast its playlist), skipping bad tracks."""
        playlist = self._playlist
        if self._out is None:
            return
        assert playlist is not None   # a track is started only from a playlist
        for attempt in range(len(playlist.entries)):
            i = (index + attempt) % len(playlist.entries)
            entry = playlist.entries[i]
            if isinstance(entry, Silence):
                self._index = i
                self._fade_out_all(now, fade)
                self._silence_until = now + fade + entry.seconds
                self._notify("silence", {"seconds": entry.seconds, "playlist": playlist.name})
                return
            try:
                probe = self._out.probe(entry.path, self._settings.parse_timeout)
            except BadTrack as exc:
                self._notify("track_skipped", {"file": str(entry.path), "reason": str(exc)})
                position = 0.0
                continue
            if 0 < position > probe.duration - 2 * fade - READ_AHEAD:
                position = 0.0
                continue  # too little left to fade in and out again: the next track instead
            self._index = i
            now = max(now, self._clock.monotonic())  # reading the files took a moment
            self._start_track(now, entry, probe.duration, probe.title, position, fade)
            return
        self._set_problem(f"nothing in {playlist.name} can be played")
        self._playlist = None
        self._fade_out_all(now, fade)

    def _start_track(self, now: float, track: Track, duration: float, title: str | None,
                     position: float, fade: float) -> None:
        free = [d for d in self._decks if d.track is None]
        if not free:  # both decks busy (a crossfade in progress): hurry the one on its way out
            leaving = next(d for d in self._decks if d is not self._active)
            leaving.fade = Fade(leaving.fade.gain(now), 0.0, now, HURRY)
            self._pending = (self._index, position, fade)
            return
        self._silence_until = None
        fade = min(fade, (duration - position) / 2)
        self._fade_out_all(now, fade)
        deck = free[0]
        deck.track, deck.duration, deck.offset, deck.since = track, duration, position, now
        deck.fade = Fade(0.0, 1.0, now, fade)
        deck.volume = 0.0
        deck.counters, deck.stalls = (0, 0), 0
        deck.lufs = loudness.known(track.path)[1]
        deck.norm = loudness.gain(deck.lufs, self._settings.normalise_to)
        self._measure([track.path])
        deck.out.play(track.path, position, 0.0)
        self._active = deck
        self._notify("track_started", {"title": title or track.title, "file": str(track.path),
                                       "playlist": self._playlist.name if self._playlist else None,
                                       "position_s": round(position, 1)})

    def _fade_out_all(self, now: float, fade: float) -> None:
        for deck in self._decks:
            if deck.track is not None and deck.fade.end > 0:
                deck.fade = Fade(deck.fade.gain(now), 0.0, now, fade)
        self._active = None

    def _next(self, now: float) -> None:
        if self._playlist is None:
            return
        entries = self._playlist.entries
        step = 1
        while isinstance(entries[(self._index + step) % len(entries)], Silence) and step < len(entries):
            step += 1  # "next" means the next music, not a silent stretch
        self._advance(now, self._index + step, 0.0, self._settings.crossfade)

    def _active_position(self, now: float) -> float:
        if self._active is None:
            return 0.0
        return self._active.position(self._paused_at if self._paused_at is not None else now)

    # -- volume and pause -----------------------------------------------------------------------------------

    def _follow_level(self, now: float) -> None:
        """Ramp to the level `self._volume` asks for, unless the level is already on its way there. A rise
        waits while the music only fades out (a silent stretch, a stop): it would swell the fading tracks."""
        s = self._settings
        volume = self._volume.requested
        target = min(volume, s.max_volume)
        if target == self._level.target:
            return
        if not any(d.track is not None for d in self._decks):  # nothing sounds: the next fade-in is the ramp
            self._level = Ramp(volume, target, now, 0.0)
            return
        if self._active is None and target > self._level.at(now):
            return
        self._level = ramps.plan_ramp(self._level.at(now), volume, now, s.max_volume, s.max_rise_per_s,
                                      s.fade_out)

    def _start_pause(self, now: float) -> None:
        if self._paused_at is None and self._pause.end > 0:
            self._pause = Fade(self._pause.gain(now), 0.0, now, self._settings.fade_out)

    def _end_pause(self, now: float) -> None:
        if self._paused_at is None and self._pause.end > 0:
            return
        if self._paused_at is not None:
            shift = now - self._paused_at
            for deck in self._decks:
                if deck.track is not None:
                    deck.since += shift
                    deck.fade = Fade(deck.fade.start, deck.fade.end, deck.fade.t0 + shift, deck.fade.duration)
                    deck.out.resume()
            if self._silence_until is not None:
                self._silence_until += shift
            self._paused_at = None
        self._pause = Fade(self._pause.gain(now), 1.0, now, self._settings.fade_out)

    # -- VLC's news -----------------------------------------------------------------------------------------

    def _on_vlc_event(self, now: float, index: int, kind: str) -> None:
        if index >= len(self._decks):
            return
        deck = self._decks[index]
        if deck.track is None or deck.out.busy():
            return  # about an earlier track of this deck
        if deck is self._active:
            early = deck.position(now) < deck.duration - END_SLACK
            if kind == "error" or early:
                reason = "VLC could not play it" if kind == "error" else "it stopped before its end"
                self._notify("track_skipped", {"file": str(deck.track.path), "reason": reason})
            self._clear(deck)
            self._active = None
            if self._playlist is not None:
                self._advance(now, self._index + 1, 0.0, self._settings.crossfade)
        else:
            self._clear(deck)

    def _clear(self, deck: _Deck) -> None:
        deck.out.stop()
        deck.track = None
        deck.fade = Fade.steady(0.0)
        deck.volume = 0.0

    # -- the tick -------------------------------------------------------------------------------------------

    def _update(self, now: float) -> None:
        if self._out is None:
            self._publish(now)
            return
        self._account_dose(now)
        paused = self._paused_at is not None
        if not paused and self._pause.end == 0 and self._pause.done(now):
            for deck in self._decks:
                if deck.track is not None:
                    deck.out.pause()
            self._paused_at = now
            paused = True
        for deck in self._decks:
            if deck.track is not None and deck is not self._active and deck.fade.done(now) and not paused:
                self._clear(deck)
        if not paused:
            self._follow_playlist(now)
        self._follow_level(now)
        self._set_volumes(now)
        if now >= self._next_watch:
            self._watch(now)
        self._publish(now)

    def _follow_playlist(self, now: float) -> None:
        if self._pending is not None and any(d.track is None for d in self._decks):
            index, position, fade = self._pending
            self._pending = None
            self._advance(now, index, position, fade)
        active = self._active
        if self._playlist is None:
            return
        if active is not None and self._pending is None and now >= self._crossfade_at(active):
            self._advance(now, self._index + 1, 0.0, min(self._settings.crossfade, active.duration / 2))
        elif self._silence_until is not None and now >= self._silence_until:
            self._advance(now, self._index + 1, 0.0, self._settings.crossfade)

    def _crossfade_at(self, deck: _Deck) -> float:
        fade = min(self._settings.crossfade, deck.duration / 2)
        lead = min(READ_AHEAD, (deck.duration - fade) / 2)
        return deck.since + (deck.duration - fade - lead - deck.offset)

    def _set_volumes(self, now: float) -> None:
        level = self._level.at(now)
        pause = self._pause.gain(now)
        for deck in self._decks:
            if deck.track is not None:
                deck.volume = ramps.volume_for(level, deck.fade.gain(now) * pause * deck.norm,
                                               self._settings.max_volume)
                deck.out.set_volume(deck.volume)
        if self._settings.calibration_dba is not None:
            audible = [d for d in self._decks if d.track is not None and self._paused_at is None]
            louder = [(loudness.UNMEASURED_LUFS if d.lufs is None else d.lufs) - loudness.TARGET_LUFS for d in audible]
            self._dba = ramps.level_dba(self._settings.calibration_dba, [d.volume for d in audible], louder)
            self._estimated = any(d.lufs is None and d.volume > 0 for d in audible)

    def _account_dose(self, now: float) -> None:
        s = self._settings
        elapsed, self._dose_at = now - self._dose_at, now
        if s.calibration_dba is None:
            return
        before, self._dose = self._dose, self._dose + ramps.dose_percent(self._dba, elapsed)
        if self._dose // s.dose_step > before // s.dose_step:   # journaled, so a restart knows it
            self._notify("dose_step", {"dose": round(self._dose // s.dose_step * s.dose_step, 1)})
        for warning in sorted(s.dose_warnings):
            if self._dose >= warning and warning not in self._warned:
                self._warned.add(warning)
                self._notify("dose_warning", {"percent": warning, "dose": round(self._dose, 1)})

    def _watch(self, now: float) -> None:
        """Is the output still taking what VLC decodes? If not, say so, and bring it back when possible."""
        active = self._active
        if self._problem is not None:
            self._check_output(now)
            if self._problem is None and active is not None and self._paused_at is None:
                active.offset, active.since = active.position(now), now
                active.counters, active.stalls = (0, 0), 0
                active.out.play(active.track.path, active.offset, active.volume)
            return
        self._next_watch = now + WATCH
        if active is None or self._paused_at is not None:
            if active is not None:
                active.stalls = 0
            return
        counters = active.out.counters()
        decoded, played = counters
        active.stalls = 0 if played != active.counters[1] else active.stalls + 1
        # decoding without playing: the output refuses; nothing moving twice in a row: the output blocks (a hung
        # device holds VLC's writes, so decoding stops too; found by the fault tests)
        if (active.counters != (0, 0) and decoded > active.counters[0] and active.stalls) or active.stalls >= 2:
            self._set_problem("the audio output stopped taking sound (device gone?)")
            self._next_watch = now + RETRY
        active.counters = counters

    def _next_timer(self, now: float) -> float | None:
        fading = (not self._level.done(now) or not self._pause.done(now)
                  or any(d.track is not None and not d.fade.done(now) for d in self._decks))
        if fading or self._pending is not None:
            return now + TICK
        timers = [self._next_watch] + ([self._announce_at] if self._announce_at is not None else [])
        if self._active is not None and self._paused_at is None and self._playlist is not None:
            timers.append(self._crossfade_at(self._active))
        if self._silence_until is not None and self._paused_at is None:
            timers.append(self._silence_until)
        if any(d.track is not None and d is not self._active for d in self._decks):
            timers.append(now + TICK)
        return min(timers)

    def _publish(self, now: float) -> None:
        s, requested, active = self._settings, self._volume.requested, self._active
        playing = active is not None and self._paused_at is None and self._pause.end > 0
        dose: dict[str, object] = {"calibrated": False, "percent": None, "dba": None, "estimated": False, "warnings": s.dose_warnings}
        if s.calibration_dba is not None:
            dose.update(calibrated=True, percent=round(self._dose, 1), estimated=self._estimated,
                        dba=None if self._dba is None else round(self._dba, 1))
        track = active.track if active else None
        position = round(self._active_position(now), 1)
        snap = {
            "playing": playing,
            "track": track.title if track else None,
            "file": str(track.path) if track else None,
            "position_s": position,
            "volume": round(self._level.at(now), 1),
            "target_volume": round(min(requested, s.max_volume), 1),   # a rise may wait for the next music
            "requested_volume": round(requested, 1),
            "max_volume": s.max_volume,
            "limited": requested > s.max_volume,
            "volume_source": self._volume.source,
            "playlist": self._playlist.name if self._playlist else None,
            "silence": self._silence_until is not None,
            "held": self._held is not None,
            "dose": dose,
            "health": "ok" if self._problem is None else "error",
            "problem": self._problem,
            "decks": [{"track": d.track.title, "volume": round(d.volume, 1)} for d in self._decks if d.track],
        }
        with self._lock:
            self._snap = snap
            self._snap_position = (position, now if playing else None)
        self._announce(now, snap)
        with self._lock:
            if not self._running:
                self._deadline = None
            else:
                self._deadline = self._next_timer(now) if self._out is not None else self._announce_at

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

    def _shutdown(self, fade: bool) -> None:
        """The last fade-out runs in real time: the service is stopping, nobody drives a test clock now."""
        decks = [d for d in self._decks if d.track is not None and d.volume > 0]
        start = time.monotonic()
        while fade and decks and self._paused_at is None and time.monotonic() < start + self._settings.fade_out:
            gain = ramps.crossfade_gains((time.monotonic() - start) / self._settings.fade_out)[0]
            for deck in decks:
                deck.out.set_volume(ramps.volume_for(deck.volume, gain, self._settings.max_volume))
            time.sleep(TICK)
        self._running = False
