"""What a track really sounds like: its integrated loudness (ITU-R BS.1770-4, the measure behind EBU R128),
measured from the decoded audio by libebur128 (Debian's libebur128-1, the reference implementation of EBU R128:
a small C library, through ctypes, so the install carries no scientific stack for one filter), block by block
as libsndfile decodes it (soundfile), once per file and cached.

The music thread must never wait for this: a long track takes seconds to decode and filter, and all of it is
in memory while it does. So each file is measured in a short-lived child process (`python -m
room_controller.audio.loudness measure FILE`), one at a time on a thread of its own; the service's memory
stays where it was, and the answer comes back through `on_measured`.

The cache is keyed by path, size and modification time: a file replaced under the same name is measured
again. A file libsndfile cannot decode, or pure silence, has no loudness (None); the dose then assumes the
loud end of music (UNMEASURED_LUFS) and says it is an estimate.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import logging
import math
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

TARGET_LUFS = -20.0      # the calibration reference's loudness (pink noise), and a quiet music's
UNMEASURED_LUFS = -9.0   # the loud end of mastered music: a dose from an unmeasured track errs high
MEASURE_TIMEOUT = 120.0  # seconds for one file, decoding included
BLOCK_FRAMES = 65536     # decoded and measured at a time: the child's memory stays small for a long track
MODE_I = 5               # libebur128's EBUR128_MODE_I (integrated loudness; includes EBUR128_MODE_M)

log = logging.getLogger(__name__)

_cache: dict[tuple[str, int, int], float | None] = {}
_lock = threading.Lock()


def _key(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


def known(path: Path) -> tuple[bool, float | None]:
    """(measured yet, its loudness in LUFS or None when it has none)."""
    key = _key(path)
    with _lock:
        return (key in _cache, _cache.get(key)) if key else (False, None)


def _ebur128() -> ctypes.CDLL:
    """libebur128, its four functions typed (ebur128.h, 1.2.6)."""
    name = ctypes.util.find_library("ebur128")
    if name is None:
        raise OSError("libebur128 is not installed (Debian: apt install libebur128-1)")
    lib = ctypes.CDLL(name)
    lib.ebur128_init.restype = ctypes.c_void_p
    lib.ebur128_init.argtypes = [ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    lib.ebur128_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    lib.ebur128_add_frames_float.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t]
    lib.ebur128_loudness_global.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
    return lib


def integrated_lufs(path: Path) -> float | None:
    """The file's integrated loudness, in this process (the child's work; tests call it directly)."""
    import soundfile

    lib = _ebur128()
    with soundfile.SoundFile(str(path)) as audio:
        if audio.frames < audio.samplerate * 0.4:   # shorter than one gating block: nothing to measure
            return None
        state = ctypes.c_void_p(lib.ebur128_init(audio.channels, audio.samplerate, MODE_I))
        if not state:
            raise MemoryError("ebur128_init failed")
        try:
            for block in audio.blocks(BLOCK_FRAMES, dtype="float32", always_2d=True):   # interleaved, C order
                frames = block.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
                if lib.ebur128_add_frames_float(state, frames, len(block)) != 0:
                    raise MemoryError("ebur128_add_frames_float failed")
            lufs = ctypes.c_double()
            lib.ebur128_loudness_global(state, ctypes.byref(lufs))
        finally:
            lib.ebur128_destroy(ctypes.byref(state))
    return lufs.value if math.isfinite(lufs.value) else None


def measure(path: Path) -> float | None:
    """Measure in a child process (memory goes back when it ends) and remember the answer."""
    key = _key(path)
    if key is None:
        return None
    try:
        done = subprocess.run([sys.executable, "-m", "room_controller.audio.loudness", "measure", str(path)],
                              capture_output=True, text=True, timeout=MEASURE_TIMEOUT)
        if done.returncode != 0:
            log.warning("loudness of %s not measured: %s", path, (done.stderr.strip().splitlines() or ["?"])[-1])
        text = done.stdout.strip() if done.returncode == 0 else ""
        lufs = float(text) if text not in ("", "none") else None
    except (subprocess.TimeoutExpired, ValueError):
        lufs = None
    with _lock:
        _cache[key] = lufs
    return lufs


def gain(lufs: float | None, target: float | None) -> float:
    """The amplitude factor (at most 1) that brings a track down to `target` LUFS; quieter ones, unmeasured
    ones and every one without a target play as they are."""
    if lufs is None or target is None:
        return 1.0
    return min(1.0, 10 ** ((target - lufs) / 20))


class Measurer:
    """Measures the files it is asked about, one at a time, off the music thread."""

    def __init__(self, on_measured: Callable[[Path, float | None], None]) -> None:
        self._on_measured = on_measured
        self._queue: queue.Queue[Path] = queue.Queue()
        self._asked: set[Path] = set()
        self._thread: threading.Thread | None = None

    def want(self, paths: list[Path]) -> None:
        for path in paths:
            if path not in self._asked and not known(path)[0]:
                self._asked.add(path)
                self._queue.put(path)
        if self._thread is None and not self._queue.empty():
            self._thread = threading.Thread(target=self._run, name="loudness", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            path = self._queue.get()
            self._on_measured(path, measure(path))


def reference(out: Path, seconds: float = 30.0) -> float:
    """Pink noise at TARGET_LUFS for the calibration step (sox makes it, its measured loudness sets the gain)."""
    import soundfile

    raw = out.with_suffix(".raw.wav")
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "2", "-b", "16", str(raw), "synth", str(seconds), "pinknoise"],
                   check=True)
    level = integrated_lufs(raw)
    assert level is not None   # pink noise is never silence
    data, rate = soundfile.read(str(raw), always_2d=True)
    raw.unlink()
    soundfile.write(str(out), data * 10 ** ((TARGET_LUFS - level) / 20), rate, subtype="PCM_16")
    lufs = integrated_lufs(out)
    assert lufs is not None
    return lufs


def calibration_dba(reading_dba: float, volume: float) -> float:
    """The room's `calibration_dba` (the reference at volume 100) from a meter's reading at `volume`: VLC's
    volume is cubic, so volume v plays at 60·log10(v/100) dB."""
    if not 0 < volume <= 100:
        raise ValueError("the reference must play at a volume above 0 and at most 100")
    return reading_dba - 60 * math.log10(volume / 100)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m room_controller.audio.loudness")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("measure", help="print a file's integrated loudness in LUFS").add_argument("file", type=Path)
    ref = commands.add_parser("reference", help=f"write the calibration reference ({TARGET_LUFS:g} LUFS pink noise)")
    ref.add_argument("file", type=Path)
    cal = commands.add_parser("calibrate", help="calibration_dba from the meter's reading of the reference")
    cal.add_argument("--reading", type=float, required=True, help="dBA (slow, A-weighted) at the listening position")
    cal.add_argument("--volume", type=float, required=True, help="the volume the reference played at")
    args = parser.parse_args(argv)
    if args.command == "measure":
        try:
            lufs = integrated_lufs(args.file)
        except (RuntimeError, MemoryError):   # libsndfile cannot decode it: no loudness, and the dose says so
            lufs = None
        print("none" if lufs is None else f"{lufs:.2f}")
    elif args.command == "reference":
        print(f"{args.file}: {reference(args.file):.1f} LUFS")
    else:
        print(f"audio:\n  calibration_dba: {calibration_dba(args.reading, args.volume):.1f}")


if __name__ == "__main__":
    main()
