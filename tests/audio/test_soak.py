"""Hundreds of short tracks back to back through the crossfader: no leak, no deadlock."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings, MusicPlay
from room_controller.infrastructure.clock import SystemClock
from tests.audio.capture import write_m3u, write_tone

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


def _soak(folder: str, vlc_args: list[str]) -> dict:
    """In an interpreter of its own, so that its memory is the music's alone (the test process holds the
    other tests' brokers, rooms and browsers, whose own allocations would count): the music over TRACKS
    short tracks, its memory and threads after the first 40 and at the end, and how it ended."""
    from tests.audio.conftest import Events

    tmp_path, events = Path(folder), Events()
    names = [f"t{i}.wav" for i in range(10)]
    for i, name in enumerate(names):
        write_tone(tmp_path / name, 300 + 40 * i, 0.3)
    playlist = write_m3u(tmp_path / "soak.m3u", names)   # played round and round
    music = Music(AudioSettings(vlc_args=vlc_args, crossfade="0.05s", max_volume=100), tmp_path,
                  SystemClock(), events.notify)
    music.start()
    try:
        music.play(MusicPlay(playlist=playlist, volume=60))
        events.wait_for("track_started", 40, timeout=30)
        rss, threads = _status("VmRSS"), _settled_threads()
        started = events.wait_for("track_started", TRACKS, timeout=60)
        snapshot = music.snapshot()                 # the music thread still answers
        return {"started": len(started), "threads": (threads, _settled_threads()), "rss": (rss, _status("VmRSS")),
                "troubles": events.of("track_skipped") + events.of("audio_error"),
                "health": snapshot["health"], "playlist": snapshot["playlist"] == playlist}
    finally:
        begun = time.monotonic()
        music.stop(fade=False)
        assert time.monotonic() - begun < 10        # stop() does not hang


def test_two_hundred_tracks_without_leak_or_deadlock(tmp_path, audio_path, recording):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        found = pool.apply(_soak, (str(tmp_path), audio_path))
    assert found["started"] >= TRACKS
    threads, rss = found["threads"], found["rss"]
    assert threads[1] <= threads[0] + 2      # a leak would add one per track: 160
    assert rss[1] - rss[0] < 8 * 1024        # kB
    assert found["troubles"] == [] and found["health"] == "ok" and found["playlist"]
