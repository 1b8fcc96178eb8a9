"""Known devices: OWASP's device cookies ("Slow Down Online Guessing Attacks with Device Cookies").

A browser that logs in with the PIN gets a device cookie: which login it is for, when it was issued and a
random nonce, signed with an HMAC of the room's secret and the PIN's tag (so a changed PIN knows no device).
A PIN try that carries a valid one is judged by that device's own failures alone (DEVICE_TRIES in
DEVICE_WINDOW, then that device waits DEVICE_WINDOW), never by the room-wide limit: wrong PINs sent from
elsewhere, from however many addresses, cannot keep the room's tablet out. A try without one (or with a
forged, expired or other login's cookie) is untrusted and meets the limits of `auth.Tries` as before, so
guessing is no faster. The cookie grants nothing by itself: the PIN is still asked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from room_controller.infrastructure.clock import Clock

log = logging.getLogger(__name__)

DEVICE_LIFETIME = 365 * 86400.0   # a device cookie's age limit (and its Max-Age: browsers keep at most 400 days)
DEVICE_RENEW = 86400.0            # a logged-in panel's device cookie older than this is issued again
DEVICE_TRIES, DEVICE_WINDOW = 10, 600.0   # wrong PINs from one device in ten minutes, then it waits ten minutes
MAX_DEVICES = 1000                # devices whose failures are remembered; idle ones drop out first

Journal = Callable[[str, dict], None]


@dataclass(frozen=True)
class Device:
    nonce: str
    issued: float

    @property
    def tag(self) -> str:
        """Names the device in the log and journal without any part of its cookie."""
        return hashlib.sha256(self.nonce.encode()).hexdigest()[:12]


@dataclass
class _Failures:
    times: deque = field(default_factory=lambda: deque(maxlen=DEVICE_TRIES))
    until: float = 0.0


class Devices:
    """The device cookies of one login (`what`: panel or admin) and each device's own lockout."""

    def __init__(self, key: bytes, what: str, clock: Clock, journal: Journal = lambda kind, data: None) -> None:
        self._key, self._what, self._clock, self._journal = key, what, clock, journal
        self._failures: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def issue(self, device: Device | None = None) -> str:
        """A fresh cookie: for `device` (it keeps its nonce, so its failures stay its own) or a new device."""
        nonce = device.nonce if device else secrets.token_urlsafe(16)
        payload = f"{self._what}.{int(self._clock.wall())}.{nonce}"
        return f"{payload}.{self._sign(payload)}"

    def known(self, cookie: str | None) -> Device | None:
        """The device this cookie names, if the room signed it for this login and it has not expired."""
        if not cookie or len(cookie) > 200:
            return None
        payload, _, signature = cookie.rpartition(".")
        what, _, rest = payload.partition(".")
        issued, _, nonce = rest.partition(".")
        if what != self._what or not issued.isdigit() or not nonce or \
                not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        # an issue time ahead of the clock is the room's own (a computer without a real-time clock starts
        # behind after a reboot), so it stands until the clock is right again
        expired = self._clock.wall() - int(issued) > DEVICE_LIFETIME
        return None if expired else Device(nonce, int(issued))

    def stale(self, device: Device | None) -> bool:
        """Should a logged-in browser be given this device's cookie again (none yet, or getting old)?"""
        return device is None or self._clock.wall() - device.issued > DEVICE_RENEW

    def take(self, device: Device) -> tuple[int, float]:
        """(0, a ticket) when this device's try may be compared; otherwise (seconds to wait, 0). Counted
        before the PIN is compared, so parallel tries cannot slip past the limit."""
        now = self._clock.monotonic()
        with self._lock:
            entry = self._failures.get(device.nonce)
            if entry is None:
                self._forget_old(now)
                entry = self._failures[device.nonce] = _Failures()
            if now < entry.until:
                return max(1, math.ceil(entry.until - now)), 0.0
            recent = [t for t in entry.times if t > now - DEVICE_WINDOW]
            if len(recent) >= DEVICE_TRIES:
                entry.until, locked = now + DEVICE_WINDOW, True
                entry.times.clear()
            else:
                entry.times.append(now)
                locked = False
        if locked:
            log.warning("%d wrong PINs in %d min from known device %s: it waits %d min", DEVICE_TRIES,
                        DEVICE_WINDOW // 60, device.tag, DEVICE_WINDOW // 60)
            self._journal("login_locked", {"device": device.tag, "tries": DEVICE_TRIES, "window_s": DEVICE_WINDOW,
                                           "wait_s": DEVICE_WINDOW})
            return math.ceil(DEVICE_WINDOW), 0.0
        return 0, now

    def failed(self, device: Device, address: str) -> None:
        now = self._clock.monotonic()
        with self._lock:
            entry = self._failures.get(device.nonce)
            count = len([t for t in entry.times if t > now - DEVICE_WINDOW]) if entry else 0
        log.warning("wrong PIN from %s on known device %s (%d from it in %d min)", address, device.tag, count,
                    DEVICE_WINDOW // 60)
        self._journal("login_failed", {"address": address, "device": device.tag, "tries_from_device": count})

    def succeeded(self, device: Device, ticket: float) -> None:
        """The right PIN: its try is given back (the device's earlier failures stand)."""
        with self._lock:
            entry = self._failures.get(device.nonce)
            if entry is not None and ticket in entry.times:
                entry.times.remove(ticket)

    def _forget_old(self, now: float) -> None:
        if len(self._failures) < MAX_DEVICES:
            return
        for nonce in [n for n, e in self._failures.items()
                      if now >= e.until and not any(t > now - DEVICE_WINDOW for t in e.times)]:
            del self._failures[nonce]
        while len(self._failures) >= MAX_DEVICES:   # all recent: the oldest goes
            del self._failures[next(iter(self._failures))]

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
