"""The only module that imports `vlc`.

Everything here must be called from one thread, the music thread: libvlc deadlocks when it is called from
one of its own event callbacks, and a later `stop()` from another thread then hangs too. The callbacks
registered here only hand `(player, "ended" | "error")` to a function that puts it on a queue.
"""

from __future__ import annotations

import ctypes
import platform
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import vlc

_BUSY = {vlc.State.Opening, vlc.State.Buffering, vlc.State.Playing, vlc.State.Paused}
M_MMAP_THRESHOLD = -3   # mallopt's parameter (glibc's malloc.h)
OWN_MAPPING = 1 << 20   # bytes: a block this large or larger gets a mapping of its own, unmapped when freed


class OutputError(Exception):
    """VLC cannot start with the configured arguments."""


class BadTrack(Exception):
    """A file VLC cannot play: missing, unreadable, corrupt or empty."""


@dataclass(frozen=True)
class Probe:
    duration: float      # seconds
    title: str | None    # from the file's tags, when it has one


class Player:
    """One media player. Two of them make a crossfade."""

    def __init__(self, instance: vlc.Instance, index: int, on_event: Callable[[int, str], None]) -> None:
        self._instance = instance
        self._player = instance.media_player_new()
        self._media: vlc.Media | None = None
        self._volume = -1
        events = self._player.event_manager()
        # These run on VLC's threads: hand the fact over and return, never touch libvlc here.
        events.event_attach(vlc.EventType.MediaPlayerEndReached, lambda _e: on_event(index, "ended"))
        events.event_attach(vlc.EventType.MediaPlayerEncounteredError, lambda _e: on_event(index, "error"))

    def play(self, path: Path, start_s: float, volume: float) -> None:
        """Set the volume before playing: a player keeps the volume it had last, and VLC decodes (and
        amplifies) about a second ahead, so a late volume would let that second through at the old level.

        `set_media()` resets an `Ended` player as `stop()` would, but keeps its audio output: after
        `stop()` the output is gone, `audio_set_volume()` fails (-1) and the next stream starts loud."""
        media = self._instance.media_new_path(str(path))
        if start_s > 0:
            media.add_option(f":start-time={start_s:.3f}")
        self._player.set_media(media)
        self._release_media()
        self._media = media
        self._volume = -1
        self.set_volume(volume)
        self._player.play()

    def set_volume(self, volume: float) -> None:
        level = int(volume + 0.5)  # VLC takes whole points; callers already capped `volume`
        if level != self._volume and self._player.audio_set_volume(level) == 0:
            self._volume = level

    def pause(self) -> None:
        self._player.set_pause(1)

    def resume(self) -> None:
        self._player.set_pause(0)

    def stop(self) -> None:
        """Silence this player and free its track, keeping the audio output (see `play`)."""
        self._player.set_media(None)
        self._release_media()

    def busy(self) -> bool:
        """Still playing (or about to): an end event that arrives now belongs to an earlier track."""
        return self._player.get_state() in _BUSY

    def counters(self) -> tuple[int, int]:
        """(audio blocks decoded, blocks the output took): decoding without playing means a dead output."""
        if self._media is None:
            return 0, 0
        stats = vlc.MediaStats()
        self._media.get_stats(stats)
        return stats.decoded_audio, stats.played_abuffers

    def release(self) -> None:
        self._player.stop()
        self._release_media()
        self._player.release()

    def _release_media(self) -> None:
        if self._media is not None:
            self._media.release()
            self._media = None


def _map_large_blocks() -> None:
    """libvlc reads every stream it opens (each probe, each track) through a 12 MiB cache that it frees when
    the stream closes. Once glibc has freed such a block it raises its mmap threshold above it, and serves the
    next one from the arena of whichever VLC thread asks, where the memory stays resident when freed
    (malloc_trim does not return it): the service grew by about 100 kB at every calm and release. A fixed
    threshold gives each large block a mapping of its own again, returned to the system when it is freed
    (docs/memory.md)."""
    if platform.libc_ver()[0] == "glibc":
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, OWN_MAPPING)


class VlcOutput:
    """A libvlc instance with two players."""

    def __init__(self, vlc_args: list[str], on_event: Callable[[int, str], None]) -> None:
        _map_large_blocks()
        # Less read-ahead than the default second: volume changes reach the ears sooner.
        self._instance = vlc.Instance(["--no-video", "--quiet", "--file-caching=300", *vlc_args])
        if self._instance is None:  # libvlc returns None, not an error, for a bad option
            raise OutputError(f"VLC does not start with vlc_args {vlc_args}; check them against `vlc --help`")
        self.players = [Player(self._instance, i, on_event) for i in range(2)]

    def probe(self, path: Path, timeout: float) -> Probe:
        """Read the file's header before it plays: `play()` 'succeeds' on missing and corrupt files."""
        if not Path(path).is_file():
            raise BadTrack("file not found")
        media = self._instance.media_new_path(str(path))
        try:
            media.parse_with_options(vlc.MediaParseFlag.local, int(timeout * 1000))
            deadline = time.monotonic() + timeout + 0.5
            while media.get_parsed_status() == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            status = media.get_parsed_status()
            duration = media.get_duration() / 1000.0
            title = media.get_meta(vlc.Meta.Title)
        finally:
            media.release()
        if status != vlc.MediaParsedStatus.done:
            raise BadTrack("VLC cannot read it" if status else "VLC took too long to read it")
        if duration <= 0:
            raise BadTrack("VLC finds no audio in it (corrupt or empty)")
        return Probe(duration, title if title and title != Path(path).name else None)

    def check_output(self, timeout: float = 3.0) -> str | None:
        """Play a moment of silence and see that the output takes it: without a working device VLC logs
        an error and 'plays' on in silence. Returns the problem, or None when the output works."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "probe.wav"
            with wave.open(str(path), "wb") as out:
                out.setnchannels(2)
                out.setsampwidth(2)
                out.setframerate(44100)
                out.writeframes(bytes(4 * 44100 // 2))
            player = Player(self._instance, -1, lambda _i, _k: None)
            try:
                player.play(path, 0.0, 0.0)
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if player.counters()[1] > 0:
                        return None
                    time.sleep(0.02)
            finally:
                player.release()
        return "the audio output plays nothing: is the device in audio.vlc_args there and free?"

    def close(self) -> None:
        for player in self.players:
            player.release()
        self._instance.release()
