"""Deployment: the systemd unit is valid, and `serve` speaks sd_notify (ready, watchdog, stopping)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from tests.broker import free_port
from tests.rooms import write_room

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    unit = (ROOT / "deploy" / "room-controller.service").read_text()
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "Restart=always" in unit
    assert "ProtectSystem=strict" in unit and "NoNewPrivileges=true" in unit
    assert "ReadWritePaths=/var/lib/room-controller /etc/room-controller" in unit
    assert "SupplementaryGroups=audio" in unit
    assert "After=time-set.target time-sync.target" in unit   # an honest clock first, where there is one
    assert "Wants=time-sync.target" not in unit                # passive: an offline clinic must still start
    # verify checks that the binary exists: point it at this machine's Python
    path = tmp_path / "room-controller.service"
    path.write_text(unit.replace("/opt/room-controller/.venv/bin/room-controller", sys.executable))
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


@pytest.mark.slow
def test_serve_notifies_ready_feeds_the_watchdog_and_says_stopping(tmp_path, broker, room_id):
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(15)
    config = write_room(tmp_path, broker, room_id, [])
    data = yaml.safe_load(config.read_text())
    data["web"]["port"] = free_port()
    config.write_text(yaml.safe_dump(data))
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "room_controller", "serve", "--config", str(config)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert sock.recv(256) == b"READY=1"
        assert [sock.recv(256) for _ in range(3)] == [b"WATCHDOG=1"] * 3   # every half second
        proc.send_signal(signal.SIGTERM)
        messages = []
        while b"STOPPING=1" not in messages:
            messages.append(sock.recv(256))
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


@pytest.mark.slow
def test_the_watchdog_is_fed_only_while_the_core_loop_answers(tmp_path, monkeypatch):
    from room_controller.core.loop import Loop
    from room_controller.infrastructure.clock import SystemClock
    from room_controller.infrastructure.systemd import Watchdog
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    loop = Loop(SystemClock(), name="test-core")
    loop.start()
    stuck = threading.Event()
    loop.submit(stuck.wait, 10)            # the core is wedged
    watchdog = Watchdog(loop.alive)
    watchdog.start()
    try:
        sock.settimeout(0.6)
        with pytest.raises(socket.timeout):
            sock.recv(256)
        stuck.set()                        # the core answers again
        sock.settimeout(2)
        assert sock.recv(256) == b"WATCHDOG=1"
    finally:
        watchdog.stop()
        stuck.set()
        loop.stop()
        sock.close()
