"""`room-controller serve` as a room computer runs it, for the deploy tests: a room file, the process, its end."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests
import yaml

from tests.broker import free_port
from tests.rooms import write_room

ROOT = Path(__file__).resolve().parents[2]
PIN = "246813"
TOKEN = "test-token-0123456789"
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling"},
          {"id": "floor", "profile": "tasmota", "device": "floorlamp"}]


def room_file(tmp_path: Path, broker, room_id: str, **web) -> tuple[Path, int]:
    """A room as install.sh sets one up: lights of two built-in families (found in the package's data), the
    shipped session profiles and demo playlists, the panel on a free loopback port."""
    path = write_room(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(ROOT / "deploy" / "profiles"),
                      playlists_dir=str(ROOT / "playlists"))
    data = yaml.safe_load(path.read_text())
    port = free_port()
    data["web"].update({"port": port, "pin": PIN, "api_token": TOKEN, **web})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path, port


def start(command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A process whose output goes to `log` (shown when `wait_until` fails)."""
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until(ready: Callable[[], bool], what: str, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Poll `ready` (connection errors count as not yet) until it holds; fail early if `proc` ended."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except (requests.ConnectionError, OSError):
            pass
        assert proc.poll() is None, f"{what}: the process ended with {proc.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s:\n{log.read_text()}"
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, as systemd stops the service; the exit status (killed after 15 s)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()
