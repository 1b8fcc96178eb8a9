"""Who may change the room: a bearer token for programs, a PIN login for the therapist's panel.

A login is a server-side session: the cookie is a random id, the server keeps only its hash (in `data_dir`,
owner-only, so a restart logs nobody out) with when it was last used and whether the panel is the room's
tablet. Logging out deletes it, so an old cookie is worth nothing after; a changed PIN ends every login made
with the old one; a login unused for `web.idle_logout` ends, except on the room's tablet (a panel marked so
at login), which must never meet the PIN screen in the middle of a session, and except while a session runs
and the login's panel is open (its event stream): the therapist is never logged out under a running
session, and the idle time counts from the session's end (the panel warns before it is over). Since the
server trusts only its own table, there is nothing to sign: no itsdangerous (it would sign data the server
must then believe). Time is the room's clock (a test moves it).
A cookie session also sends its CSRF token (an HMAC of the id) with every change; bearer clients need none,
since a browser never adds an Authorization header by itself.

Wrong PINs back off per client address (5 a minute, then locked out for twice as long each time) and for
the whole room (ROOM_TRIES in ROOM_WINDOW, however many addresses they come from), and each is logged and
journaled. Those limits hold for untrusted browsers only: one that has logged in before carries a device
cookie (webapp.devices) and is judged by its own failures alone, so nobody on the network can lock the room's
tablet out. The limits only ever slow the login screen: a logged-in panel is never refused for them. Secrets
are compared in constant time. With neither a PIN nor a token configured the API is open, which the
configuration allows only on a loopback address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import secrets
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from room_controller.config import WebSettings
from room_controller.infrastructure.clock import Clock, SystemClock
from room_controller.webapp.devices import Devices

log = logging.getLogger(__name__)

COOKIE = "room_panel"
ADMIN_COOKIE = "room_admin"   # the clinic tools (profile editor): a PIN of their own, a shorter login
DEVICE_COOKIE = "room_device"   # this browser has logged in before (webapp.devices); sent only to the login
ADMIN_DEVICE_COOKIE = "room_device_admin"
CSRF_HEADER = "X-CSRF-Token"
LIFETIME = 30 * 24 * 3600.0  # the panel's cookie in the browser; the server ends idle logins sooner
ADMIN_LIFETIME = 1800.0      # the clinic tools log out after half an hour unused
RENEW_AFTER = 600.0          # re-issue the cookie (new Max-Age) at most every 10 minutes
SAVE_SEEN_EVERY = 300.0      # write a login's last use to disk at most this often
MAX_LOGINS = 200             # kept logins per kind; beyond, the longest unused is dropped
TRIES, TRY_WINDOW = 5, 60.0  # PIN tries per client address per minute before it is locked out
MAX_LOCKOUT = 3600.0         # an address that keeps guessing waits twice as long each time, up to an hour
ROOM_TRIES, ROOM_WINDOW = 30, 600.0   # wrong PINs for the whole room in ten minutes, from any addresses
MAX_ADDRESSES = 10_000       # addresses remembered; old ones drop out
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SECRET_FILE = "web-secret"

Journal = Callable[[str, dict], None]   # ("login_failed", {...}): handed to the room's journal


@dataclass(frozen=True)
class Denied:
    status: int
    code: str
    message: str
    retry_after: int | None = None


@dataclass(frozen=True)
class PanelLogin:
    nonce: str            # the id's hash: names the login (event streams per login) without revealing it
    expires: float        # when it ends unless used (inf: the room's tablet)
    token: str = field(default="", repr=False)   # the cookie's value, only right after login or on renewal
    tablet: bool = False
    device: str = field(default="", repr=False)  # the device cookie's value, right after login


class Auth:
    """The therapist's login, or with `admin` the clinic tools' login (web.admin_pin, a cookie of its own)."""

    def __init__(self, settings: WebSettings, data_dir: Path, *, admin: bool = False,
                 journal: Journal = lambda kind, data: None, clock: Clock | None = None,
                 in_session: Callable[[], bool] = lambda: False) -> None:
        """`in_session`: does a session run now (an open panel's login does not end then)."""
        self._token = settings.api_token.get_secret_value().encode() if settings.api_token else None
        secret = settings.admin_pin if admin else settings.pin
        pin = secret.get_secret_value().encode() if secret else None
        self._pin = pin
        self._open = self._token is None and settings.pin is None and pin is None
        self.cookie_name, self.lifetime = (ADMIN_COOKIE, ADMIN_LIFETIME) if admin else (COOKIE, LIFETIME)
        self.device_cookie, self.device_path = (ADMIN_DEVICE_COOKIE, "/api/admin/login") if admin \
            else (DEVICE_COOKIE, "/api/login")
        clock = clock or SystemClock()
        self.idle = ADMIN_LIFETIME if admin else settings.idle_logout
        self._setting = "web.admin_pin" if admin else "web.pin"
        self._what = "admin" if admin else "panel"
        key = _secret(data_dir)
        self._key = hmac.new(key, f"csrf:{self._what}".encode(), hashlib.sha256).digest()
        pin_tag = hmac.new(key, f"pin:{self._what}:".encode() + (pin or b""), hashlib.sha256).hexdigest()
        self.logins = Logins(Path(data_dir) / f"web-logins-{self._what}.json", pin_tag, clock, in_session)

        def journal_login(kind: str, data: dict) -> None:
            journal(kind, {**data, "login": self._what})
        self.tries = Tries(journal_login, clock)
        device_key = hmac.new(key, f"device:{pin_tag}".encode(), hashlib.sha256).digest()
        self.devices = Devices(device_key, self._what, clock, journal_login)
        self._in_session = in_session
        self._journal = journal

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
        # as bytes: compare_digest raises TypeError on a str that is not ASCII (a header may be any Latin-1)
        if method not in SAFE_METHODS and not (csrf and hmac.compare_digest(csrf.encode(), self.csrf(login).encode())):
            return Denied(403, "csrf", f"send the {CSRF_HEADER} header given at login with every change")
        return None

    # -- the panel's login -----------------------------------------------------------------------------------

    def login(self, pin: str, address: str, tablet: bool = False, device_cookie: str | None = None
              ) -> PanelLogin | Denied:
        """`tablet`: this panel is the room's own tablet, never logged out for being unused. `device_cookie`:
        the browser's, if it has logged in before: a valid one is judged by its own tries, not the room's."""
        if self._pin is None:
            return Denied(409, "no_pin", f"this room has no PIN set for this ({self._setting} in its configuration)")
        device = self.devices.known(device_cookie)
        wait, ticket = self.devices.take(device) if device else self.tries.take(address)
        if wait > 0:
            return Denied(429, "too_many_tries", f"too many PIN tries; wait {wait} s, then try again", wait)
        if not hmac.compare_digest(pin.encode(), self._pin):
            if device:
                self.devices.failed(device, address)
            else:
                self.tries.failed(address)
            return Denied(401, "wrong_pin", "that PIN is not right")
        if device:
            self.devices.succeeded(device, ticket)
        else:
            self.tries.succeeded(address, ticket)
        token = secrets.token_urlsafe(32)
        record = self.logins.add(_hash(token), tablet)
        self._journal("login", {"login": self._what, "address": address, "tablet": tablet,
                                "known_device": device is not None})
        login = self._login(_hash(token), record, token)
        return PanelLogin(login.nonce, login.expires, token, login.tablet, self.devices.issue(device))

    def logout(self, cookie: str | None) -> None:
        """The login of this cookie ends here: the cookie is worth nothing after (on this server or another
        read of its table)."""
        if cookie and self.logins.remove(_hash(cookie)):
            self._journal("logout", {"login": self._what})

    def panel_login(self, cookie: str | None) -> PanelLogin | None:
        """The login this cookie belongs to, if it is still on (a use counts as activity)."""
        if not cookie or self._pin is None or len(cookie) > 100:
            return None
        digest = _hash(cookie)
        record = self.logins.use(digest, self.idle)
        return None if record is None else self._login(digest, record)

    def renewal(self, cookie: str | None) -> PanelLogin | None:
        """The login of a cookie in use, to send its cookie again with a fresh Max-Age, at most every
        RENEW_AFTER (so a panel open for weeks keeps its cookie); None when it is fresh enough or ended."""
        login = self.panel_login(cookie)
        if login is None or not self.logins.renew(login.nonce, min(RENEW_AFTER, self.lifetime / 6)):
            return None
        return PanelLogin(login.nonce, login.expires, cookie or "", login.tablet)

    def cookie(self, login: PanelLogin) -> str:
        return login.token

    def device_renewal(self, device_cookie: str | None) -> str | None:
        """For a logged-in browser: a device cookie to set when it has none (it logged in before they
        existed) or its own is getting old, so a panel that stays logged in stays a known device."""
        device = self.devices.known(device_cookie)
        return self.devices.issue(device) if self.devices.stale(device) else None

    def follow(self, login: PanelLogin | None, stream: Iterable[bytes]) -> Iterable[bytes]:
        """The event stream of an open panel, which keeps its login on while a session runs."""
        return stream if login is None or login.tablet else Followed(stream, self.logins, login.nonce, self._in_session)

    def csrf(self, login: PanelLogin) -> str:
        return _b64(hmac.new(self._key, login.nonce.encode(), hashlib.sha256).digest())

    def _login(self, digest: str, record: dict, token: str = "") -> PanelLogin:
        expires = math.inf if record["tablet"] else record["seen"] + self.idle
        return PanelLogin(digest, expires, token, record["tablet"])


class Logins:
    """The server's table of logins: id hash -> {tablet, seen, issued}, kept in a file (owner-only) so a
    restart logs nobody out; the file names the PIN's tag, so a changed PIN starts an empty table. It also
    knows which logins have a panel open (`hold`): those do not end while a session runs."""

    def __init__(self, path: Path, pin_tag: str, clock: Clock | None = None,
                 in_session: Callable[[], bool] = lambda: False) -> None:
        self.path, self._tag = path, pin_tag
        self._clock, self._in_session = clock or SystemClock(), in_session
        self._lock = threading.Lock()
        self._saved_at = 0.0
        self._table: dict[str, dict] = {}
        self._held: dict[str, int] = {}   # id hash -> open event streams (bounded by the streams' cap)
        try:
            data = json.loads(path.read_text())
            if isinstance(data, dict) and data.get("pin") == pin_tag and isinstance(data.get("logins"), dict):
                self._table = data["logins"]
        except (OSError, ValueError):
            pass

    def add(self, digest: str, tablet: bool) -> dict:
        now = self._clock.wall()
        with self._lock:
            if len(self._table) >= MAX_LOGINS:
                del self._table[min(self._table, key=lambda d: self._table[d]["seen"])]
            record = self._table[digest] = {"tablet": tablet, "seen": now, "issued": now}
            self._save()
        return dict(record)

    def remove(self, digest: str) -> bool:
        with self._lock:
            found = self._table.pop(digest, None) is not None
            if found:
                self._save()
        return found

    def use(self, digest: str, idle: float) -> dict | None:
        """The login, its last use now; None (and forgotten) when unknown or unused for longer than `idle`
        (a panel open during a session is in use)."""
        now = self._clock.wall()
        with self._lock:
            record = self._table.get(digest)
            if record is None:
                return None
            if not record["tablet"] and now - record["seen"] > idle and not (self._held.get(digest)
                                                                              and self._in_session()):
                del self._table[digest]
                self._save()
                return None
            record["seen"] = now
            if now - self._saved_at > SAVE_SEEN_EVERY:
                self._save()
            return dict(record)

    def hold(self, digest: str) -> None:
        """A panel of this login opened its event stream."""
        with self._lock:
            self._held[digest] = self._held.get(digest, 0) + 1

    def release(self, digest: str, touch: bool) -> None:
        """A panel's event stream ended; with `touch`, its idle time starts now (kept on disk at once: the
        service may be stopping, and the panel is back after the restart)."""
        with self._lock:
            left = self._held.pop(digest, 1) - 1
            if left > 0:
                self._held[digest] = left
        if touch:
            self.touch(digest, save=True)

    def touch(self, digest: str, save: bool = False) -> None:
        """This login was in use now (its open panel, during a session); on disk as often as `use` writes."""
        now = self._clock.wall()
        with self._lock:
            record = self._table.get(digest)
            if record is None:
                return
            record["seen"] = max(record["seen"], now)
            if save or now - self._saved_at > SAVE_SEEN_EVERY:
                self._save()

    def renew(self, digest: str, after: float) -> bool:
        """True (and noted) when this login's cookie was last issued more than `after` seconds ago."""
        now = self._clock.wall()
        with self._lock:
            record = self._table.get(digest)
            if record is None or now - record["issued"] < after:
                return False
            record["issued"] = now
            return True

    def _save(self) -> None:
        """Atomically, owner-only; a disk that refuses is logged and the logins live on in memory."""
        self._saved_at = self._clock.wall()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            tmp.unlink(missing_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"pin": self._tag, "logins": self._table}, f)
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot keep the logins in %s (%s): they end with a restart", self.path, exc)


class Tries:
    """Wrong PINs per client address and for the whole room. A try is counted before the PIN is compared
    (so parallel guesses cannot slip past a limit) and given back when the PIN was right."""

    def __init__(self, journal: Journal = lambda kind, data: None, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._addresses: dict[str, _Address] = {}
        self._room: deque[float] = deque()
        self._refused = 0           # tries refused since the room-wide limit was last reported
        self._lock = threading.Lock()
        self._journal = journal

    def take(self, address: str) -> tuple[int, float]:
        """(0, a ticket) when this try may be compared; otherwise (seconds to wait, 0)."""
        now = self._clock.monotonic()
        with self._lock:
            entry = self._addresses.get(address)
            if entry is None:
                self._forget_old(now)
                entry = self._addresses[address] = _Address()
            wait = entry.wait(now)
            while self._room and self._room[0] < now - ROOM_WINDOW:
                self._room.popleft()
            if not wait and len(self._room) >= ROOM_TRIES:
                wait = self._room[0] + ROOM_WINDOW - now
                self._refused += 1
                if self._refused == 1:
                    log.warning("%d wrong PINs in %d min from any address: every login without a known "
                                "device waits %d s",
                                ROOM_TRIES, ROOM_WINDOW // 60, math.ceil(wait))
                    self._journal("login_locked", {"tries": ROOM_TRIES, "window_s": ROOM_WINDOW,
                                                   "wait_s": math.ceil(wait)})
            if wait:
                return max(1, math.ceil(wait)), 0.0
            entry.times.append(now)
            self._room.append(now)
            return 0, now

    def failed(self, address: str) -> None:
        with self._lock:
            entry = self._addresses.get(address)
            count = len(entry.times) if entry else 0
            in_room, refused, self._refused = len(self._room), self._refused, 0
        log.warning("wrong PIN from %s (%d from it in the last minute, %d in the room in %d min%s)", address,
                    count, in_room, ROOM_WINDOW // 60, f"; {refused} refused while locked" if refused else "")
        self._journal("login_failed", {"address": address, "tries_from_address": count, "tries_in_room": in_room})

    def succeeded(self, address: str, ticket: float) -> None:
        with self._lock:
            self._addresses.pop(address, None)
            try:
                self._room.remove(ticket)
            except ValueError:
                pass

    def _forget_old(self, now: float) -> None:
        if len(self._addresses) < MAX_ADDRESSES:
            return
        for address in [a for a, e in self._addresses.items() if e.idle(now)]:
            del self._addresses[address]
        while len(self._addresses) >= MAX_ADDRESSES:   # all recent: the oldest goes
            del self._addresses[next(iter(self._addresses))]


class Followed:
    """An open panel's event stream: while it is open during a session its login does not end, and what it
    sends then counts as the panel's use, so the idle time starts when the session (or the panel) ends."""

    def __init__(self, stream: Iterable[bytes], logins: Logins, digest: str, in_session: Callable[[], bool]) -> None:
        self._stream, self._logins, self._digest, self._in_session = stream, logins, digest, in_session
        self._closed = False
        self._lock = threading.Lock()
        logins.hold(digest)

    def __iter__(self) -> Iterator[bytes]:
        was = False
        for chunk in self._stream:
            now = self._in_session()
            if now or was:   # the event that says the session ended counts too: the panel heard it
                self._logins.touch(self._digest)
            was = now
            yield chunk

    def close(self) -> None:
        """Called by the server when the response ends."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._logins.release(self._digest, self._in_session())
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


@dataclass
class _Address:
    times: deque = field(default_factory=lambda: deque(maxlen=TRIES))
    strikes: int = 0          # lockouts in a row: each one twice as long
    until: float = 0.0

    def wait(self, now: float) -> float:
        if now < self.until:
            return self.until - now
        if self.strikes and now - self.until > MAX_LOCKOUT:
            self.strikes = 0      # an hour without a lockout: start again
        recent = [t for t in self.times if t >= now - TRY_WINDOW]
        if len(recent) < TRIES:
            return 0.0
        self.strikes += 1
        first = recent[0] + TRY_WINDOW - now
        self.until = now + (first if self.strikes == 1 else min(MAX_LOCKOUT, TRY_WINDOW * 2 ** (self.strikes - 1)))
        self.times.clear()
        return self.until - now

    def idle(self, now: float) -> bool:
        return now >= self.until and (not self.times or self.times[-1] < now - TRY_WINDOW)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _secret(data_dir: Path) -> bytes:
    """The key for CSRF tokens and the PIN's tag, made once and kept (owner-only) so logins survive a restart."""
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


def host_allowed(host: str | None, settings: WebSettings) -> bool:
    """Is the request's Host this room (not a DNS name some web page pointed at it: DNS rebinding)? An IP
    address, localhost, this computer's name (and name.local), `web.host` and `web.allowed_hosts` are."""
    if not host:
        return False
    if host.startswith("["):                      # [::1]:8080
        name = host[1:host.find("]")]
    else:
        before, _, port = host.rpartition(":")
        name = before if before and port.isdigit() else host
    name = name.rstrip(".").lower()
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    hostname = socket.gethostname().lower()      # no DNS look-up: it could hang on a clinic network
    return name in {"localhost", hostname, f"{hostname}.local", settings.host.lower(),
                    *(h.lower() for h in settings.allowed_hosts)}
