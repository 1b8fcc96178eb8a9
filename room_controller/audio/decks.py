"""The two decks that carry the sound, and the crossfade and the pause between them.

The active deck plays the current track; the other fades out the track before it, on an equal-power curve.
Each deck plays at the room's level x its fade gain x the pause's gain x its track's normalisation, never
above `max_volume`. A pause fades both out, then pauses VLC; the decks' clocks stand still until it ends.
All of it runs on the music thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from room_controller.audio import loudness, ramps
from room_controller.audio.playlists import Track
from room_controller.audio.ramps import Fade
from room_controller.audio.settings import AudioSettings
from room_controller.audio.vlc_player import Player, VlcOutput

TICK = 0.05          # seconds between volume steps while anything fades: each step is too small to hear
HURRY = 0.5          # a deck still fading out when a third track needs it fades out this fast
READ_AHEAD = 1.5     # VLC amplifies as it decodes, up to this far ahead of what is heard (1-1.5 s
                     # measured with file-caching 300 ms through ALSA): a fade-out must end that long
                     # before the track does, and its player must play that long after, or the track's tail
                     # is cut off loud


@dataclass
class Deck:
    """What the music thread knows about one VLC player and the track on it."""

    out: Player
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
    draining: float | None = None  # faded out; VLC plays what it decoded ahead until then, and stops

    def position(self, now: float) -> float:
        return self.offset + max(0.0, now - self.since)


class Decks:
    """The output's two decks; none until `open` (and none at all when VLC does not start)."""

    def __init__(self, settings: AudioSettings) -> None:
        self._settings = settings
        self.out: VlcOutput | None = None
        self.all: list[Deck] = []
        self.active: Deck | None = None
        self._pause = Fade.steady(1.0)
        self.paused_at: float | None = None

    def open(self, vlc_args: list[str], on_event: Callable[[int, str], None]) -> None:
        """Start VLC (OutputError when it does not start with `vlc_args`)."""
        self.out = VlcOutput(vlc_args, on_event)
        self.all = [Deck(player) for player in self.out.players]

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
        self.all = []

    # -- the crossfade --------------------------------------------------------------------------------------

    def start(self, now: float, track: Track, duration: float, position: float, fade: float) -> bool:
        """Fade `track` in on the free deck from `position`, fading out what plays. False when both decks
        are busy (a crossfade in progress): the one on its way out is hurried, and the caller asks again."""
        free = self.free()
        if not free:
            leaving = next(d for d in self.all if d is not self.active)
            leaving.fade = Fade(leaving.fade.gain(now), 0.0, now, HURRY)
            return False
        fade = min(fade, (duration - position) / 2)
        self.fade_out(now, fade)
        deck = free[0]
        if deck.track is not None:
            self.clear(deck)   # the end of its faded tail, if any is still to be heard, is cut
        deck.track, deck.duration, deck.offset, deck.since = track, duration, position, now
        deck.fade = Fade(0.0, 1.0, now, fade)
        deck.volume = 0.0
        deck.counters, deck.stalls = (0, 0), 0
        deck.lufs = loudness.known(track.path)[1]
        deck.norm = loudness.gain(deck.lufs, self._settings.normalise_to)
        deck.out.play(track.path, position, 0.0)
        self.active = deck
        return True

    def free(self) -> list[Deck]:
        """The decks a track can start on: an idle one first, then one playing out a faded tail."""
        return sorted((d for d in self.all if d.track is None or d.draining is not None),
                      key=lambda d: d.track is not None)

    def fade_out(self, now: float, fade: float) -> None:
        for deck in self.all:
            if deck.track is not None and deck.fade.end > 0:
                deck.fade = Fade(deck.fade.gain(now), 0.0, now, fade)
        self.active = None

    def clear(self, deck: Deck) -> None:
        deck.out.stop()
        deck.track, deck.draining = None, None
        deck.fade = Fade.steady(0.0)
        deck.volume = 0.0
        if deck is self.active:
            self.active = None

    def position(self, now: float) -> float:
        """Where the active track is (it stands still while paused)."""
        if self.active is None:
            return 0.0
        return self.active.position(self.paused_at if self.paused_at is not None else now)

    def sounding(self) -> list[Deck]:
        """The decks with a track, fading in, playing or fading out (not one whose fade-out is over)."""
        return [d for d in self.all if d.track is not None and d.draining is None]

    def audible(self) -> list[Deck]:
        """The decks heard: those with a track, unless VLC stands paused."""
        return [] if self.paused_at is not None else self.sounding()

    def leaving(self) -> bool:
        """A deck is still fading out an earlier track, or playing out the tail of its fade."""
        return any(d is not self.active and d.track is not None for d in self.all)

    def fading(self, now: float) -> bool:
        """A deck's fade or the pause's is under way: the volumes move every TICK."""
        return not self._pause.done(now) or any(not d.fade.done(now) for d in self.sounding())

    def ended(self, index: int) -> Deck | None:
        """The deck VLC says has ended; None when it plays on (the news was about an earlier track)."""
        if index >= len(self.all) or self.all[index].out.busy():
            return None
        return self.all[index]

    def measured(self, path: Path, lufs: float | None) -> None:
        """A track's loudness, measured off the music thread: the dose counts with it from now on."""
        for deck in self.sounding():
            if deck.track is not None and deck.track.path == path:
                deck.lufs = lufs

    # -- the pause ------------------------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        """Music plays (or fades in), not paused nor pausing."""
        return self.active is not None and self.paused_at is None and self._pause.end > 0

    def pause(self, now: float) -> None:
        if self.paused_at is None and self._pause.end > 0:
            self._pause = Fade(self._pause.gain(now), 0.0, now, self._settings.fade_out)

    def resume(self, now: float) -> float:
        """End a pause (fading in again); returns how long VLC stood paused, which later timers move by."""
        if self.paused_at is None and self._pause.end > 0:
            return 0.0
        shift = 0.0
        if self.paused_at is not None:
            shift = now - self.paused_at
            for deck in self.sounding():
                deck.since += shift
                deck.fade = Fade(deck.fade.start, deck.fade.end, deck.fade.t0 + shift, deck.fade.duration)
                deck.out.resume()
            self.paused_at = None
        self._pause = Fade(self._pause.gain(now), 1.0, now, self._settings.fade_out)
        return shift

    # -- the tick -------------------------------------------------------------------------------------------

    def settle(self, now: float) -> None:
        """Pause VLC once a pause has faded the decks out; free a deck once the tail of its fade-out has been
        heard (stopped when the fade ends, it would cut off what VLC decoded ahead, at about a third of the
        track's level)."""
        if self.paused_at is None and self._pause.end == 0 and self._pause.done(now):
            for deck in self.sounding():
                deck.out.pause()
            self.paused_at = now
        if self.paused_at is None:
            for deck in self.sounding():
                if deck is not self.active and deck.fade.done(now):
                    deck.volume, deck.draining = 0.0, now + READ_AHEAD
                    deck.out.set_volume(0.0)
            for deck in self.all:
                if deck.draining is not None and now >= deck.draining:
                    self.clear(deck)

    def set_volumes(self, now: float, level: float) -> None:
        pause = self._pause.gain(now)
        for deck in self.sounding():
            deck.volume = ramps.volume_for(level, deck.fade.gain(now) * pause * deck.norm, self._settings.max_volume)
            deck.out.set_volume(deck.volume)

    def stalled(self) -> bool:
        """Has the output stopped taking what the active deck decodes? Asked every few seconds: decoding
        without playing means the output refuses; nothing moving twice in a row, that it blocks (a hung
        device holds VLC's writes, so decoding stops too; found by the fault tests)."""
        active = self.active
        if active is None or self.paused_at is not None:
            if active is not None:
                active.stalls = 0
            return False
        counters = active.out.counters()
        decoded, played = counters
        active.stalls = 0 if played != active.counters[1] else active.stalls + 1
        stalled = (active.counters != (0, 0) and decoded > active.counters[0] and active.stalls > 0) \
            or active.stalls >= 2
        active.counters = counters
        return stalled

    def replay(self, now: float) -> None:
        """The output is back: the active track plays on from where it was."""
        active = self.active
        if active is not None and active.track is not None and self.paused_at is None:
            active.offset, active.since = active.position(now), now
            active.counters, active.stalls = (0, 0), 0
            active.out.play(active.track.path, active.offset, active.volume)

    def fade_away(self) -> None:
        """The last fade-out, in real time: the service is stopping, nobody drives a test clock now."""
        decks = [d for d in self.sounding() if d.volume > 0]
        start = time.monotonic()
        while decks and self.paused_at is None and time.monotonic() < start + self._settings.fade_out:
            gain = ramps.crossfade_gains((time.monotonic() - start) / self._settings.fade_out)[0]
            for deck in decks:
                deck.out.set_volume(ramps.volume_for(deck.volume, gain, self._settings.max_volume))
            time.sleep(TICK)
