"""Who may change the room: a bearer token for programs, a PIN-login cookie for the therapist's panel.

The cookie is signed, not stored: it carries its expiry and a random nonce, MACed with a secret kept in
`data_dir` (so a restart of the service logs nobody out) and the PIN (so changing the PIN logs everyone out).
A cookie session must also send its CSRF token (derived from the nonce) on every change; bearer clients
need none, since a browser never adds an Authorization header by itself. PIN tries are limited per client
address, which only ever slows the login screen: a logged-in panel is never refused for it.

Secrets are compared in constant time. With neither a PIN nor a token configured the API is open, which
the configuration allows only on a loopback address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from room_controller.config import WebSettings

log = logging.getLogger(__name__)

COOKIE = "room_panel"
ADMIN_COOKIE = "room_admin"   # the clinic tools (profile editor): a PIN of their own, a shorter login
CSRF_HEADER = "X-CSRF-Token"
LIFETIME = 12 * 3600.0       # longer than the longest session; each use slides it on
ADMIN_LIFETIME = 1800.0      # the clinic tools log out after half an hour unused
RENEW_AFTER = 600.0          # re-issue the cookie (new expiry) at most every 10 minutes
TRIES, TRY_WINDOW = 5, 60.0  # PIN tries per client address per minute
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECRET_FILE = "web-secret"


@dataclass(frozen=True)
class Denied:
    status: int
    code: str
    message: str
    retry_after: int | None = None


@dataclass(frozen=True)
class PanelLogin:
    nonce: str
    expires: float


class Auth:
    """The therapist's login, or with `admin` the clinic tools' login (web.admin_pin, a cookie of its own)."""

    def __init__(self, settings: WebSettings, data_dir: Path, *, admin: bool = False) -> None:
        self._token = settings.api_token.get_secret_value().encode() if settings.api_token else None
        secret = settings.admin_pin if admin else settings.pin
        pin = secret.get_secret_value().encode() if secret else None
        self._pin = pin
        self._open = self._token is None and settings.pin is None and pin is None
        self.cookie_name, self.lifetime = (ADMIN_COOKIE, ADMIN_LIFETIME) if admin else (COOKIE, LIFETIME)
        self._setting = "web.admin_pin" if admin else "web.pin"
        self._key = hmac.new(_secret(data_dir), (b"admin:" if admin else b"pin:") + (pin or b""),
                             hashlib.sha256).digest()
        self.tries = Tries()

    @property
    def open(self) -> bool:
        return self._open

    @property
    def has_pin(self) -> bool:
        return self._pin is not None

    def bearer_ok(self, header: str | None) -> bool:
        if self._token is None or not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer "):].strip().encode(), self._token)

    def check(self, method: str, authorization: str | None, cookie: str | None, csrf: str | None) -> Denied | None:
        """None when the request may go on; otherwise why not."""
        if self.open or self.bearer_ok(authorization):
            return None
        login = self.panel_login(cookie)
        if login is None:
            return Denied(401, "unauthorized", "log in with the PIN or send Authorization: Bearer <api_token>")
        if method not in SAFE_METHODS and not (csrf and hmac.compare_digest(csrf, self.csrf(login))):
            return Denied(403, "csrf", f"send the {CSRF_HEADER} header given at login with every change")
        return None

    # -- the panel's login -----------------------------------------------------------------------------------

    def login(self, pin: str, address: str) -> PanelLogin | Denied:
        if self._pin is None:
            return Denied(409, "no_pin", f"this room has no PIN set for this ({self._setting} in its configuration)")
        wait = self.tries.take(address)
        if wait > 0:
            return Denied(429, "too_many_tries", f"too many PIN tries; wait {wait} s, then try again", wait)
        if not hmac.compare_digest(pin.encode(), self._pin):
            return Denied(401, "wrong_pin", "that PIN is not right")
        self.tries.succeeded(address)
        return PanelLogin(secrets.token_urlsafe(16), time.time() + self.lifetime)

    def panel_login(self, cookie: str | None) -> PanelLogin | None:
        if not cookie or self._pin is None:
            return None
        try:
            expires_text, nonce, mac = cookie.split(".")
            expires = float(expires_text)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(f"{expires_text}.{nonce}")) or expires < time.time():
            return None
        return PanelLogin(nonce, expires)

    def renewed(self, login: PanelLogin) -> PanelLogin | None:
        """A fresh expiry for a login in use, so a panel open all day never meets the PIN screen."""
        if login.expires - time.time() > self.lifetime - min(RENEW_AFTER, self.lifetime / 6):
            return None
        return PanelLogin(login.nonce, time.time() + self.lifetime)

    def cookie(self, login: PanelLogin) -> str:
        payload = f"{int(login.expires)}.{login.nonce}"
        return f"{payload}.{self._mac(payload)}"

    def csrf(self, login: PanelLogin) -> str:
        return self._mac(f"csrf.{login.nonce}")

    def _mac(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Tries:
    """Failed PIN tries per client address in the last minute (a bounded table: old addresses drop out)."""

    def __init__(self) -> None:
        self._failed: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> int:
        """Count a try before the PIN is compared (so parallel guesses cannot slip past the limit); when
        the limit is reached, count nothing and say how many seconds to wait."""
        now = time.monotonic()
        with self._lock:
            recent = self._recent(address, now)
            if len(recent) >= TRIES:
                return max(1, int(recent[0] + TRY_WINDOW - now + 0.999))
            if len(self._failed) > 1000:
                for old in [a for a, times in self._failed.items() if times[-1] < now - TRY_WINDOW]:
                    del self._failed[old]
            self._failed.setdefault(address, deque(maxlen=TRIES)).append(now)
            return 0

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failed.pop(address, None)

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failed.get(address, deque())
        while times and times[0] < now - TRY_WINDOW:
            times.popleft()
        return times


def _secret(data_dir: Path) -> bytes:
    """The cookie-signing secret, made once and kept (owner-only) so logins survive a restart."""
    path = Path(data_dir) / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            secret = bytes.fromhex(path.read_text().strip())
            if len(secret) >= 32:
                return secret
            raise ValueError(f"{path} is not a 32-byte hex secret") from None
        secret = secrets.token_bytes(32)
        with os.fdopen(fd, "w") as f:
            f.write(secret.hex())
        return secret
    except (OSError, ValueError) as exc:
        log.warning("cannot keep the login secret in %s (%s): panels will need the PIN after a restart", path, exc)
        return secrets.token_bytes(32)
