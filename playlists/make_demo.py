#!/usr/bin/env python3
"""Generate the demo music: a few minutes of calm drones and soft noise, made with sox.

Free of any licence question, so tests and `room-controller demo` have real music. Writes Ogg Vorbis files
to playlists/demo/ (not committed), or to the folder given with --into (the demo run from an installed
wheel makes them in the user's data folder); the playlists next to this script name them as demo/<name>.ogg.
Needs the `sox` command (Debian: apt-get install sox libsox-fmt-base).
Run: python3 playlists/make_demo.py [--force] [--into FOLDER]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent / "demo"

# name -> sox effects after `sox -n -r 44100 -c 2 <file>`; each ends with a gentle fade in and out
TRACKS = {
    "warm-drone": "synth 40 sine 110 sine 165 tremolo 0.15 35 vol 0.35 fade q 4 40 4",
    "low-tide": "synth 40 pinknoise lowpass 500 tremolo 0.08 60 vol 0.5 fade q 6 40 6",
    "open-fifths": "synth 40 sine 98 sine 147 tremolo 0.1 25 vol 0.35 fade q 4 40 4",
    "soft-rain": "synth 40 brownnoise highpass 200 lowpass 2500 vol 0.25 fade q 5 40 5",
    "slow-bells": "synth 35 pluck 220 pluck 330 tremolo 0.2 40 reverb 80 vol 0.3 fade q 3 35 5",
    "deep-hum": "synth 40 sine 55 sine 82.5 tremolo 0.05 20 vol 0.4 fade q 5 40 5",
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Generate the demo tracks with sox.")
    parser.add_argument("--force", action="store_true", help="make every track again, even those already there")
    parser.add_argument("--into", type=Path, default=DEMO, help="the tracks' folder (default: demo/ beside this script)")
    args = parser.parse_args(argv)
    if shutil.which("sox") is None:
        print("make_demo: the `sox` command is missing (apt-get install sox libsox-fmt-base)", file=sys.stderr)
        return 1
    try:
        args.into.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"make_demo: cannot make the folder {args.into}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for name, effects in TRACKS.items():
        out = args.into / f"{name}.ogg"
        if out.exists() and not args.force:
            continue
        made = subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(out), *effects.split()],
                              capture_output=True, text=True)
        if made.returncode != 0:   # e.g. sox without its Ogg Vorbis format (libsox-fmt-base)
            out.unlink(missing_ok=True)
            print(f"make_demo: sox could not write {out}: {made.stderr.strip()}", file=sys.stderr)
            return 1
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
