"""Talking to systemd: readiness, stopping, and a watchdog fed only while the core loop answers.

The protocol is a datagram on the socket in $NOTIFY_SOCKET (sd_notify); no library is needed. With
`WatchdogSec=` set, systemd passes $WATCHDOG_USEC and restarts the service when the pings stop: they are
sent only after the core loop has run a no-op within the time allowed, so a wedged core is restarted.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
        return True
    except OSError as exc:
        log.warning("cannot notify systemd: %s", exc)
        return False


class Watchdog:
    """Pings systemd at half the watchdog interval while `healthy(timeout)` says the core answers."""

    def __init__(self, healthy: Callable[[float], bool]) -> None:
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None
        self._healthy = healthy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval is None:
            return
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _run(self) -> None:
        interval = self.interval
        assert interval is not None   # the thread runs only when systemd asked for a watchdog
        while not self._stop.wait(interval):
            if self._healthy(interval):
                notify("WATCHDOG=1")
            else:
                log.error("the core loop did not answer within %.1f s: not feeding the watchdog", self.interval)
