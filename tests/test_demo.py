"""`room-controller demo` as a newcomer runs it: it comes up, obeys, draws the room, and leaves nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.broker import Capture, free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


class Demo:
    def __init__(self, *args: str, prefix: tuple[str, ...] = ()) -> None:
        """The demo started with `args` (`prefix`: a command it runs under, e.g. `ip netns exec`)."""
        self.proc = subprocess.Popen([*prefix, sys.executable, "-m", "room_controller", "--log-level", "WARNING", "demo",
                                      *args],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        deadline = time.monotonic() + 30
        while not any("stop with Ctrl-C" in line for line in self.lines):
            line = self.proc.stdout.readline()
            assert line or self.proc.poll() is None, f"demo ended: {self.lines}"
            assert time.monotonic() < deadline, f"demo did not come up: {self.lines}"
            self.lines.append(line)
        text = "".join(self.lines)
        self.base = re.search(r"(http://127\.0\.0\.1:\d+)/", text).group(1)
        self.pin = re.search(r"PIN (\d+)", text).group(1)   # six digits at least since the hardening
        self.admin_pin = re.search(r"admin PIN (\d{6})", text).group(1)
        token = re.search(r"API token: (\S+)", text).group(1)
        self.auth = {"Authorization": f"Bearer {token}"}
        host, port, pid = re.search(r"mosquitto on ([\d.]+):(\d+) \(pid (\d+)\)", text).groups()
        self.broker = SimpleNamespace(host=host, port=int(port))
        self.broker_pid = int(pid)


def demo_room(demo: Demo) -> dict:
    return {p["id"]: p for p in requests.get(f"{demo.base}/api/demo/room", headers=demo.auth).json()}


def gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_the_demo_room_obeys_and_stops_cleanly():
    demo = Demo("--port", str(free_port()))
    try:
        devices = Capture(demo.broker, "zigbee2mqtt/Ceiling", "stat/floorlamp/RESULT", "wled/shelf/g")
        r = requests.post(f"{demo.base}/api/presets/calm", headers=demo.auth, timeout=5)
        assert r.status_code == 200
        answers = {"zigbee2mqtt/Ceiling": lambda p: json.loads(p).get("brightness") == 38,   # as Z2M answers
                   "stat/floorlamp/RESULT": lambda p: json.loads(p).get("Dimmer") == 15,     # as Tasmota does
                   "wled/shelf/g": lambda p: p == "5"}                                      # as WLED does
        while answers:   # in whatever order they come
            m = devices.next()
            if m.topic in answers and answers[m.topic](m.payload):
                del answers[m.topic]
        deadline = time.monotonic() + 10   # the 3 s calm fade runs in real time
        picture = demo_room(demo)
        while not all(abs(p["level"] - 0.15) < 0.01 for p in picture.values()):
            assert time.monotonic() < deadline, picture
            time.sleep(0.1)
            picture = demo_room(demo)
        assert {"ceiling", "bedside", "floor", "strip", "reading", "window"} <= set(picture)
        state = requests.get(f"{demo.base}/api/state", headers=demo.auth).json()
        assert all(light["online"] for light in state["lights"])
        assert len(requests.get(f"{demo.base}/api/profiles", headers=demo.auth).json()) == 5
        day = requests.get(f"{demo.base}/api/day", headers=demo.auth).json()   # one booking 20 minutes ahead
        assert [(b["profile"], b["state"]) for b in day["bookings"]] == [("psilocybin-8h", "planned")]
        assert day["next"] == day["bookings"][0] and day["problems"] == [] and state["day"] == day
        assert f"Psilocybin, 8 hours booked at {day['next']['start'][11:16]}" in "".join(demo.lines)
        login = requests.post(f"{demo.base}/api/login", json={"pin": demo.pin})
        assert login.status_code == 200
        assert requests.post(f"{demo.base}/api/admin/login", json={"pin": demo.admin_pin}).status_code == 200
        r = requests.put(f"{demo.base}/api/admin/presets/check-in", headers=demo.auth,   # into its temporary room file
                         json={"preset": {"label": "Check-in", "lights": {"brightness": 50, "kelvin": 3000}}})
        assert (r.status_code, r.json()["file"]) == (200, "room.yaml")
        devices.close()
        demo.proc.send_signal(signal.SIGTERM)
        assert demo.proc.wait(20) == 0
        assert gone(demo.broker_pid), "the demo's broker outlived it"
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()


def test_a_second_demo_on_the_same_port_says_what_is_in_the_way():
    port = free_port()
    first = Demo("--port", str(port))
    try:
        second = subprocess.run([sys.executable, "-m", "room_controller", "demo", "--port", str(port)], cwd=ROOT,
                                capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert f"port {port} is in use" in second.stdout
    finally:
        first.proc.send_signal(signal.SIGTERM)
        first.proc.wait(20)


def test_a_killed_demo_takes_its_broker_with_it():
    demo = Demo("--port", str(free_port()))
    demo.proc.send_signal(signal.SIGKILL)
    demo.proc.wait(5)
    assert gone(demo.broker_pid)
