"""Fixtures for the music tests: a real audio path to listen on and a recording of it (tests/audio/capture.py
says how it works), and a room of music on the test clock."""

from __future__ import annotations

import shutil
import time

import pytest

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings
from room_controller.infrastructure.clock import ManualClock
from tests.audio.capture import Recording, jack_path, write_m3u, write_tone
from tests.optional import require


class Events:
    """What Music notified, in order; `notify` is the callback to hand it."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict]] = []

    def notify(self, kind: str, data: dict) -> None:
        self.items.append((kind, data))

    def of(self, kind: str) -> list[dict]:
        return [data for k, data in self.items if k == kind]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.of(kind)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.of(kind)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture(scope="session")
def audio_path(tmp_path_factory):
    """A JACK server and an ALSA device `rctest` that plays into it; yields the `vlc_args` to use it."""
    require(shutil.which("jackd") is not None and shutil.which("jack_rec") is not None,
            "jackd2 and libasound2-plugins are not installed (`deploy/setup.sh --test` installs them)")
    with jack_path(tmp_path_factory.mktemp("alsa")) as vlc_args:
        yield vlc_args


@pytest.fixture
def recording(audio_path, tmp_path):
    rec = Recording(tmp_path / "capture.wav")
    yield rec
    rec._proc.kill()
    rec._proc.wait(10)


# -- a room of music on the test clock (real libvlc, dummy output) -------------------------------------------

LENGTH = 20.0   # seconds of each track
FADE = 4.0


@pytest.fixture
def room(tmp_path, events):
    """Three 20 s tones and playlists of them, a ManualClock, and `make(on_change=None, **settings)`: a
    started Music."""
    for name, freq in (("a", 440), ("b", 660), ("c", 550)):
        write_tone(tmp_path / f"{name}.wav", freq, LENGTH)
    write_m3u(tmp_path / "ab.m3u", ["a.wav", "b.wav"])
    write_m3u(tmp_path / "calm.m3u", ["c.wav"])
    write_m3u(tmp_path / "quiet.m3u", ["a.wav", "silence: 10s", "b.wav"])
    clock = ManualClock()
    made = []

    def make(on_change=None, **settings) -> Music:
        settings = {"vlc_args": ["--aout=adummy"], "crossfade": FADE, "max_volume": 80, **settings}
        music = Music(AudioSettings(**settings), tmp_path, clock, events.notify, on_change)
        music.start()
        made.append(music)
        return music

    yield clock, make
    for music in made:
        music.stop(fade=False)


def tracks(music) -> list[str]:
    return [d["track"] for d in music.snapshot()["decks"]]


def settle(clock, seconds=0.0):
    """Let the music thread take the commands sent so far at this moment, then move time on."""
    clock.advance(0.0)
    clock.advance(seconds)
