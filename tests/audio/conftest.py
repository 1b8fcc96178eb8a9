"""Fixtures for the music tests: tone files, a real audio path to listen on, and a way to read it.

The captured path: libvlc -> ALSA (`--aout=alsa`) -> the ALSA `jack` plugin -> a JACK server with the
`dummy` driver -> `jack_rec`. JACK paces the stream in real time and mixes both decks into one recording.
(An ALSA `type file` PCM on the `null` device is not paced: VLC then pads the stream with silence all
through, which makes gaps and timing unmeasurable.) Needs the apt packages jackd2 and libasound2-plugins.
"""

from __future__ import annotations

import array
import math
import os
import shutil
import subprocess
import time
import wave
from pathlib import Path

import pytest

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings
from room_controller.infrastructure.clock import ManualClock
from tests.optional import require

RATE = 16000            # samples a second, for the tone files and the JACK server (no resampling)
WINDOW = 800            # 50 ms: 440 Hz and 660 Hz fit a whole number of cycles, so no leakage


def write_tone(path: Path, freq: float, seconds: float, amplitude: float = 0.5) -> Path:
    """A stereo 16-bit WAV of a sine: one frequency per track lets a test tell the decks apart in the mix."""
    frames = int(RATE * seconds)
    samples = array.array("h")
    for n in range(frames):
        value = int(32767 * amplitude * math.sin(2 * math.pi * freq * n / RATE))
        samples.extend((value, value))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path


def write_m3u(path: Path, names: list[str]) -> str:
    path.write_text("#EXTM3U\n" + "".join(f"{n}\n" for n in names), encoding="utf-8")
    return path.name


def tone_level(samples: array.array, start: int, freq: float) -> float:
    """Amplitude (full scale = 1) of `freq` in one window, by a Goertzel filter."""
    coeff = 2 * math.cos(2 * math.pi * freq / RATE)
    s1 = s2 = 0.0
    for x in samples[start:start + WINDOW]:
        s1, s2 = x / 32768 + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return 2 * math.sqrt(max(0.0, power)) / WINDOW


def levels(samples: array.array, freq: float) -> list[float]:
    return [tone_level(samples, i, freq) for i in range(0, len(samples) - WINDOW, WINDOW)]


def rms_levels(samples: array.array) -> list[float]:
    out = []
    for i in range(0, len(samples) - WINDOW, WINDOW):
        out.append(math.sqrt(sum((x / 32768) ** 2 for x in samples[i:i + WINDOW]) / WINDOW))
    return out


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


def _jack_env(name: str) -> dict:
    return {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1",
            "JACK_NO_AUDIO_RESERVATION": "1"}


def _wait_for_port(env: dict, port: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout
        if port in listed.split():
            return
        time.sleep(0.05)
    raise RuntimeError(f"JACK port {port} did not appear")


@pytest.fixture(scope="session")
def audio_path(tmp_path_factory):
    """A JACK server and an ALSA device `rctest` that plays into it; yields the `vlc_args` to use it."""
    require(shutil.which("jackd") is not None and shutil.which("jack_rec") is not None,
            "jackd2 and libasound2-plugins are not installed (`deploy/setup.sh --test` installs them)")
    folder = tmp_path_factory.mktemp("alsa")
    conf = folder / "asound.conf"
    conf.write_text('pcm.rctest { type plug slave.pcm { type jack\n'
                    '  playback_ports { 0 jackrec:input1 1 jackrec:input2 } } }\n', encoding="utf-8")
    name = f"rctest{os.getpid()}"
    env = _jack_env(name)
    server = subprocess.Popen(["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", str(RATE),
                               "-p", "256"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER", "ALSA_CONFIG_PATH")}
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1", ALSA_CONFIG_PATH=str(conf))
    try:
        _wait_for_port(env, "system:capture_1")
        yield ["--aout=alsa", "--alsa-audio-device=rctest"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()
        server.wait(10)


class Recording:
    """`jack_rec` listening to everything the decks play."""

    def __init__(self, path: Path) -> None:
        self.path = path
        env = _jack_env(os.environ["JACK_DEFAULT_SERVER"])
        self._proc = subprocess.Popen(["jack_rec", "-f", str(path), "-d", "600", "-b", "16",
                                       "system:capture_1", "system:capture_2"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(env, "jackrec:input1")

    def stop(self) -> array.array:
        """The left channel, int16. jack_rec leaves the WAV header's sizes at 0 when stopped: read to the end."""
        self._proc.terminate()
        self._proc.wait(10)
        data = self.path.read_bytes()
        start = data.index(b"data") + 8
        body = data[start:]
        samples = array.array("h")
        samples.frombytes(body[:len(body) // 4 * 4])
        return samples[0::2]


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
