"""How the room grows (issue 16): calm and idle CPU with more lights and panels, and RSS over a real soak.

    python bench/run.py --only scale,soak [--quick] [--soak-minutes 12]
    python bench/scale.py [--lights 12,50,200] [--panels 1] [--presses 100] [--pause 0.05]   (calm per light)

Both run against `room-controller serve` as its own process (log level INFO, as the systemd unit runs it;
VLC's dummy audio output), with a separate MQTT subscriber standing in for the devices and the panels in a
client process of their own, each panel a PIN login of its own following the room's event stream.

- scale: 12, 50 and 200 lights (every family in turn) times 1, 8 and 50 open panels. Per cell: the
  service's CPU over a quiet stretch with the panels open (no session, nothing fading), then calm presses
  from one more panel (cookie and CSRF header), each to the last of all the lights' commands, released
  between presses. Fifty panels need a web server sized for them (`SCALE_WEB`: 64 threads, 50 streams,
  128 connections per address since every panel here comes from 127.0.0.1); the other cells run with the
  same settings, so only the load differs.
- soak: 12 lights, a session with music playing, 8 panels following, and the room kept busier than a
  session keeps it (a calm press and its release, a light adjustment and a volume change every few
  seconds, a note every 30 s), for `--soak-minutes` of real time. RSS is sampled every 15 s, with how much
  of it is resident in glibc's thread arenas; after a warm-up of a fifth of the run, the least-squares
  slope gives the growth per 1,000 cycles. bench/memory.py repeats this soak with and without music, with
  allocator settings, or for a number of cycles at a faster pace (eight hours' worth: docs/memory.md).
- calm per light (this file run alone): the scale section's calm presses for each count of lights with the
  panels given, `--pause` after each release, and the growth per light of the median and the p99 from the
  fewest lights to the most (docs/calm-lane.md, "Calm made ahead").
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from rig import Devices, Results, follow_events, panel_session, percentiles, serve_room, usage, wait_for

from room_controller.infrastructure.broker import Broker

SCALE_WEB = {"threads": 64, "max_event_streams": 50, "max_connections_per_client": 128}
LIGHTS = (12, 50, 200)
PANELS = (1, 8, 50)
PAUSE = 0.05


class Room:
    """`serve` with `count` lights and `panels` panels following it; `press` is one more panel."""

    def __init__(self, tmp: Path, broker: Broker, count: int, panels: int, name: str, music: bool = True) -> None:
        self.service, self.topics = serve_room(tmp, broker, count, SCALE_WEB, music)
        self.devices = Devices(broker, self.topics, name)
        self.stop = multiprocessing.Event()
        self.followers = multiprocessing.Process(target=follow_events,
                                                 args=(self.service.base, panels, self.stop, True), daemon=True)
        wait_for(lambda: self.service.state().get("mqtt") == "connected", 10)
        self.panel = panel_session(self.service.base)
        # every light at a known setting: one never told or heard from is commanded without a fade
        self.call("PATCH", "/api/lights", {"brightness": 40, "kelvin": 3000, "transition": 0})
        self.followers.start()
        time.sleep(3 + panels / 10)   # the panels logged in and following, the first fade long over

    def call(self, method: str, path: str, body: dict | None = None) -> None:
        r = self.panel.request(method, f"{self.service.base}{path}", json=body, timeout=10)
        assert r.status_code < 300, (method, path, r.status_code, r.text)

    def presses(self, count: int, pause: float = PAUSE) -> dict:
        """Calm from the panel to the last of every light's command, released `pause` s before the next press (the
        lights then in their 5 s fade back); the first 3 warm up."""
        lit = []
        for i in range(-3, count):
            self.devices.expect(self.topics)
            t0 = time.perf_counter()
            self.call("POST", "/api/presets/calm")
            arrived = self.devices.arrived(10)
            if i >= 0:
                lit.append((arrived - t0) * 1000)
            self.call("DELETE", "/api/presets/active")
            time.sleep(pause)
        return percentiles(lit)

    def cpu(self, seconds: float) -> float:
        """The service's CPU over `seconds`, in % of one core."""
        _, _, before = usage(self.service.proc.pid)
        time.sleep(seconds)
        _, _, after = usage(self.service.proc.pid)
        return 100 * (after - before) / seconds

    def close(self) -> None:
        self.stop.set()
        if self.followers.pid is not None:
            self.followers.join(5)
        self.devices.close()
        self.service.stop()


def scale(res: Results, tmp: Path, broker: Broker, presses: int, idle: float) -> None:
    cells = {}
    for count in LIGHTS:
        for panels in PANELS:
            folder = tmp / f"{count}-{panels}"
            folder.mkdir()
            room = Room(folder, broker, count, panels, f"bench-scale-{count}-{panels}")
            try:
                cpu = room.cpu(idle)
                lit = room.presses(presses)
            finally:
                room.close()
            cells[f"{count} lights, {panels} panels"] = {"idle_cpu_pct": round(cpu, 2), "calm": lit}
            print(f"    {count} lights, {panels} panels: idle CPU {cpu:.2f} %, calm p50 / p99 {lit['p50_ms']} / "
                  f"{lit['p99_ms']} ms", flush=True)
    res.data["scale"] = {"web": SCALE_WEB, "presses": presses, "idle_s": idle, "cells": cells}
    print(scale_table(cells))
    for key, cell in cells.items():
        res.add(f"{key}: calm -> last light command p50 / p99 ({presses} presses); idle CPU over {idle:g} s",
                f"{cell['calm']['p50_ms']} / {cell['calm']['p99_ms']} ms; {cell['idle_cpu_pct']:.2f} % of a core")


def scale_table(cells: dict) -> str:
    """The README's growth table: lights down, panels across, calm p50 / p99 and idle CPU in each cell."""
    lines = ["| lights \\ open panels | " + " | ".join(str(p) for p in PANELS) + " |",
             "|---|" + "---|" * len(PANELS)]
    for count in LIGHTS:
        row = []
        for panels in PANELS:
            cell = cells[f"{count} lights, {panels} panels"]
            row.append(f"{cell['calm']['p50_ms']:.1f} / {cell['calm']['p99_ms']:.1f} ms; {cell['idle_cpu_pct']:.2f} %")
        lines.append(f"| {count} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def soak(res: Results, tmp: Path, broker: Broker, minutes: float) -> None:
    run = soak_run(tmp, broker, minutes)
    res.data["soak"] = run
    res.add(f"serve, 8 panels, music playing, {minutes:g} min of real time ({run['cycles']} cycles of calm, release, "
            f"light and volume changes; a note every 10th): RSS after warm-up -> end (peak), growth after warm-up",
            f"{run['rss_warm_mb']:.1f} -> {run['rss_end_mb']:.1f} MB ({run['peak_mb']:.1f}); "
            f"{run['slope_mb_per_1000_cycles']:+.2f} MB per 1,000 cycles", "< 100 MB (8 h: bench/memory.py)",
            run["peak_mb"] < 100)


SOAK_PACE = 3.0   # seconds a soak cycle takes: 1,200 cycles an hour, a hundred times a real session's presses


def soak_run(tmp: Path, broker: Broker, minutes: float, music: bool = True, cycles: int | None = None,
             pace: float = SOAK_PACE) -> dict:
    """One soak (see the module's opening) for `minutes` or until `cycles` cycles, each `pace` seconds long:
    samples of (seconds, cycles so far, RSS MB, RSS MB in glibc's thread arenas), the cycles run, the growth
    after the warm-up (the first fifth of the samples) per hour and per 1,000 cycles, and the peak."""
    room = Room(tmp, broker, 12, 8, "bench-soak-devices", music)
    samples: list[tuple[float, int, float, float]] = []

    def sample() -> None:
        pid = room.service.proc.pid
        samples.append((time.monotonic() - start, n, usage(pid)[0], arena_rss(pid)))

    n = 0
    try:
        room.call("POST", "/api/session", {"profile": "bench"})
        if music:
            wait_for(lambda: room.service.state()["audio"]["playing"], 10)
        start = time.monotonic()
        end, tick = start + minutes * 60, 0.0
        while time.monotonic() < end and (cycles is None or n < cycles):
            if time.monotonic() >= tick:
                sample()
                tick = time.monotonic() + 15
            room.call("POST", "/api/presets/calm")
            time.sleep(pace / 3)
            room.call("DELETE", "/api/presets/active")
            room.call("PATCH", "/api/lights", {"brightness": 30 + n % 40, "kelvin": 2700, "transition": "3s"})
            room.call("PATCH", "/api/audio", {"volume": 20 + n % 20})
            if n % 10 == 0:
                room.call("POST", "/api/notes", {"text": f"soak note {n}"})
            n += 1
            time.sleep(pace * 2 / 3)
        sample()
        playing = room.service.state()["audio"]["playing"]
        peak = usage(room.service.proc.pid)[1]
    finally:
        room.close()
    assert playing == music, "the music stopped during the soak" if music else "music played in a silent room"
    kept = samples[len(samples) // 5:]
    per_hour = statistics.linear_regression([s[0] for s in kept], [s[2] for s in kept]).slope * 3600
    per_1000 = statistics.linear_regression([s[1] for s in kept], [s[2] for s in kept]).slope * 1000
    return {"minutes": round(samples[-1][0] / 60, 1), "pace_s": pace, "music": music, "cycles": n,
            "slope_mb_per_h": round(per_hour, 2), "slope_mb_per_1000_cycles": round(per_1000, 3),
            "rss_warm_mb": round(kept[0][2], 1), "warm_cycles": kept[0][1], "rss_end_mb": round(samples[-1][2], 1),
            "arenas_end_mb": round(samples[-1][3], 1), "peak_mb": round(peak, 1),
            "samples": [(round(t), c, round(m, 1), round(a, 1)) for t, c, m, a in samples]}


HEAP_MAX = 64 << 20   # glibc's thread arenas grow in heaps of up to this, each mapped at a multiple of it


def arena_rss(pid: int) -> float:
    """MB resident in glibc's thread arenas (not the main arena): the anonymous read-write mappings that start
    at a multiple of HEAP_MAX, in /proc/PID/smaps."""
    total, heap = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:   # a mapping's first line
            start = int(fields[0].split("-")[0], 16)
            heap = len(fields) == 5 and fields[1] == "rw-p" and start % HEAP_MAX == 0
        elif heap and fields[0] == "Rss:":
            total += int(fields[1])
    return total / 1024


def per_light(counts: list[int], panels: int, presses: int, pause: float) -> None:
    """Calm to the last light's command for each count of lights, pressed `pause` s after the last release; what
    each light added costs."""
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    broker = Broker().start()
    rows = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for count in counts:
                folder = Path(tmp) / str(count)
                folder.mkdir()
                room = Room(folder, broker, count, panels, f"bench-calm-{count}")
                try:
                    rows[count] = room.presses(presses, pause)
                finally:
                    room.close()
                print(f"  {count} lights, {panels} panel(s): calm p50 / p99 {rows[count]['p50_ms']} / "
                      f"{rows[count]['p99_ms']} ms", flush=True)
    finally:
        broker.close()
    few, many = min(counts), max(counts)
    for key in ("p50_ms", "p99_ms"):
        print(f"  per light added, {key[:3]}: {(rows[many][key] - rows[few][key]) / (many - few):.3f} ms")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="calm's cost per light against serve")
    parser.add_argument("--lights", default=",".join(map(str, LIGHTS)))
    parser.add_argument("--panels", type=int, default=1)
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--pause", type=float, default=PAUSE, help="seconds from a release to the next press "
                        "(6: the lights settled after the release's 5 s fade)")
    args = parser.parse_args()
    per_light([int(n) for n in args.lights.split(",")], args.panels, args.presses, args.pause)
