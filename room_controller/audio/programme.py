"""What plays: the phase's music, or a preset's held over it, entry after entry of its playlist.

A playlist plays round and round (a phase may outlast it). The next track crossfades in on the other deck
when the one playing is `crossfade` seconds from its end, when the phase or a preset changes the music, or
when someone presses "next"; a silent stretch fades out and waits. A track VLC cannot read is skipped, and so
is the rest of one that stops early. When a preset takes over, the phase's music is remembered where it
stood; the release goes back there, or to the next entry when little of the track was left. So is the
phase's music that another phase's replaces: a phase move undone (`play(..., resume=True)`) goes back there
the same way, so the client hears the track they were hearing, not the playlist from its start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from room_controller.audio import playlists
from room_controller.audio.decks import READ_AHEAD, Deck, Decks
from room_controller.audio.level import Level
from room_controller.audio.playlists import Playlist, Silence, Track
from room_controller.audio.settings import AudioSettings, MusicPlay, MusicSpec
from room_controller.audio.vlc_player import BadTrack
from room_controller.infrastructure.clock import Clock

END_SLACK = 1.0      # a track that ends this much before its length ended early (a decoding problem)


@dataclass(frozen=True)
class _Resume:
    """Where the phase's music stood when a preset or another phase's music took over."""

    spec: MusicSpec | None
    playlist: Playlist | None
    index: int
    position: float


class Programme:
    """Kept by the music thread; `notify` tells the room what started, was skipped or fell silent, and
    `problem` what stops the music altogether."""

    def __init__(self, settings: AudioSettings, playlists_dir: Path, clock: Clock, decks: Decks, level: Level,
                 notify: Callable[[str, dict], None], measure: Callable[[list[Path]], None],
                 problem: Callable[[str], None]) -> None:
        self._settings = settings
        self._dir = Path(playlists_dir)
        self._clock = clock
        self._decks = decks
        self._level = level
        self._notify = notify
        self._measure = measure
        self._problem = problem
        self._playlist: Playlist | None = None
        self._index = 0
        self._silence_until: float | None = None
        self._pending: tuple[int, float, float] | None = None   # a start waiting for a free deck
        self._phase: MusicSpec | None = None
        self._held: _Resume | None = None
        self._left: _Resume | None = None    # where the phase's music stood when another phase's replaced it

    @property
    def playlist(self) -> str | None:
        return self._playlist.name if self._playlist else None

    @property
    def silent(self) -> bool:
        """In a silent stretch of the playlist."""
        return self._silence_until is not None

    @property
    def held(self) -> bool:
        """A preset's music holds; the phase's waits for its release."""
        return self._held is not None

    @property
    def waiting(self) -> bool:
        """A track waits for a deck to be free (both are busy with a crossfade)."""
        return self._pending is not None

    # -- what the room asks for -----------------------------------------------------------------------------

    def play(self, now: float, spec: MusicSpec, resume: bool = False) -> None:
        """The phase's music: now, or on the release of a held preset. With `resume` (a phase move undone) it
        goes on where it stood when another phase's replaced it, and as it is if none did."""
        if resume and self.goes_on(spec):
            return
        back = self._left if resume and self._left is not None and self._left.spec == spec else None
        self._left = self._held if self._held is not None else \
            self._resume_point(self._phase, self._index, self._decks.position(now))
        self._phase = spec
        if self._held is not None:
            self._held = back if back is not None else self._resume_point(spec, 0, 0.0)
        elif back is not None:
            self._restore(now, back)
        else:
            self._apply(now, spec)

    def goes_on(self, spec: MusicSpec) -> bool:
        """Resumed, `spec` is the phase's music still (the move went to a phase without music of its own)."""
        return spec == self._phase and (self._left is None or self._left.spec != spec)

    def hold(self, now: float, spec: MusicSpec) -> None:
        """A preset's music over the phase's (or over another preset's, which is then forgotten)."""
        if self._held is None:
            self._held = self._resume_point(self._phase, self._index, self._decks.position(now))
        self._apply(now, spec)

    def release(self, now: float) -> None:
        if self._held is not None:
            self._restore(now, self._held)
            self._held = None

    def next(self, now: float) -> None:
        """The next music, not a silent stretch (a silent stretch ends at once)."""
        if self._playlist is None:
            return
        entries = self._playlist.entries
        step = 1
        while isinstance(entries[(self._index + step) % len(entries)], Silence) and step < len(entries):
            step += 1
        self._advance(now, self._index + step, 0.0, self._settings.crossfade)

    def ended(self, now: float, index: int, kind: str) -> None:
        """VLC's news: deck `index` came to its end ("ended") or could not go on ("error")."""
        deck = self._decks.ended(index)
        if deck is None or deck.track is None:
            return
        if deck is not self._decks.active:
            self._decks.clear(deck)
            return
        early = deck.position(now) < deck.duration - END_SLACK
        if kind == "error" or early:
            reason = "VLC could not play it" if kind == "error" else "it stopped before its end"
            self._notify("track_skipped", {"file": str(deck.track.path), "reason": reason})
        self._decks.clear(deck)
        if self._playlist is not None:
            self._advance(now, self._index + 1, 0.0, self._settings.crossfade)

    # -- the tick -------------------------------------------------------------------------------------------

    def follow(self, now: float) -> None:
        """Start what is due: a track that waited for a deck, the next track, the end of a silent stretch."""
        if self._decks.paused_at is not None:
            return
        if self._pending is not None and self._decks.free():
            index, position, fade = self._pending
            self._pending = None
            self._advance(now, index, position, fade)
        active = self._decks.active
        if self._playlist is None:
            return
        if active is not None and self._pending is None and now >= self._crossfade_at(active):
            self._advance(now, self._index + 1, 0.0, min(self._settings.crossfade, active.duration / 2))
        elif self._silence_until is not None and now >= self._silence_until:
            self._advance(now, self._index + 1, 0.0, self._settings.crossfade)

    def timers(self) -> list[float]:
        """When `follow` has something to do next (nothing moves on while paused)."""
        active, timers = self._decks.active, []
        if self._decks.paused_at is not None:
            return []
        if active is not None and self._playlist is not None:
            timers.append(self._crossfade_at(active))
        if self._silence_until is not None:
            timers.append(self._silence_until)
        return timers

    def shift(self, seconds: float) -> None:
        """The decks stood paused for `seconds`: a silent stretch lasts that much longer."""
        if self._silence_until is not None:
            self._silence_until += seconds

    # -- what to play ---------------------------------------------------------------------------------------

    def _apply(self, now: float, spec: MusicSpec | None) -> None:
        self._silence_until = None
        self._pending = None
        if not isinstance(spec, MusicPlay):
            self._playlist = None
            fade = self._settings.fade_out if spec == "stop" else self._settings.crossfade
            self._decks.fade_out(now, fade)
            self._notify("silence", {"reason": spec or "nothing"})
            return
        self._level.follow(now, self._decks)   # before the decks sound: a fade-in from silence is the ramp
        playlist = playlists.load(spec.playlist, self._dir)
        for problem in playlist.problems:
            self._notify("audio_error", {"message": str(problem)})
        self._playlist = playlist if playlist.entries else None
        self._measure([entry.path for entry in playlist.entries if isinstance(entry, Track)])
        self._index = 0
        if self._playlist is None:
            self._decks.fade_out(now, self._settings.crossfade)
        else:
            self._advance(now, 0, 0.0, self._settings.crossfade)

    def _resume_point(self, spec: MusicSpec | None, index: int, position: float) -> _Resume:
        playlist = self._playlist if spec == self._phase and self._held is None else None
        return _Resume(spec, playlist, index, position)

    def _restore(self, now: float, where: _Resume) -> None:
        """Back to the phase's music where it stood, or to the next entry when little of the track was left."""
        self._level.follow(now, self._decks)
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
        playlist, out = self._playlist, self._decks.out
        if out is None:
            return
        assert playlist is not None   # a track is started only from a playlist
        near_end = 1 if position > 0 else 0   # a track resumed near its end is passed over: one more try
        for attempt in range(len(playlist.entries) + near_end):
            i = (index + attempt) % len(playlist.entries)
            entry = playlist.entries[i]
            if isinstance(entry, Silence):
                self._index = i
                self._decks.fade_out(now, fade)
                self._silence_until = now + fade + entry.seconds
                self._notify("silence", {"seconds": entry.seconds, "playlist": playlist.name})
                return
            try:
                probe = out.probe(entry.path, self._settings.parse_timeout)
            except BadTrack as exc:
                self._notify("track_skipped", {"file": str(entry.path), "reason": str(exc)})
                position = 0.0
                continue
            if 0 < position > probe.duration - 2 * fade - READ_AHEAD:
                position = 0.0
                continue  # too little left to fade in and out again: the next track instead
            self._index = i
            now = max(now, self._clock.monotonic())  # reading the files took a moment
            self._start(now, entry, probe.duration, probe.title, position, fade)
            return
        self._problem(f"nothing in {playlist.name} can be played")
        self._playlist = None
        self._decks.fade_out(now, fade)

    def _start(self, now: float, track: Track, duration: float, title: str | None, position: float,
               fade: float) -> None:
        if not self._decks.start(now, track, duration, position, fade):
            self._pending = (self._index, position, fade)
            return
        self._silence_until = None
        self._measure([track.path])
        self._notify("track_started", {"title": title or track.title, "file": str(track.path),
                                       "playlist": self.playlist, "position_s": round(position, 1)})

    def _crossfade_at(self, deck: Deck) -> float:
        fade = min(self._settings.crossfade, deck.duration / 2)
        lead = min(READ_AHEAD, (deck.duration - fade) / 2)
        return deck.since + (deck.duration - fade - lead - deck.offset)
