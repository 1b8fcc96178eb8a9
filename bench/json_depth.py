"""What a JSON body's depth limit costs (issue 23 §5): the library's parser catching RecursionError, with a
walk of the parsed value (webapp.http.parse_json), against the byte scan it replaced, run before every parse.

    python bench/json_depth.py [--quick]

Each body is parsed in a thread of its own, as the server's threads parse them (the recursion limit is the
interpreter's, the stack a thread's); the figure is the best of 21 rounds, per body, in milliseconds.
Results: bench/results/json_depth.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from room_controller.webapp.http import MAX_JSON_DEPTH, TooDeep, parse_json  # noqa: E402

KIB = 1024
ROUNDS = 21
PRESET = {"preset": {"label": "Calm", "lights": {"all": {"brightness": 15, "kelvin": 2200, "transition": "3s"},
                                                  **{f"light-{n}": {"brightness": 10 + n, "color": "#402010"}
                                                     for n in range(12)}},
                     "music": {"playlist": "calm.m3u", "volume": 25, "crossfade": "4s"}}}


def wide(item: bytes, size: int) -> bytes:
    return b"[" + b",".join([item] * (size // (len(item) + 1))) + b"]"


BODIES = {
    "60 KiB of [": b"[" * (60 * KIB),
    "a preset (786 bytes, 4 levels)": json.dumps(PRESET).encode(),
    "64 KiB wide: [],[],...": wide(b"[]", 64 * KIB),
    "64 KiB wide: numbers": wide(b"12345", 64 * KIB),
    "64 KiB wide: strings holding brackets": wide(b'"[{[{"', 64 * KIB),
}

# The scan webapp.http ran before every parse until this bench (removed there; kept here to compare with).
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*+"?|[\[\]{}]', re.DOTALL)


def too_deep(raw: bytes, limit: int) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for token in _TOKENS.finditer(raw):
        bracket = token[0]
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in (b"]", b"}"):
            depth -= 1
            if depth < 0:
                return False
    return False


def scan_then_parse(raw: bytes) -> str:
    if too_deep(raw, MAX_JSON_DEPTH):
        return "too deep"
    try:
        json.loads(raw.decode("utf-8"))
    except ValueError:
        return "not JSON"
    return "parsed"


def library(raw: bytes) -> str:
    try:
        parse_json(raw, MAX_JSON_DEPTH)
    except TooDeep:
        return "too deep"
    except ValueError:
        return "not JSON"
    return "parsed"


def loads_alone(raw: bytes) -> str:
    """The floor: the parser with no depth limit of ours (a body too deep for it still fails)."""
    try:
        json.loads(raw.decode("utf-8"))
    except RecursionError:
        return "too deep"
    except ValueError:
        return "not JSON"
    return "parsed"


WAYS = {"scan, then json.loads (before)": scan_then_parse, "parse_json (now)": library,
        "json.loads alone": loads_alone}


def best_ms(raw: bytes, number: int, rounds: int) -> dict[str, float]:
    """Each way's best time per call; the ways take turns in every round, so other work on the machine falls
    on all of them alike."""
    best = dict.fromkeys(WAYS, float("inf"))

    def run() -> None:
        for _ in range(rounds):
            for name, way in WAYS.items():
                best[name] = min(best[name], timeit.timeit(lambda way=way: way(raw), number=number) / number * 1000)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls per round: check that the bench runs")
    args = parser.parse_args()
    results = {}
    for name, raw in BODIES.items():
        outcomes = {way(raw) for way in (scan_then_parse, library)}
        assert len(outcomes) == 1, (name, outcomes)   # the same answer either way
        number = 5 if args.quick else (2000 if len(raw) < 4 * KIB else 100)
        best = best_ms(raw, number, 3 if args.quick else ROUNDS)
        results[name] = {"bytes": len(raw), "outcome": outcomes.pop(), **{w: round(ms, 4) for w, ms in best.items()}}
    out = ROOT / "bench" / "results" / "json_depth.json"
    out.parent.mkdir(exist_ok=True)
    load = os.getloadavg()[0]   # other work on the machine: the figures are the best of ROUNDS, not free of it
    out.write_text(json.dumps({"python": sys.version.split()[0], "limit": MAX_JSON_DEPTH, "cpus": os.cpu_count(),
                               "load_average": load, "ms": results}, indent=2))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load:.1f}; best of {ROUNDS} rounds")
    print(f"{'body':40} {'outcome':9} " + " ".join(f"{w:>31}" for w in WAYS))
    for name, r in results.items():
        print(f"{name:40} {r['outcome']:9} " + " ".join(f"{r[w]:28.4f} ms" for w in WAYS))


if __name__ == "__main__":
    main()
