"""Where the service's memory goes over the soak: the soak of bench/scale.py, run several times per variant.

    python bench/memory.py [--minutes 12] [--runs 3] [--music off] [--env MALLOC_ARENA_MAX=2 ...]

Each run is a fresh `room-controller serve` (12 lights, 8 panels following, a session with music, or with a
silent phase and a silent calm under `--music off`) kept busy as the soak keeps it; `--env` sets variables
in the service's environment (glibc's allocator reads MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ and the
like there). Printed per run: the growth per hour after the first fifth, RSS then and at the end, and how
much of the end is resident in glibc's thread arenas; then the median growth of the runs. Every sample of
every run goes to bench/results/memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from run import ROOT
from scale import soak_run

from room_controller.infrastructure.broker import Broker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=12, help="real minutes of each run")
    parser.add_argument("--runs", type=int, default=3)
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
                run = soak_run(folder, broker, args.minutes, args.music == "on")
                runs.append(run)
                print(f"run {n + 1}: {run['cycles']} cycles, RSS {run['rss_warm_mb']} -> {run['rss_end_mb']} MB "
                      f"({run['arenas_end_mb']} MB in thread arenas), {run['slope_mb_per_h']:+.1f} MB/h", flush=True)
        finally:
            broker.close()
    slopes = [run["slope_mb_per_h"] for run in runs]
    variant = f"music {args.music}, {' '.join(args.env) or 'default allocator'}, {args.minutes:g} min"
    print(f"{variant}: median {statistics.median(slopes):+.1f} MB/h over {args.runs} runs "
          f"({', '.join(f'{s:+.1f}' for s in slopes)})")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "memory.json").write_text(json.dumps({"variant": variant, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
