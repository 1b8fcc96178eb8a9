"""Side by side with Node-RED (issue 16): calm presses alternating between this room and a Node-RED flow.

    python bench/run.py --only nodered [--quick]

Both run on the same machine in one run, against the same private mosquitto (its settings are printed),
with the same separate MQTT subscriber standing in for the devices:

- this room: `room-controller serve` as its own process (log level WARNING, VLC's dummy audio output),
  12 mixed lights; it is pressed as the panel presses, with the login cookie and the CSRF header (and the
  Origin a browser sends), while 8 panels (8 PIN logins, a client process of their own) follow the room on
  open event streams;
- Node-RED (pinned in bench/nodered/package.json, installed with `npm ci` when missing): a flow that
  checks a bearer token and publishes the same 12 commands (the payloads this room sent for its own first
  calm press, to the same topics under `nodered/`, so the two cannot be mistaken for each other).

Presses alternate (ours, Node-RED, ours, ...), each followed by a release; a press is timed from the
request until the last of its 12 commands reaches the subscriber, and until the HTTP answer is read.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests
from rig import ROOT, TOKEN, Devices, Results, follow_events, panel_session, percentiles, serve_room, usage, wait_for  # noqa: E402

from room_controller.infrastructure.broker import Broker, free_port  # noqa: E402

NODERED = ROOT / "bench" / "nodered"
PREFIX = "nodered/"
PAUSE = 0.05   # seconds between a release and the next press, the same for both


class NodeRed:
    """The pinned Node-RED running bench/nodered/flows.json, a process of its own."""

    def __init__(self, broker: Broker, commands: list[tuple[str, str]], tmp: Path) -> None:
        self.broker, self.commands, self.dir = broker, commands, tmp / "nodered"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        red = NODERED / "node_modules" / "node-red" / "red.js"
        if not red.exists():
            subprocess.run(["npm", "ci", "--omit=optional", "--no-audit", "--no-fund"], cwd=NODERED, check=True)
        self.dir.mkdir()
        for name in ("flows.json", "settings.js"):
            shutil.copy(NODERED / name, self.dir / name)
        env = {**os.environ, "BENCH_TOKEN": TOKEN, "BENCH_MQTT_HOST": self.broker.host,
               "BENCH_MQTT_PORT": str(self.broker.port), "BENCH_CALM": json.dumps(self.commands)}
        self.proc = subprocess.Popen(["node", str(red), "--settings", str(self.dir / "settings.js"), "--userDir",
                                      str(self.dir), "--port", str(self.port)], env=env, cwd=self.dir)
        wait_for(self._up, 60, 0.1)

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise SystemExit(f"Node-RED exited ({self.proc.returncode})")
        try:
            return requests.delete(f"{self.base}/api/presets/active", timeout=1).status_code == 401
        except requests.RequestException:
            return False

    def version(self) -> str:
        return json.loads((NODERED / "node_modules" / "node-red" / "package.json").read_text())["version"]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Panel:
    """A therapist's panel pressing calm (bench/run.py's `panel_session`)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = panel_session(base)

    def call(self, method: str, path: str) -> requests.Response:
        return self.http.request(method, f"{self.base}{path}", timeout=10)


def side_by_side(res: Results, tmp: Path, broker: Broker, count: int, panels: int, tag: str = "") -> None:
    """`tag` names the broker's setting in the results."""
    tmp.mkdir(exist_ok=True)
    service, topics = serve_room(tmp, broker)
    peer_topics = [PREFIX + t for t in topics]
    devices = Devices(broker, topics + peer_topics, "bench-peer-devices")
    stop = multiprocessing.Event()
    followers = multiprocessing.Process(target=follow_events, args=(service.base, panels, stop, True),
                                        daemon=True)
    peer = None
    try:
        wait_for(lambda: service.state().get("mqtt") == "connected", 10)
        panel = Panel(service.base)
        # every light at a known setting first: a light never told or heard from is commanded without a fade
        # (and counted as abrupt by the flash rule) until its first fade ends
        panel.http.patch(f"{service.base}/api/lights", json={"brightness": 40, "kelvin": 3000, "transition": 0},
                         timeout=10).raise_for_status()
        time.sleep(1.5)
        commands = first_commands(panel, devices, topics)
        peer = NodeRed(broker, [(PREFIX + t, p) for t, p in commands], tmp)
        peer.start()
        followers.start()
        time.sleep(3)   # both settled, the panels following
        idle = {"ours": usage(service.proc.pid)[0], "nodered": usage(peer.proc.pid)[0]}
        bearer = requests.Session()
        bearer.headers["Authorization"] = f"Bearer {TOKEN}"
        presses = {
            "ours": (topics, lambda: panel.call("POST", "/api/presets/calm"),
                     lambda: panel.call("DELETE", "/api/presets/active")),
            "nodered": (peer_topics, lambda: bearer.post(f"{peer.base}/api/presets/calm", timeout=10),
                        lambda: bearer.delete(f"{peer.base}/api/presets/active", timeout=10))}
        lit = {name: [] for name in presses}
        answered = {name: [] for name in presses}
        for i in range(-4, 2 * count):   # the first 4 warm up and are not counted
            name = ("ours", "nodered")[i % 2]
            want, press, release = presses[name]
            devices.expect(want)
            t0 = time.perf_counter()
            r = press()
            done = time.perf_counter()
            assert r.status_code == 200, (name, r.status_code, r.text)
            arrived = devices.arrived()
            if i >= 0:
                answered[name].append((done - t0) * 1000)
                lit[name].append((arrived - t0) * 1000)
            assert release().status_code == 200
            time.sleep(PAUSE)
        rss = {"ours": usage(service.proc.pid)[0], "nodered": usage(peer.proc.pid)[0]}
        version = peer.version()
    finally:
        stop.set()
        if followers.pid is not None:
            followers.join(5)
        devices.close()
        if peer is not None:
            peer.stop()
        service.stop()
    report(res, broker, version, panels, lit, answered, idle, rss, tag)


def first_commands(panel: Panel, devices: Devices, topics: list[str]) -> list[tuple[str, str]]:
    """The room's own first calm press: the first command it sent on each light's topic (then released)."""
    with devices.lock:
        seen = {t: len(devices.payloads[t]) for t in topics}
    devices.expect(topics)
    assert panel.call("POST", "/api/presets/calm").status_code == 200
    devices.arrived()
    with devices.lock:
        commands = [(t, devices.payloads[t][seen[t]].decode()) for t in topics]
    panel.call("DELETE", "/api/presets/active")
    time.sleep(0.5)
    return commands


def report(res: Results, broker: Broker, version: str, panels: int, lit: dict, answered: dict, idle: dict,
           rss: dict, tag: str) -> None:
    settings = [line for line in broker.conf.read_text().splitlines() if not line.startswith(("user ", "log_"))]
    print(f"  the broker, the same for both: mosquitto, {'; '.join(settings)}", flush=True)
    ours, peer = percentiles(lit["ours"]), percentiles(lit["nodered"])
    ours_a, peer_a = percentiles(answered["ours"]), percentiles(answered["nodered"])
    res.data["nodered" + (tag and f", {tag}")] = {"node_red": version, "broker": settings, "panels": panels,
                           "ours": {"lights": ours, "answered": ours_a, "idle_rss_mb": round(idle["ours"], 1),
                                    "rss_after_mb": round(rss["ours"], 1)},
                           "nodered": {"lights": peer, "answered": peer_a, "idle_rss_mb": round(idle["nodered"], 1),
                                       "rss_after_mb": round(rss["nodered"], 1)}}
    n = ours["n"]
    res.add(f"calm -> last of 12 light commands{tag and f', {tag}'}, p50 / p99 ({n} presses each, alternating): "
            f"this room (panel's cookie + CSRF, {panels} event streams open) vs Node-RED {version} (bearer token)",
            f"{ours['p50_ms']} / {ours['p99_ms']} ms vs {peer['p50_ms']} / {peer['p99_ms']} ms; ratio "
            f"{ours['p50_ms'] / peer['p50_ms']:.2f} / {ours['p99_ms'] / peer['p99_ms']:.2f}",
            "ratio <= 1 / <= 1", ours["p50_ms"] <= peer["p50_ms"] and ours["p99_ms"] <= peer["p99_ms"])
    res.add("... HTTP answer read, p50 / p99",
            f"{ours_a['p50_ms']} / {ours_a['p99_ms']} ms vs {peer_a['p50_ms']} / {peer_a['p99_ms']} ms; ratio "
            f"{ours_a['p50_ms'] / peer_a['p50_ms']:.2f} / {ours_a['p99_ms'] / peer_a['p99_ms']:.2f}")
    res.add("... RSS idle / after the presses",
            f"{idle['ours']:.1f} / {rss['ours']:.1f} MB vs {idle['nodered']:.1f} / {rss['nodered']:.1f} MB; ratio "
            f"{idle['ours'] / idle['nodered']:.2f}")
