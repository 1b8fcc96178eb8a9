"""A private mosquitto: a child process on a free loopback port with a temporary config.

For the demo room, the tests and the benchmarks. `restart()` keeps the port, like a broker a technician
restarts; `stop()` ends it by its PID, so nothing is left behind.
"""

from __future__ import annotations

import ctypes
import getpass
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

INSTALL_HINT = "mosquitto is not installed: sudo apt-get install mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to end it if its parent dies, so a killed demo leaves no broker behind.
    (Linux ties this to the thread that started the child: start the broker from a long-lived thread.)"""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Broker:
    """mosquitto on 127.0.0.1; `restart()` keeps the port, like a broker a technician restarts."""

    def __init__(self, access: str = "allow_anonymous true\n", nodelay: bool = True) -> None:
        """`access`: the broker's access lines (a password file and ACL for tests of a clinic broker);
        `nodelay`: False runs mosquitto's default (Nagle's algorithm on), as many clinic brokers do."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError(INSTALL_HINT)
        self.binary = binary
        self.port = free_port()
        self.host = "127.0.0.1"
        self._dir = tempfile.TemporaryDirectory(prefix="broker-")
        self.conf = Path(self._dir.name) / "mosquitto.conf"
        # `user`: run as whoever started it; switching user would also cancel the parent-death signal
        # `set_tcp_nodelay`: a preset's burst reaches every device at once, not the rest ~40 ms later
        # (deploy/OPERATIONS.md, "The broker")
        nagle = "set_tcp_nodelay true\n" if nodelay else ""
        self.conf.write_text(f"listener {self.port} 127.0.0.1\n{access}persistence false\n{nagle}"
                             f"user {getpass.getuser()}\nlog_type error\nlog_type warning\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        log = Path(self._dir.name) / "mosquitto.log"
        with open(log, "ab") as err:
            self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=err,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {log.read_text().strip()}") from None
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()
