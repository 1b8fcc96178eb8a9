"""The bench's rig, shared by every section: a room served as its own process on a private mosquitto, the
simulated devices, the panels' clients, the timing helpers and the results table's rows.

Each section (bench/run.py and the modules it runs) imports from here, so no section imports another.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import requests
import yaml
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from room_controller.infrastructure.broker import Broker, free_port  # noqa: E402

TOKEN = "bench-token-0123456789"
PIN = "2468"   # the panel's login (the user's path: its cookie and CSRF header)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Bedside remotes, each mapped to calm in the room's `buttons:`, pressed in turn: each is a command source of its
# own, paced (0.25 s) and held off past 6 preset changes a minute (core/sources.py), which 100 of them never reach.
REMOTES = 100
RESTART_SEC = 1.0   # deploy/room-controller.service: Restart=always, RestartSec=1
CGROUP_ENV = "ROOM_BENCH_CGROUP"   # bench/pi.py's Pi-class mode: the cgroup every `serve` started joins
FAMILIES = [("zigbee2mqtt", "z2m/{}", "zigbee2mqtt/{}/set"), ("tasmota", "tas{}", "cmnd/{}/Backlog"),
            ("wled", "wled{}", "wled/{}/api"), ("shelly-rgbw2", "rgbw{}", "shellies/{}/color/0/set"),
            ("shelly-gen2", "dim{}", "{}/rpc"), ("homeassistant-json", "ha/l{}", "{}/set")]
TEMPLATE = ("template-per-topic", "odd{}", "{}/brightness/set")   # software steps: every step is on the wire


@dataclass
class Row:
    figure: str
    measured: str
    target: str = "-"
    ok: bool | None = None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def add(self, figure: str, measured: str, target: str = "-", ok: bool | None = None) -> None:
        self.rows.append(Row(figure, measured, target, ok))
        print(f"  {figure}: {measured}" + (f"   (target {target})" if target != "-" else ""), flush=True)


# -- the room and its devices --------------------------------------------------------------------------------

def lights(count: int) -> tuple[list[dict], list[str]]:
    """`count` lights of every family in turn (the template family takes what is left): configs and the
    topic each one's commands arrive on."""
    configs, topics = [], []
    families = FAMILIES if count <= 12 else FAMILIES + [TEMPLATE]
    for n in range(count):
        family, device, topic = families[n % len(families)]
        name = device.format(n)
        configs.append({"id": f"l{n}", "profile": family, "device": name})
        topics.append(topic.format(name))
    return configs, topics


def tone(path: Path, seconds: float) -> None:
    """A quiet 220 Hz tone: the session's music (the bench needs no sound files of its own)."""
    rate = 16000
    frames = bytearray()
    for n in range(int(rate * seconds)):
        v = int(3000 * math.sin(2 * math.pi * 220 * n / rate)).to_bytes(2, "little", signed=True)
        frames += v + v
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))


def write_room(tmp: Path, broker: Broker, port: int, light_configs: list[dict], shipped: bool = False,
               web: dict | None = None, music: bool = True, vlc_args: list[str] | None = None,
               remotes: int = 0) -> Path:
    """The room: a one-phase session with music of its own, or (`shipped`) the shipped profiles and playlists;
    `web`: settings of the web server besides the defaults; without `music`, the phase and calm are silent;
    `vlc_args`: VLC's audio output (the dummy one, which plays nothing, unless given); `remotes`: that many
    bedside buttons `bench/remote<n>` whose `{"action": "single"}` is calm."""
    (tmp / "profiles").mkdir(exist_ok=True)
    (tmp / "music").mkdir(exist_ok=True)
    tone(tmp / "music" / "a.wav", 60)
    for name in ("bench.m3u", "calm.m3u"):   # the phase's and the calm preset's
        (tmp / "music" / name).write_text("a.wav\n")
    tune = {"playlist": "bench.m3u", "volume": 30} if music else "silence"
    phase = {"name": "Music", "duration": "8h", "music": tune,
             "lights": {"brightness": 40, "kelvin": 2700, "transition": "10m"}}
    (tmp / "profiles" / "bench.yaml").write_text(yaml.safe_dump({"id": "bench", "name": "Bench", "phases": [phase]}))
    config = {"room": {"id": "bench", "name": "Bench"}, "lights": light_configs, "data_dir": str(tmp / "data"),
              "mqtt": {"host": broker.host, "port": broker.port},
              "web": {"host": "127.0.0.1", "port": port, "api_token": TOKEN, "pin": PIN, **(web or {})},
              "audio": {"vlc_args": vlc_args or ["--aout=dummy"]},
              "profiles_dir": str(ROOT / "deploy" / "profiles" if shipped else tmp / "profiles"),
              "playlists_dir": str(ROOT / "playlists" if shipped else tmp / "music")}
    if not music:
        config["presets"] = {"calm": {"music": "silence"}}
    config["buttons"] = [{"topic": f"bench/remote{n}", "match": {"action": "single"}, "do": {"preset": "calm"}}
                         for n in range(remotes)]
    path = tmp / "room.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class Service:
    """`room-controller serve` as its own process, started as the systemd unit starts it (no --log-level:
    INFO), its log in a file beside the room's config (where journald would keep it)."""

    def __init__(self, config: Path, port: int) -> None:
        self.config, self.base = config, f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Start and return when the API answers; the time it took."""
        t0 = time.monotonic()
        self.spawn()
        self.wait_up()
        return time.monotonic() - t0

    def spawn(self) -> None:
        with open(self.config.parent / "serve.log", "ab") as log:
            self.proc = subprocess.Popen(room_controller("serve", "--config", str(self.config)), cwd=ROOT,
                                         env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=log)
        if os.environ.get(CGROUP_ENV):   # its threads, and the processes it starts, share the group's quota
            Path(os.environ[CGROUP_ENV], "cgroup.procs").write_text(str(self.proc.pid))

    def wait_up(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/api/health", timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):   # up, but still busy starting
                time.sleep(0.01)
        raise SystemExit("the service did not come up")

    def call(self, method: str, path: str, **kw) -> requests.Response:
        r = requests.request(method, f"{self.base}{path}", headers=AUTH, timeout=10, **kw)
        if r.status_code >= 300:
            raise SystemExit(f"{method} {path}: {r.status_code} {r.text}")
        return r

    def state(self) -> dict:
        return self.call("GET", "/api/state").json()

    def usage(self) -> tuple[float, float, float]:
        return usage(self.proc.pid)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)


def room_controller(*args: str) -> list[str]:
    return [sys.executable, "-m", "room_controller", *args]


def usage(pid: int) -> tuple[float, float, float]:
    """A process's RSS (MB), its peak (MB) and CPU seconds so far, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss / 1024, peak / 1024, cpu


def serve_room(tmp: Path, broker: Broker, count: int = 12, web: dict | None = None,
               music: bool = True, vlc_args: list[str] | None = None, remotes: int = 0) -> tuple[Service, list[str]]:
    """A room of `count` mixed lights served by its own process; its lights' command topics."""
    configs, topics = lights(count)
    port = free_port()
    service = Service(write_room(tmp, broker, port, configs, web=web, music=music, vlc_args=vlc_args,
                                 remotes=remotes), port)
    service.start()
    return service, topics


class Devices:
    """The separate subscriber standing in for the devices: when each topic last got a message, and what."""

    def __init__(self, broker: Broker, topics: list[str], client_id: str = "bench-devices",
                 login: tuple[str, str] | None = None) -> None:
        """`login`: a broker user and password (a broker with an ACL)."""
        self.topics = topics
        self.lock = threading.Lock()
        self.last: dict[str, float] = {}
        self.payloads: dict[str, list[bytes]] = {t: [] for t in topics}
        self.done = threading.Event()
        self.want: set[str] = set()
        self.since = 0.0
        ready = threading.Event()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 0) for t in topics])
        client.on_subscribe = lambda *a: ready.set()
        client.on_message = self._message
        if login:
            client.username_pw_set(*login)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.connect(broker.host, broker.port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        client.loop_start()
        ready.wait(5)
        self.client = client

    def _message(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        with self.lock:
            self.last[msg.topic] = now
            self.payloads.setdefault(msg.topic, []).append(msg.payload)
            if self.want and all(self.last.get(t, 0) >= self.since for t in self.want):
                self.done.set()

    def expect(self, topics: list[str]) -> None:
        with self.lock:
            self.since = time.perf_counter()
            self.want = set(topics)
            self.done.clear()

    def arrived(self, timeout: float = 5) -> float:
        """perf_counter time of the last of the expected messages."""
        if not self.done.wait(timeout):
            missing = sorted(t for t in self.want if self.last.get(t, 0) < self.since)
            raise SystemExit(f"no light command arrived on {missing[:3]}")
        with self.lock:
            return max(self.last[t] for t in self.want)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def panel_session(base: str) -> requests.Session:
    """A therapist's panel: logged in with the PIN, it sends the cookie, the CSRF header and the Origin."""
    http = requests.Session()
    http.post(f"{base}/api/login", json={"pin": PIN, "tablet": True}, timeout=10).raise_for_status()
    csrf = http.get(f"{base}/api/login", timeout=10).json()["csrf"]
    http.headers.update({"X-CSRF-Token": csrf, "Origin": base})
    return http


def follow_events(base: str, streams: int, stop, logins: bool = False) -> None:
    """A process of its own holding `streams` open event streams (panels following the room live), with the
    api_token or (`logins`) each with a PIN login of its own."""
    sessions = [panel_session(base) if logins else requests.Session() for _ in range(streams)]   # one by one

    def one(http: requests.Session) -> None:
        with http.get(f"{base}/api/events", headers=None if logins else AUTH, stream=True, timeout=30) as r:
            r.raise_for_status()
            for _ in r.iter_content(chunk_size=None):
                if stop.is_set():
                    return
    threads = [threading.Thread(target=one, args=(http,), daemon=True) for http in sessions]
    for t in threads:
        t.start()
    stop.wait()


def poll_state(base: str, stop) -> None:
    """A process of its own reading `/api/state` as fast as it answers (a client that polls)."""
    session = requests.Session()
    while not stop.is_set():
        session.get(f"{base}/api/state", headers=AUTH, timeout=30)


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    return {"n": len(samples), "p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(samples[max(0, math.ceil(len(samples) * 0.99) - 1)], 2), "max_ms": round(samples[-1], 2)}


def wait_for(predicate, timeout: float, step: float = 0.01) -> float:
    """Poll until true; the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(step)
    raise SystemExit("a condition of the bench was never reached")


# -- the sections ----------------------------------------------------------------------------------------------

def presses(res: Results, tmp: Path, broker: Broker, count: int, streams: int, readers: int, tag: str = "") -> None:
    """Calm from the API and from bedside buttons, 12 mixed lights, open event streams, clients polling the
    state, a long fade; `tag` names a variant in the results. The panel releases every press."""
    samples = calm_and_button_samples(tmp, broker, count, streams, readers)
    for kind, label in (("calm", "calm press (API) -> last of 12 light commands"),
                        ("button", "bedside button (a remote's topic in buttons:) -> last of 12 light commands")):
        p = percentiles(samples[kind])
        res.data[kind + (tag and f", {tag}")] = {**p, "lights": 12, "event_streams": streams, "state_readers": readers,
                                "fade_running": "1h"}
        res.add(f"{label}{tag and f', {tag}'}, p50 / p99 / max ({p['n']} presses)",
                f"{p['p50_ms']} / {p['p99_ms']} / {p['max_ms']} ms", "p99 < 20 ms", p["p99_ms"] < 20)


def calm_and_button_samples(tmp: Path, broker: Broker, count: int, streams: int, readers: int = 0) -> dict:
    """`count` calm presses from the API, then `count` from bedside buttons, each to the last of 12 mixed lights'
    commands (ms), with `streams` panels following, `readers` clients polling the state and a 1-hour fade
    running; the panel releases every press."""
    tmp.mkdir(exist_ok=True)
    service, topics = serve_room(tmp, broker, remotes=REMOTES)
    stop = multiprocessing.Event()
    clients = [multiprocessing.Process(target=follow_events, args=(service.base, streams, stop), daemon=True)]
    clients += [multiprocessing.Process(target=poll_state, args=(service.base, stop), daemon=True)
                for _ in range(readers)]
    for client in clients:
        client.start()
    devices = Devices(broker, topics)
    button = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-button")
    button.on_connect = lambda c, u, f, rc, p: c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    button.connect(broker.host, broker.port)
    button.loop_start()
    http = requests.Session()
    http.headers.update(AUTH)
    try:
        wait_for(lambda: service.state().get("mqtt") == "connected", 20)
        # every light at a known setting first: one never told or heard from fades from "unknown", and each
        # command meanwhile counts as abrupt for the flash rule, which then holds it (p99 0.9 s)
        http.patch(f"{service.base}/api/lights", json={"brightness": 40, "kelvin": 3000, "transition": 0})
        time.sleep(1.5)
        samples: dict[str, list[float]] = {"calm": [], "button": []}
        for i in range(2 * count):
            kind = "calm" if i < count else "button"
            http.patch(f"{service.base}/api/lights", json={"brightness": 40 + i % 30, "kelvin": 3000,
                                                          "transition": "1h"})
            time.sleep(0.03)
            devices.expect(topics)
            t0 = time.perf_counter()
            if kind == "calm":
                r = http.post(f"{service.base}/api/presets/calm")
                assert r.status_code == 200, r.text
            else:
                button.publish(f"bench/remote{i % REMOTES}", '{"action": "single"}')
            samples[kind].append((devices.arrived(10) - t0) * 1000)
            http.delete(f"{service.base}/api/presets/active")
            time.sleep(0.03)
    finally:
        stop.set()
        for client in clients:
            client.join(5)
        button.loop_stop()
        devices.close()
        service.stop()
    return samples


def table(rows: list[Row]) -> str:
    lines = ["| figure | measured | target | |", "|---|---|---|---|"]
    for row in rows:
        mark = "" if row.ok is None else ("ok" if row.ok else "MISSED")
        lines.append(f"| {row.figure} | {row.measured} | {row.target} | {mark} |")
    return "\n".join(lines)
