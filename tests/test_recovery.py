"""A real `serve` killed with SIGKILL at random moments of a real-time session, and started again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.broker import Capture, free_port
from tests.rooms import write_room

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer test-token-0123456789"}
PHASES = [("One", 6), ("Two", 6), ("Three", 6), ("Four", 6)]   # seconds; then an open closing phase


def short_profile(folder: Path) -> None:
    folder.mkdir()
    phases = [{"name": name, "duration": f"{seconds}s", "music": "silence",
               "lights": {"brightness": 10 + 10 * i, "kelvin": 2700, "transition": "1s"}}
              for i, (name, seconds) in enumerate(PHASES)]
    phases.append({"name": "Closing", "duration": "open", "lights": {"brightness": 60, "transition": "1s"}})
    (folder / "short.yaml").write_text(yaml.safe_dump({"id": "short", "name": "Short", "phases": phases}))


def expected_phase(elapsed: float) -> int:
    t = 0.0
    for index, (_, seconds) in enumerate(PHASES):
        t += seconds
        if elapsed < t:
            return index
    return len(PHASES)


class Service:
    def __init__(self, config: Path, port: int) -> None:
        self.config, self.base = config, f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "room_controller", "serve", "--config", str(self.config)],
                                     cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(f"{self.base}/api/health", timeout=1)
                return
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def call(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", headers=AUTH, timeout=5, **kw)


def test_sigkill_at_random_moments_resumes_in_phase_and_loses_nothing(tmp_path, broker, room_id):
    short_profile(tmp_path / "profiles")
    port = free_port()
    config = write_room(tmp_path, broker, room_id, [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "C"}],
                        profiles_dir=str(tmp_path / "profiles"), playlists_dir=str(ROOT / "playlists"))
    data = yaml.safe_load(config.read_text())
    data["web"]["port"] = port
    config.write_text(yaml.safe_dump(data))
    service = Service(config, port)
    service.start()
    rng = random.Random(7)
    notes: list[str] = []
    try:
        r = service.call("POST", "/api/session", json={"profile": "short"})
        assert r.status_code == 201
        started = time.monotonic()
        session_id = r.json()["session"]
        for kill in range(4):
            deadline = time.monotonic() + rng.uniform(1.0, 4.0)
            while time.monotonic() < deadline:
                text = f"note {kill}-{len(notes)}"
                if service.call("POST", "/api/notes", json={"text": text}).status_code == 200:
                    notes.append(text)   # acknowledged: must survive the kill
                time.sleep(rng.uniform(0.05, 0.3))
            service.kill()
            time.sleep(rng.uniform(0.2, 1.5))
            lights = Capture(broker, "zigbee2mqtt/C/set")
            service.start()
            state = service.call("GET", "/api/state").json()
            real = time.monotonic() - started
            session = state["session"]
            assert session is not None and session["id"] == session_id
            assert abs(session["elapsed_s"] - real) < 1.0, (session["elapsed_s"], real)
            shown = session["elapsed_s"]   # rounded to 0.1 s: the phase is of a time within 0.05 s of it
            assert session["phase"]["index"] in {expected_phase(shown - 0.05), expected_phase(shown + 0.05)}
            lights.wait_for(lambda m: True, timeout=5)   # the phase's light is asserted again
            lights.close()
        report = service.call("GET", f"/api/sessions/{session_id}/report").json()
        assert [n["text"] for n in report["notes"]] == notes
        assert len(report["recoveries"]) == 4
        assert all(r["gap_s"] > 0 for r in report["recoveries"])
    finally:
        if service.proc and service.proc.poll() is None:
            service.proc.terminate()
            service.proc.wait(10)
