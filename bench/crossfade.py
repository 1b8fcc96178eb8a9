"""How long a 2 s crossfade lasts in the room's real audio path, on a quiet machine and on one loaded past its
cores: the music thread steps both decks' gains, and a late step lengthens the crossfade (the test of the
crossfade checks that it is one, neither a cut nor a pile-up; how late it ends is this figure).

    python bench/crossfade.py [--runs 5] [--hogs 4]

Each run plays a 440 Hz tone into a 660 Hz one through `Music` (real libvlc) into the captured path of the
music tests (ALSA -> JACK -> jack_rec, paced in real time: tests/audio/capture.py) and measures the seconds
both tones sound together. Then the same with `--hogs` processes spinning on the CPU beside it. Printed: the
median and the longest of each; results in bench/results/crossfade.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path

from rig import ROOT

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings, MusicPlay
from room_controller.infrastructure.clock import SystemClock
from tests.audio.capture import Recording, jack_path, levels, overlap_s, write_m3u, write_tone

ASKED = 2.0


def spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def crossfade(folder: Path, vlc_args: list[str]) -> float:
    """One crossfade from a to b, as heard: seconds both sound."""
    write_tone(folder / "a.wav", 440, 5.0)
    write_tone(folder / "b.wav", 660, 5.0)
    name = write_m3u(folder / "ab.m3u", ["a.wav", "b.wav"])
    started = []
    recording = Recording(folder / "capture.wav")
    music = Music(AudioSettings(vlc_args=vlc_args, crossfade=f"{ASKED:g}s", max_volume=100), folder,
                  SystemClock(), lambda kind, data: started.append(kind) if kind == "track_started" else None)
    music.start()
    try:
        music.play(MusicPlay(playlist=name, volume=100))
        deadline = time.monotonic() + 15
        while started.count("track_started") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(3.5)
    finally:
        music.stop(fade=False)
    samples = recording.stop()
    return overlap_s(levels(samples, 440), levels(samples, 660))


def series(tmp: Path, vlc_args: list[str], runs: int, tag: str) -> list[float]:
    out = []
    for n in range(runs):
        folder = tmp / f"{tag}-{n}"
        folder.mkdir()
        out.append(round(crossfade(folder, vlc_args), 2))
        print(f"  {tag} {n + 1}: {out[-1]:.2f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hogs", type=int, default=4, help="processes spinning on the CPU for the loaded runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crossfade-") as tmp, jack_path(Path(tmp)) as vlc_args:
        quiet = series(Path(tmp), vlc_args, args.runs, "quiet")
        stop = multiprocessing.Event()
        hogs = [multiprocessing.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.hogs)]
        for hog in hogs:
            hog.start()
        try:
            loaded = series(Path(tmp), vlc_args, args.runs, f"{args.hogs} hogs")
        finally:
            stop.set()
            for hog in hogs:
                hog.join(5)
    result = {"asked_s": ASKED, "hogs": args.hogs, "quiet_s": quiet, "loaded_s": loaded}
    for tag, values in (("quiet", quiet), (f"{args.hogs} processes spinning", loaded)):
        print(f"{ASKED:g} s crossfade, {tag}: median {statistics.median(values):.2f} s, longest {max(values):.2f} s "
              f"(late by {max(values) - ASKED:+.2f} s) over {len(values)} runs")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossfade.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
