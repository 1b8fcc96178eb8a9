#!/usr/bin/env python3
"""Generate the demo music: a few minutes of calm drones and soft noise, made with sox.

Free of any licence question, so tests and `room-controller demo` have real music. Writes Ogg Vorbis files
to playlists/demo/ (not committed); the playlists next to this script name them. Needs the `sox` command
(Debian: apt-get install sox libsox-fmt-base). Run: python3 playlists/make_demo.py [--force]
"""

from __future__ import annotations

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
    if shutil.which("sox") is None:
        print("make_demo: the `sox` command is missing (apt-get install sox libsox-fmt-base)", file=sys.stderr)
        return 1
    DEMO.mkdir(exist_ok=True)
    for name, effects in TRACKS.items():
        out = DEMO / f"{name}.ogg"
        if out.exists() and "--force" not in argv:
            continue
        subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(out), *effects.split()], check=True)
        print(f"wrote {out.relative_to(DEMO.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
