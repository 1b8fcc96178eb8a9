"""Twenty rooms on one broker (issue 26): the clinic floor's figures.

    python bench/run.py --only clinic [--quick]

One mosquitto with the shipped ACL and a password file (deploy/mosquitto-room.acl: the first room is its
`room-controller` user, each further room a user of its own as deploy/OPERATIONS.md's "Several rooms on one
broker" shows, the overview its `overview` user), twenty `room-controller serve` processes, each with 12
lights of four families whose command topics the ACL lets the room write, a silent one-phase session (no VLC:
twenty music players would measure VLC), and `room-controller overview` as its own process with a clinic file.
A bench user that may read everything stands in for the devices.

- alert: with every room in its session, the emergency light switched on through a room's API, to the alert
  in the overview's own state, as its event stream (what the floor's screen reads) says it; the rooms in
  turn, each released after its alert.
- broker CPU (from /proc/<pid>/stat) and the overview's RSS over the run.
- calm: still with every room in its session, calm in each room in turn, to the last of that room's light commands,
  released between presses.
Every figure carries the load average when it was taken: the machine is shared and busy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import requests
import yaml
from rig import ROOT, Devices, Results, Service, percentiles, room_controller, usage, wait_for, write_room

from room_controller.infrastructure.broker import Broker, free_port

ACL = ROOT / "deploy" / "mosquitto-room.acl"
BASE = "therapy-room"
# Families whose command topics the shipped ACL's room user may write (one level of device name)
FAMILIES = (("zigbee2mqtt", "zigbee2mqtt/{}/set"), ("tasmota", "cmnd/{}/Backlog"), ("wled", "wled/{}/api"),
            ("shelly-rgbw2", "shellies/{}/color/0/set"))
OBSERVER = "bench-devices"   # the bench's stand-in for every device: reads everything
PACE = 0.3                   # seconds between presses
ALERT_TARGET_MS = 250


def user(n: int) -> str:
    return "room-controller" if n == 1 else f"room-{n}"


def clinic_acl(tmp: Path, rooms: int) -> Path:
    """The shipped ACL, then for each room past the first its own copy of the `room-controller` block on its
    own room's topics, then the bench's observer."""
    shipped = ACL.read_text()
    block = re.search(r"^user room-controller\n(?:topic .*\n)+", shipped, re.M)
    assert block, "the shipped ACL has no room-controller block"
    extra = [block.group(0).replace("user room-controller", f"user {user(n)}")
             .replace(f"{BASE}/room-1/#", f"{BASE}/room-{n}/#") for n in range(2, rooms + 1)]
    path = tmp / "clinic.acl"
    path.write_text(shipped + "\n" + "\n".join(extra) + f"\nuser {OBSERVER}\ntopic read #\n")
    return path


def clinic_broker(tmp: Path, rooms: int) -> Broker:
    passwd = tmp / "passwd"
    for i, name in enumerate([user(n) for n in range(1, rooms + 1)] + ["overview", OBSERVER]):
        subprocess.run(["mosquitto_passwd", *([] if i else ["-c"]), "-b", str(passwd), name, f"{name}-pw"],
                       check=True)
    return Broker(f"allow_anonymous false\npassword_file {passwd}\nacl_file {clinic_acl(tmp, rooms)}\n").start()


def room(tmp: Path, broker: Broker, n: int, count: int) -> tuple[Service, list[str]]:
    """Room n's `serve` (spawned, not yet up) and its lights' command topics."""
    folder = tmp / f"room-{n}"
    folder.mkdir()
    configs, topics = [], []
    for i in range(count):
        family, topic = FAMILIES[i % len(FAMILIES)]
        device = f"r{n}l{i}"
        configs.append({"id": f"l{i}", "profile": family, "device": device})
        topics.append(topic.format(device))
    port = free_port()
    path = write_room(folder, broker, port, configs, music=False)
    config = yaml.safe_load(path.read_text())
    config["room"] = {"id": f"room-{n}", "name": f"Room {n}"}
    config["mqtt"].update(username=user(n), password=f"{user(n)}-pw")
    path.write_text(yaml.safe_dump(config))
    service = Service(path, port)
    service.spawn()
    return service, topics


def overview(tmp: Path, broker: Broker) -> tuple[subprocess.Popen, str]:
    port = free_port()
    clinic = tmp / "clinic.yaml"
    clinic.write_text(yaml.safe_dump({
        "mqtt": {"host": broker.host, "port": broker.port, "username": "overview", "password": "overview-pw",
                 "base_topic": BASE},
        "web": {"host": "127.0.0.1", "port": port}, "overview": {"name": "front desk"}}))
    with open(tmp / "overview.log", "ab") as log:
        proc = subprocess.Popen(room_controller("overview", "--config", str(clinic)), cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=log)
    return proc, f"http://127.0.0.1:{port}"


class Screen:
    """The overview's event stream, as the floor's page follows it: when each alert id first showed."""

    def __init__(self, base: str) -> None:
        self.seen: dict[str, tuple[float, str]] = {}   # id -> (perf_counter, kind)
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.response = requests.get(f"{base}/api/events", stream=True, timeout=60)
        self.response.raise_for_status()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        try:
            for chunk in self.response.iter_content(chunk_size=None):
                now = time.perf_counter()
                buffer += chunk
                *events, buffer = buffer.split(b"\n\n")
                for event in events:
                    self._event(event, now)
        except (requests.RequestException, AttributeError):
            return   # closed at the end

    def _event(self, event: bytes, now: float) -> None:
        """The snapshot's alerts come before its rooms: only that part is read (a room's own state lists its
        alerts too, which is not what the floor's alerts show)."""
        if not event.startswith(b"event: state\ndata: "):
            return
        data = event.split(b"data: ", 1)[1]
        head = data.split(b',"rooms":[', 1)[0] + b"}"
        alerts = json.loads(head)["alerts"]
        with self.arrived:
            for alert in alerts:
                if alert["id"] not in self.seen:
                    self.seen[alert["id"]] = (now, alert["kind"])
            self.arrived.notify_all()

    def wait(self, room_id: str, kind: str, since: float, timeout: float = 10) -> float:
        """perf_counter time a new alert of this room and kind first showed after `since`."""
        def found() -> float | None:
            return next((t for a, (t, k) in self.seen.items() if k == kind and t >= since
                         and a.rsplit("-", 1)[0] == room_id), None)
        with self.arrived:
            if not self.arrived.wait_for(lambda: found() is not None, timeout):
                raise SystemExit(f"no {kind} alert of {room_id} on the overview")
            return found()   # type: ignore[return-value]

    def close(self) -> None:
        self.response.close()


def run(res: Results, tmp: Path, quick: bool) -> None:
    rooms, alert_presses, calms = (4, 12, 3) if quick else (20, 50, 10)
    broker = clinic_broker(tmp, rooms)
    services: list[tuple[Service, list[str]]] = []
    proc = None
    try:
        t0 = time.monotonic()
        services = [room(tmp, broker, n, 12) for n in range(1, rooms + 1)]
        for service, _ in services:
            service.wait_up(120)
        for service, _ in services:
            wait_for(lambda s=service: s.state().get("mqtt") == "connected", 60)
        proc, base = overview(tmp, broker)
        wait_for(lambda: online(base) == rooms, 60, 0.2)
        up = time.monotonic() - t0
        res.add(f"{rooms} rooms (12 lights each) and the overview up, all online on the overview",
                f"{up:.1f} s; load average {os.getloadavg()[0]:.1f}")
        for service, _ in services:
            service.call("POST", "/api/session", json={"profile": "bench"})
        time.sleep(3)
        cpu0, w0 = usage(broker.proc.pid)[2], time.monotonic()
        alert = alerts(res, base, services, alert_presses)
        cpu1, w1 = usage(broker.proc.pid)[2], time.monotonic()
        time.sleep(1)
        cpu2, w2 = usage(broker.proc.pid)[2], time.monotonic()
        calm = calm_presses(res, broker, services, calms)
        cpu3, w3 = usage(broker.proc.pid)[2], time.monotonic()
        time.sleep(10)
        cpu4, w4 = usage(broker.proc.pid)[2], time.monotonic()
        load = os.getloadavg()[0]
        rss, peak, ocpu = usage(proc.pid)
        total = 100 * (cpu3 - cpu0) / (w3 - w0)
        cpu = {"alerts_pct": round(100 * (cpu1 - cpu0) / (w1 - w0), 2),
               "calm_pct": round(100 * (cpu3 - cpu2) / (w3 - w2), 2),
               "sessions_quiet_pct": round(100 * (cpu4 - cpu3) / (w4 - w3), 2), "run_pct": round(total, 2),
               "run_s": round(w3 - w0, 1)}
        res.add(f"broker CPU over the run ({w3 - w0:.0f} s): alert presses / calm presses / {rooms} sessions quiet",
                f"{cpu['alerts_pct']:.2f} / {cpu['calm_pct']:.2f} / {cpu['sessions_quiet_pct']:.2f} % of a core; "
                f"load average {load:.1f}")
        res.add(f"overview RSS (peak) following {rooms} rooms in sessions, CPU so far",
                f"{rss:.1f} MB ({peak:.1f} MB), {ocpu:.1f} s; load average {load:.1f}")
        res.data["clinic"] = {"rooms": rooms, "lights_per_room": 12, "up_s": round(up, 1), "alert": alert,
                              "calm": calm, "broker_cpu": cpu,
                              "overview": {"rss_mb": round(rss, 1), "peak_mb": round(peak, 1), "cpu_s": ocpu},
                              "load_average_end": round(load, 2)}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)
        for service, _ in services:
            service.stop()
        broker.close()


def online(base: str) -> int:
    try:
        rooms = requests.get(f"{base}/api/rooms", timeout=5).json()["rooms"]
    except requests.ConnectionError:
        return -1
    return sum(1 for r in rooms if r["status"] == "online" and r["state"] is not None)


def alerts(res: Results, base: str, services: list[tuple[Service, list[str]]], presses: int) -> dict:
    """The emergency light on in each room in turn, to its alert on the overview's stream; released after."""
    screen = Screen(base)
    taken = []
    try:
        time.sleep(1)   # the stream's first snapshot read
        for i in range(presses):
            service, _ = services[i % len(services)]
            room_id = f"room-{i % len(services) + 1}"
            t0 = time.perf_counter()
            service.call("POST", "/api/presets/emergency")
            taken.append((screen.wait(room_id, "emergency_on", t0) - t0) * 1000)
            service.call("DELETE", "/api/presets/active")
            screen.wait(room_id, "emergency_off", t0)
            time.sleep(PACE)
    finally:
        screen.close()
    stats = percentiles(taken) | {"load_average": round(os.getloadavg()[0], 2)}
    res.add(f"emergency on in one of {len(services)} rooms in sessions -> the alert in the overview's state (its event stream), "
            f"p50 / p99 ({presses} presses over the rooms)",
            f"{stats['p50_ms']} / {stats['p99_ms']} ms (max {stats['max_ms']}); load average "
            f"{stats['load_average']:.1f}", f"p99 < {ALERT_TARGET_MS} ms", stats["p99_ms"] < ALERT_TARGET_MS)
    return stats


def calm_presses(res: Results, broker: Broker, services: list[tuple[Service, list[str]]], per_room: int) -> dict:
    """Calm in each room in turn while every room runs its session: to the last of its lights' commands."""
    devices = [Devices(broker, topics, f"bench-clinic-{n}", (OBSERVER, f"{OBSERVER}-pw"))
               for n, (_, topics) in enumerate(services)]
    taken: list[float] = []
    worst: dict[str, float] = {}
    try:
        for _ in range(per_room):
            for n, (service, topics) in enumerate(services):
                devices[n].expect(topics)
                t0 = time.perf_counter()
                service.call("POST", "/api/presets/calm")
                ms = (devices[n].arrived(10) - t0) * 1000
                taken.append(ms)
                worst[f"room-{n + 1}"] = max(worst.get(f"room-{n + 1}", 0.0), ms)
                service.call("DELETE", "/api/presets/active")
                time.sleep(PACE)
    finally:
        for d in devices:
            d.close()
    stats = percentiles(taken) | {"load_average": round(os.getloadavg()[0], 2),
                                  "worst_room": max(worst, key=lambda r: worst[r]),
                                  "worst_room_max_ms": round(max(worst.values()), 2)}
    res.add(f"calm in one room -> the last of its 12 lights' commands, all {len(services)} rooms in sessions, "
            f"p50 / p99 ({len(taken)} presses, {per_room} a room)",
            f"{stats['p50_ms']} / {stats['p99_ms']} ms (max {stats['max_ms']}, {stats['worst_room']}); "
            f"load average {stats['load_average']:.1f}")
    return stats
