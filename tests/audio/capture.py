"""The captured audio path, for the music tests and bench/crossfade.py: tone files, a real paced output to
listen on, and a way to read what it heard.

The path: libvlc -> ALSA (`--aout=alsa`) -> the ALSA `jack` plugin -> a JACK server with the `dummy` driver ->
`jack_rec`. JACK paces the stream in real time and mixes both decks into one recording. (An ALSA `type file`
PCM on the `null` device is not paced: VLC then pads the stream with silence all through, which makes gaps and
timing unmeasurable; VLC's afile output writes each deck to its own file handle, so two decks overwrite each
other.) Needs the apt packages jackd2 and libasound2-plugins.
"""

from __future__ import annotations

import array
import math
import os
import subprocess
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def overlap_s(a: list[float], b: list[float]) -> float:
    """Seconds in which both tones sound (each above 5 % of the louder one's peak), between the first
    window where `a` is at 90 % and the last where `b` is: how long a crossfade from a to b lasted."""
    ref = max(a)
    first = next(i for i, x in enumerate(a) if x > 0.9 * ref)
    last = max(i for i, x in enumerate(b) if x > 0.9 * ref)
    return sum(1 for i in range(first, last) if a[i] > 0.05 * ref and b[i] > 0.05 * ref) * WINDOW / RATE


def jack_env(name: str) -> dict:
    return {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1",
            "JACK_NO_AUDIO_RESERVATION": "1"}


def wait_for_port(env: dict, port: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True).stdout
        if port in listed.split():
            return
        time.sleep(0.05)
    raise RuntimeError(f"JACK port {port} did not appear")


@contextmanager
def jack_path(folder: Path) -> Iterator[list[str]]:
    """A JACK server and an ALSA device `rctest` that plays into it (its config in `folder`); yields the
    `vlc_args` to use it."""
    conf = folder / "asound.conf"
    conf.write_text('pcm.rctest { type plug slave.pcm { type jack\n'
                    '  playback_ports { 0 jackrec:input1 1 jackrec:input2 } } }\n', encoding="utf-8")
    name = f"rctest{os.getpid()}"
    env = jack_env(name)
    server = subprocess.Popen(["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", str(RATE),
                               "-p", "256"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER", "ALSA_CONFIG_PATH")}
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1", ALSA_CONFIG_PATH=str(conf))
    try:
        wait_for_port(env, "system:capture_1")
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
        env = jack_env(os.environ["JACK_DEFAULT_SERVER"])
        self._proc = subprocess.Popen(["jack_rec", "-f", str(path), "-d", "600", "-b", "16",
                                       "system:capture_1", "system:capture_2"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(env, "jackrec:input1")

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
