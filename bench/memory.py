"""Where the service's memory goes over the soak: the soak of bench/scale.py, run several times per variant.

    python bench/memory.py [--minutes 12] [--runs 3] [--music off] [--env MALLOC_ARENA_MAX=2 ...]
    python bench/memory.py --cycles 9600 --pace 0.5 --runs 1     # eight hours' worth of the soak's cycles


Each run is a fresh `room-controller serve` (12 lights, 8 panels following, a session with music, or with a
silent phase and a silent calm under `--music off`) kept busy as the soak keeps it; `--env` sets variables
in the service's environment (glibc's allocator reads MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ and the
like there). The soak's cycle takes 3 s (1,200 an hour); `--cycles N --pace S` runs N cycles of S seconds
each instead, so eight hours' worth of cycles fits in a shorter run, which says only as much about 8 hours as
the growth is per cycle and not per hour: run the same cycles at both paces and compare the growth per 1,000
cycles. Printed per run: the growth after the first fifth (per hour and per 1,000 cycles), RSS then, at the
end and at the peak, and how much of the end is resident in glibc's thread arenas; then the median growth of
the runs. Every sample of every run goes to bench/results/memory.json (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from rig import ROOT
from scale import SOAK_PACE, soak_run

from room_controller.infrastructure.broker import Broker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=12, help="real minutes of each run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cycles", type=int, help="stop after this many cycles (and raise --minutes to fit)")
    parser.add_argument("--pace", type=float, default=SOAK_PACE, help="seconds a cycle takes")
    parser.add_argument("--out", default="memory.json", help="file name in bench/results")
    parser.add_argument("--music", choices=("on", "off"), default="on")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a variable for the service's environment (again for more)")
    args = parser.parse_args()
    os.environ.update(dict(item.split("=", 1) for item in args.env))   # the service inherits the bench's
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        broker = Broker().start()
        try:
            for n in range(args.runs):
                folder = Path(tmp) / str(n)
                folder.mkdir()
                minutes = 24 * 60 if args.cycles else args.minutes
                run = soak_run(folder, broker, minutes, args.music == "on", args.cycles, args.pace)
                runs.append(run)
                print(f"run {n + 1}: {run['cycles']} cycles of {args.pace:g} s in {run['minutes']:g} min, RSS "
                      f"{run['rss_warm_mb']} (cycle {run['warm_cycles']}) -> {run['rss_end_mb']} MB, peak "
                      f"{run['peak_mb']} MB ({run['arenas_end_mb']} MB in thread arenas at the end), "
                      f"{run['slope_mb_per_h']:+.2f} MB/h, {run['slope_mb_per_1000_cycles']:+.3f} MB per 1,000 cycles",
                      flush=True)
        finally:
            broker.close()
    slopes = [run["slope_mb_per_1000_cycles"] for run in runs]
    length = f"{args.cycles} cycles of {args.pace:g} s" if args.cycles else f"{args.minutes:g} min"
    variant = f"music {args.music}, {' '.join(args.env) or 'default allocator'}, {length}"
    print(f"{variant}: median {statistics.median(slopes):+.3f} MB per 1,000 cycles over {args.runs} runs "
          f"({', '.join(f'{s:+.3f}' for s in slopes)})")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / args.out).write_text(json.dumps({"variant": variant, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
