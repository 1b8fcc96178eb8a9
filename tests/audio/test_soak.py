"""Hundreds of short tracks back to back through the crossfader: no leak, no deadlock."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings, MusicPlay
from room_controller.infrastructure.clock import SystemClock

from .capture import write_m3u, write_tone

pytestmark = pytest.mark.slow

TRACKS = 200


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _settled_threads() -> int:
    """The fewest threads seen over a second: VLC starts and ends an input thread with every track, so
    one reading can land mid-crossfade. A leak raises the floor; a track changing over does not."""
    seen = []
    for _ in range(40):
        seen.append(_status("Threads"))
        time.sleep(0.025)
    return min(seen)


def test_two_hundred_tracks_without_leak_or_deadlock(tmp_path, events, audio_path, recording):
    names = [f"t{i}.wav" for i in range(10)]
    for i, name in enumerate(names):
        write_tone(tmp_path / name, 300 + 40 * i, 0.3)
    playlist = write_m3u(tmp_path / "soak.m3u", names)   # played round and round
    music = Music(AudioSettings(vlc_args=audio_path, crossfade="0.05s", max_volume=100), tmp_path,
                  SystemClock(), events.notify)
    music.start()
    try:
        music.play(MusicPlay(playlist=playlist, volume=60))
        events.wait_for("track_started", 40, timeout=30)
        rss, threads = _status("VmRSS"), _settled_threads()
        started = events.wait_for("track_started", TRACKS, timeout=60)
        assert len(started) >= TRACKS
        assert _settled_threads() <= threads + 2    # a leak would add one per track: 160
        assert _status("VmRSS") - rss < 8 * 1024   # kB
        assert not events.of("track_skipped") and not events.of("audio_error")
        snapshot = music.snapshot()                 # the music thread still answers
        assert snapshot["health"] == "ok" and snapshot["playlist"] == playlist
    finally:
        begun = time.monotonic()
        music.stop(fade=False)
        assert time.monotonic() - begun < 10        # stop() does not hang
