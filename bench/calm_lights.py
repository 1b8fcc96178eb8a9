"""Calm's cost per light, in the room's own process: from the press to the last command handed to the MQTT link.

    .venv/bin/python bench/calm_lights.py [--presses 200] [--counts 12,50,200] [--quick]

The room of bench/run.py (`count` lights of every family in turn, the template family taking every seventh
above 12), its core loop on the test clock so that every fade and every release ends when the bench says, and
its real MQTT link to a private mosquitto (paho writes each command to the socket before `publish` returns; a
burst's commands are held and leave together as it ends, MqttLink.burst). Each press runs on the core loop as
the HTTP API's calm runs there; the time is the core thread's, from the press until its last command left
(the return of the last `publish`, or the end of its burst), wall clock (`perf_counter`) and the thread's CPU time
(`thread_time`, which other processes on a busy machine do not inflate). Two rooms' states at the press:

- settled: the lights at 40 %, 3000 K, released from the last calm long before (10 s on the test clock);
- fading: pressed 50 ms after the release, every light in its 5 s fade back (bench/scale.py's pace).

Per light: the median press over the count, and the slope of the medians from the fewest lights to the most.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rig import ROOT, lights  # noqa: E402

sys.path.insert(0, str(ROOT))
from room_controller.app import App  # noqa: E402
from room_controller.config import load_room  # noqa: E402
from room_controller.infrastructure.broker import Broker  # noqa: E402
from room_controller.infrastructure.clock import ManualClock  # noqa: E402
from room_controller.lighting.state import LightChange  # noqa: E402

SETTLED, FADING = 10.0, 0.05   # seconds on the test clock between the release and the press


class Bench:
    """One room of `count` lights on the test clock, its link connected to `broker`."""

    def __init__(self, tmp: Path, broker: Broker, count: int) -> None:
        configs, _ = lights(count)
        (tmp / "profiles").mkdir()
        (tmp / "music").mkdir()
        config = {"room": {"id": f"calm{count}", "name": "Bench"}, "lights": configs, "data_dir": str(tmp / "data"),
                  "mqtt": {"host": broker.host, "port": broker.port},
                  "web": {"host": "127.0.0.1", "port": 0, "api_token": "bench-token-0123456789"},
                  "profiles_dir": str(tmp / "profiles"), "playlists_dir": str(tmp / "music"),
                  "presets": {"calm": {"music": "silence"}}}
        (tmp / "room.yaml").write_text(yaml.safe_dump(config))
        room_config, catalogue = load_room(tmp / "room.yaml")
        self.clock = ManualClock()
        self.app = App(room_config, catalogue, clock=self.clock, audio=False, web=False)
        self.room = self.app.room
        self.last = (0.0, 0.0)
        self.in_link = [0.0, 0.0]   # wall and CPU seconds spent inside the link's publish
        for light in self.room.lights.values():
            light._publish = self._timed(light._publish)   # noqa: SLF001 - the link's publish, timed
        self.room.layers._burst = self._timed_burst(self.room.layers._burst)   # noqa: SLF001 - and its burst's end
        self.app.start()
        deadline = time.monotonic() + 10
        while not self.room.mqtt_connected and time.monotonic() < deadline:
            time.sleep(0.01)
        self.app.loop.call(self.room.layers.adjust_lights, None, LightChange(brightness=40, kelvin=3000), 0.0)
        self.clock.advance(SETTLED)

    def _timed(self, publish):
        def timed(message) -> bool:
            wall, cpu = time.perf_counter(), time.thread_time()
            sent = publish(message)
            self.last = (time.perf_counter(), time.thread_time())
            self.in_link[0] += self.last[0] - wall
            self.in_link[1] += self.last[1] - cpu
            return sent
        return timed

    def _timed_burst(self, burst):
        """The link's burst (MqttLink.burst): its commands leave the room when it ends, so the press's last
        moment is then, and the end (the kernel sending what was held) counts as time in the link."""
        @contextmanager
        def timed():
            with burst():
                yield
                wall, cpu = time.perf_counter(), time.thread_time()
            self.last = (time.perf_counter(), time.thread_time())
            self.in_link[0] += self.last[0] - wall
            self.in_link[1] += self.last[1] - cpu
        return timed

    def press(self, pause: float) -> tuple[float, float, float, float]:
        """Calm, then its release, then `pause` on the test clock; the press's wall and CPU milliseconds, and
        of them the milliseconds inside the link's publish."""
        def calm() -> tuple[float, float]:
            self.in_link = [0.0, 0.0]
            wall, cpu = time.perf_counter(), time.thread_time()
            self.room.presets.activate("calm")
            return wall, cpu
        wall, cpu = self.app.loop.call(calm, urgent=True)
        took = ((self.last[0] - wall) * 1000, (self.last[1] - cpu) * 1000, self.in_link[0] * 1000,
                self.in_link[1] * 1000)
        self.clock.advance(4)   # calm's 3 s fade ends
        self.app.loop.call(self.room.presets.release, urgent=True)
        self.clock.advance(pause)
        return took

    def close(self) -> None:
        self.app.stop()


def measure(broker: Broker, count: int, presses: int, pause: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp), broker, count)
        try:
            for _ in range(3):   # warm-up
                bench.press(pause)
            prepared = getattr(bench.room.layers, "prepared", None)
            before = (prepared.taken, prepared.missed) if prepared else (0, 0)
            samples = [bench.press(pause) for _ in range(presses)]
            taken = prepared.taken - before[0] if prepared else 0
            missed = prepared.missed - before[1] if prepared else presses * count
        finally:
            bench.close()
    wall, cpu = sorted(s[0] for s in samples), sorted(s[1] for s in samples)
    return {"lights": count, "wall_p50_ms": statistics.median(wall), "wall_p90_ms": wall[int(len(wall) * 0.9)],
            "cpu_p50_ms": statistics.median(cpu), "link_wall_p50_ms": statistics.median(s[2] for s in samples),
            "link_cpu_p50_ms": statistics.median(s[3] for s in samples),
            "taken_pct": 100 * taken / max(1, taken + missed)}


def slope(rows: list[dict], key: str) -> float:
    """Microseconds per light added, from the fewest lights to the most."""
    first, last = rows[0], rows[-1]
    return (last[key] - first[key]) / (last["lights"] - first["lights"]) * 1000


def report(name: str, rows: list[dict]) -> None:
    for r in rows:
        print(f"  {name:8} {r['lights']:4} lights: press -> last publish p50 {r['wall_p50_ms']:.2f} ms "
              f"(p90 {r['wall_p90_ms']:.2f}), CPU p50 {r['cpu_p50_ms']:.2f} ms, of which in the link's publish "
              f"{r['link_wall_p50_ms']:.2f} / {r['link_cpu_p50_ms']:.2f} ms; {r['wall_p50_ms'] / r['lights'] * 1000:.0f}"
              f" µs a light; plans taken for {r['taken_pct']:.0f} % of lights", flush=True)
    if len(rows) > 1:
        print(f"  {name}: per light added {slope(rows, 'wall_p50_ms'):.0f} µs wall, {slope(rows, 'cpu_p50_ms'):.0f} µs "
              f"CPU; without the link's publish {slope(rows, 'wall_p50_ms') - slope(rows, 'link_wall_p50_ms'):.0f} µs "
              f"wall, {slope(rows, 'cpu_p50_ms') - slope(rows, 'link_cpu_p50_ms'):.0f} µs CPU", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--counts", default="12,50,200")
    parser.add_argument("--quick", action="store_true", help="20 presses")
    args = parser.parse_args()
    presses = 20 if args.quick else args.presses
    counts = [int(c) for c in args.counts.split(",")]
    broker = Broker().start()
    try:
        print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for name, pause in (("settled", SETTLED), ("fading", FADING)):
            report(name, [measure(broker, count, presses, pause) for count in counts])
        print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        broker.close()


if __name__ == "__main__":
    main()
