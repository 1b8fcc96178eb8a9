"""Calm latency: from `POST /api/presets/calm` to the last light command at a separate MQTT subscriber.

`room-controller serve` runs as its own process, as on a room computer, with 12 lights of mixed families;
4 client processes read `/api/state` continuously; a one-hour fade is running on every light when each
press comes. Prints p50/p99/max and writes bench/results/calm_latency.json.

    python bench/calm_latency.py [--presses 300]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import requests
import yaml
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from room_controller.broker import Broker, free_port  # noqa: E402

TOKEN = "bench-token-0123456789"
FAMILIES = [("zigbee2mqtt", "z2m/{}", "zigbee2mqtt/{}/set"), ("tasmota", "tas{}", "cmnd/{}/Backlog"),
            ("wled", "wled{}", "wled/{}/api"), ("shelly-rgbw2", "rgbw{}", "shellies/{}/color/0/set"),
            ("shelly-gen2", "dim{}", "{}/rpc"), ("homeassistant-json", "ha/l{}", "{}/set")]


def room(tmp: Path, broker: Broker, port: int) -> tuple[Path, list[str]]:
    lights, topics = [], []
    for family, device, topic in FAMILIES:
        for n in (1, 2):
            name = device.format(n)
            lights.append({"id": f"{family}-{n}", "profile": family, "device": name})
            topics.append(topic.format(name))
    config = {"room": {"id": "bench", "name": "Bench"}, "lights": lights, "data_dir": str(tmp / "data"),
              "mqtt": {"host": broker.host, "port": broker.port},
              "web": {"host": "127.0.0.1", "port": port, "api_token": TOKEN},
              "audio": {"vlc_args": ["--aout=dummy"]}}
    path = tmp / "room.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, topics


class Arrivals:
    """The separate subscriber standing in for the devices: the time each topic last got a message."""

    def __init__(self, broker: Broker, topics: list[str]) -> None:
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}
        self.event = threading.Event()
        self.want: set[str] = set()
        ready = threading.Event()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-devices")
        client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 0) for t in topics])
        client.on_subscribe = lambda *a: ready.set()
        client.on_message = self._message
        client.connect(broker.host, broker.port)
        client.loop_start()
        ready.wait(5)
        self.client = client

    def _message(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        with self.lock:
            self.last[msg.topic] = now
            if self.want and self.want <= {t for t, at in self.last.items() if at >= self.since}:
                self.event.set()

    def expect(self, topics: list[str]) -> None:
        with self.lock:
            self.since = time.perf_counter()
            self.want = set(topics)
            self.event.clear()


def reader(base: str, stop) -> None:
    session = requests.Session()
    while not stop.is_set():
        session.get(f"{base}/api/state", headers={"Authorization": f"Bearer {TOKEN}"})


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the service did not come up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--readers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker().start()
        port = free_port()
        path, topics = room(Path(tmp), broker, port)
        service = subprocess.Popen([sys.executable, "-m", "room_controller", "--log-level", "WARNING", "serve",
                                    "--config", str(path)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        stop = multiprocessing.Event()
        readers = [multiprocessing.Process(target=reader, args=(base, stop), daemon=True)
                   for _ in range(args.readers)]
        for p in readers:
            p.start()
        arrivals = Arrivals(broker, topics)
        session = requests.Session()
        samples = []
        try:
            for i in range(args.presses):
                session.patch(f"{base}/api/lights", headers=auth,
                              json={"brightness": 40 + i % 30, "kelvin": 3000, "transition": "1h"})
                time.sleep(0.03)
                arrivals.expect(topics)
                t0 = time.perf_counter()
                r = session.post(f"{base}/api/presets/calm", headers=auth)
                assert r.status_code == 200, r.text
                if not arrivals.event.wait(5):
                    raise SystemExit("a calm command never arrived")
                with arrivals.lock:
                    samples.append((max(arrivals.last[t] for t in topics) - t0) * 1000)
                session.delete(f"{base}/api/presets/active", headers=auth)
                time.sleep(0.03)
        finally:
            stop.set()
            for p in readers:
                p.join(5)
            service.terminate()
            service.wait(10)
            broker.close()
    samples.sort()
    result = {
        "presses": len(samples), "lights": len(topics), "state_readers": args.readers,
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2),
        "max_ms": round(samples[-1], 2),
        "target_p99_ms": 20,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "calm_latency.json").write_text(json.dumps(result, indent=2))
    print(f"calm press -> last of {result['lights']} light commands, {args.readers} state readers, "
          f"a 1 h fade running, {result['presses']} presses:")
    print(f"  p50 {result['p50_ms']} ms   p99 {result['p99_ms']} ms   max {result['max_ms']} ms   (target p99 < 20 ms)")


if __name__ == "__main__":
    main()
