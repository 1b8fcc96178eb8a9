"""`room-controller serve` as a process: it comes up, obeys, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
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


def test_serve_obeys_and_stops_cleanly(tmp_path, broker, room_id):
    port = free_port()
    path = write_room(tmp_path, broker, room_id, [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "C"}])
    data = yaml.safe_load(path.read_text())
    data["web"]["port"] = port
    path.write_text(yaml.safe_dump(data))
    status = Capture(broker, f"therapy-room/{room_id}/status", "zigbee2mqtt/C/set")
    proc = subprocess.Popen([sys.executable, "-m", "room_controller", "serve", "--config", str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert status.wait_for(lambda m: m.topic.endswith("/status"), timeout=10).payload == "online"
        deadline = time.monotonic() + 10
        while True:
            try:
                r = requests.post(f"http://127.0.0.1:{port}/api/presets/calm",
                                  headers={"Authorization": "Bearer test-token-0123456789"}, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "the web server did not come up"
                time.sleep(0.05)
        assert r.status_code == 200
        assert json.loads(status.wait_for(lambda m: m.topic.endswith("/set")).payload)["brightness"] == 38
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert status.wait_for(lambda m: m.topic.endswith("/status")).payload == "offline"
    finally:
        if proc.poll() is None:
            proc.kill()
        status.close()


def test_serve_refuses_a_bad_config_with_file_line_and_field(tmp_path):
    path = tmp_path / "room.yaml"
    path.write_text("room: {id: r1}\nlights:\n  - {id: a, profile: zigbee2mqtt, devcie: A}\n")
    result = subprocess.run([sys.executable, "-m", "room_controller", "serve", "--config", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert f"{path}:3: lights[0].devcie: unknown key 'devcie'; did you mean 'device'?" in result.stderr


def test_serve_checks_as_check_does_and_says_every_problem_before_it_refuses(tmp_path):
    """The unit has no `check` before `serve`: serve itself refuses what check finds, all of it at once."""
    path = tmp_path / "room.yaml"
    path.write_text("room: {id: r1}\nprofiles_dir: no-such-profiles\nplaylists_dir: no-such-playlists\n"
                    "lights:\n  - {id: a, profile: zigbee2mqtt, device: A}\n")
    check = subprocess.run([sys.executable, "-m", "room_controller", "check", str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=30)
    serve = subprocess.run([sys.executable, "-m", "room_controller", "serve", "--config", str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == serve.returncode == 2
    found = [line for line in check.stdout.splitlines() if line.startswith(str(path))]
    assert len(found) >= 2 and any("profiles_dir" in x for x in found) and any("playlists_dir" in x for x in found)
    assert all(line in serve.stderr for line in found)
