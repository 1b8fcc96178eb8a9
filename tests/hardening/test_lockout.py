"""Nobody on the network can lock the therapist out (issue 23 §1), on loopback: wrong PINs from rotating client
addresses (each a different 127.0.0.0/8 source address: the server believes no X-Forwarded-For from them)
shut the login for untrusted browsers, while a browser that logged in before (its device cookie) gets in
with the right PIN and is locked out only by its own failures; an open panel keeps its login through a
session. The room runs on the test clock: the windows and the idle time pass when the test says."""

from __future__ import annotations

import http.client
import json
import queue
import threading

import pytest
import requests

from room_controller.infrastructure.clock import ManualClock
from room_controller.webapp.auth import ADMIN_DEVICE_COOKIE, DEVICE_COOKIE, ROOM_TRIES
from room_controller.webapp.devices import DEVICE_LIFETIME, DEVICE_TRIES, DEVICE_WINDOW
from tests.hardening.conftest import AUTH, PIN, serve
from tests.hardening.test_access import journal_rows

ADMIN_PIN = "975310"
ATTACKS = 400   # wrong PINs sent at most, each from its own address


def attempt(base: str, pin: str, source: str, path: str = "/api/login", cookie: str = "") -> tuple[int, dict]:
    """A login from `source` (Linux routes all of 127.0.0.0/8 to loopback), with `cookie` if given."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", path, json.dumps({"pin": pin}),
                     {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders())
    finally:
        conn.close()


class Attacker:
    """Wrong PINs from a new address each time, in a thread, until stopped (or ATTACKS sent)."""

    def __init__(self, base: str, path: str = "/api/login") -> None:
        self.statuses: list[int] = []
        self.locked = threading.Event()    # the room-wide limit answers 429
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(base, path), daemon=True)
        self._thread.start()

    def _run(self, base: str, path: str) -> None:
        for n in range(ATTACKS):
            if self._stop.is_set():
                return
            status, _ = attempt(base, f"9{n:04d}", f"127.20.{n // 250}.{n % 250 + 2}", path)
            self.statuses.append(status)
            if status == 429:
                self.locked.set()

    def stop(self) -> list[int]:
        self._stop.set()
        self._thread.join(30)
        return self.statuses


def logged_in(base: str, path: str = "/api/login", pin: str = PIN) -> requests.Session:
    browser = requests.Session()
    r = browser.post(f"{base}{path}", json={"pin": pin})
    assert r.status_code == 200, r.text
    return browser


def log_out(browser: requests.Session, base: str, path: str = "/api") -> None:
    csrf = browser.get(f"{base}{path}/login").json()["csrf"]
    assert browser.post(f"{base}{path}/logout", headers={"X-CSRF-Token": csrf}).status_code == 200


def set_cookies(response: requests.Response) -> dict[str, set[str]]:
    """Each cookie the answer sets, by name, with its attributes (Expires left out: it is a date)."""
    cookies = {}
    for line in response.raw.headers.getlist("Set-Cookie"):
        name, *attrs = line.split("; ")
        cookies[name.split("=", 1)[0]] = {a for a in attrs if not a.startswith("Expires=")}
    return cookies


@pytest.fixture
def room(tmp_path, broker, room_id):
    served = serve(tmp_path, broker, room_id, admin_pin=ADMIN_PIN, idle_logout="1m")
    yield served
    served.app.stop()


@pytest.mark.slow
def test_a_known_tablet_logs_in_while_wrong_pins_from_rotating_addresses_lock_everyone_else_out(room):
    tablet = requests.Session()
    r = tablet.post(f"{room.base}/api/login", json={"pin": PIN})
    assert set_cookies(r)[DEVICE_COOKIE] == {"HttpOnly", f"Max-Age={int(DEVICE_LIFETIME)}", "Path=/api/login",
                                             "SameSite=Strict"}
    log_out(tablet, room.base)   # the login ends; the browser stays a known device

    attacker = Attacker(room.base)
    try:
        assert attacker.locked.wait(60), attacker.statuses
        assert attempt(room.base, PIN, "127.9.9.9")[0] == 429       # an untrusted browser with the right PIN waits
        for _ in range(3):                                           # the known tablet, meanwhile, gets in
            r = tablet.post(f"{room.base}/api/login", json={"pin": PIN})
            assert r.status_code == 200, r.text
            assert tablet.get(f"{room.base}/api/state").status_code == 200
            log_out(tablet, room.base)
    finally:
        statuses = attacker.stop()
    assert statuses.count(401) == ROOM_TRIES and set(statuses) == {401, 429}
    assert len(journal_rows(room, "login_locked")) == 1


def test_a_forged_expired_or_foreign_device_cookie_is_untrusted(room):
    tablet = logged_in(room.base)
    device = tablet.cookies.get(DEVICE_COOKIE)
    admin = logged_in(room.base, "/api/admin/login", ADMIN_PIN)
    admin_device = admin.cookies.get(ADMIN_DEVICE_COOKIE)
    for n in range(ROOM_TRIES):   # the room's limit for untrusted browsers, reached from many addresses
        assert attempt(room.base, "0000", f"127.0.3.{n + 2}")[0] == 401
    payload, signature = device.rsplit(".", 1)
    what, issued, nonce = payload.split(".", 2)
    other = ("B" if signature[0] != "B" else "C") + signature[1:]   # another signature, whatever this one is
    forged = [f"{payload}.{other}", f"{what}.{int(issued) + 1}.{nonce}.{signature}",
              f"admin.{issued}.{nonce}.{signature}", f"{payload}.", "x" * 300, admin_device]
    for cookie in forged:
        status, headers = attempt(room.base, PIN, "127.0.4.2", cookie=f"{DEVICE_COOKIE}={cookie}")
        assert status == 429 and int(headers["Retry-After"]) >= 1, cookie
    assert attempt(room.base, PIN, "127.0.4.2", cookie=f"{DEVICE_COOKIE}={device}")[0] == 200
    room.clock.step_wall(DEVICE_LIFETIME + 60)   # a year on: the same cookie has expired
    assert attempt(room.base, PIN, "127.0.4.2", cookie=f"{DEVICE_COOKIE}={device}")[0] == 429


def test_a_device_cookie_that_fails_too_often_is_locked_out_alone(room):
    tablet, phone = logged_in(room.base), logged_in(room.base)
    for browser in (tablet, phone):
        log_out(browser, room.base)
    for n in range(DEVICE_TRIES):
        assert tablet.post(f"{room.base}/api/login", json={"pin": f"{n:04d}"}).status_code == 401
    r = tablet.post(f"{room.base}/api/login", json={"pin": PIN})   # its own limit: even the right PIN waits
    assert (r.status_code, r.json()["error"]["code"], r.headers["Retry-After"]) == \
        (429, "too_many_tries", str(int(DEVICE_WINDOW)))
    assert phone.post(f"{room.base}/api/login", json={"pin": PIN}).status_code == 200    # another known device
    assert attempt(room.base, PIN, "127.0.6.2")[0] == 200     # and an untrusted one: no room-wide count grew
    tag = journal_rows(room, "login_locked")[0]["device"]
    failed = journal_rows(room, "login_failed")
    assert [row["tries_from_device"] for row in failed] == list(range(1, DEVICE_TRIES + 1))
    assert {row["device"] for row in failed} == {tag} and tag not in tablet.cookies.get(DEVICE_COOKIE)
    room.clock.advance(DEVICE_WINDOW)                          # its ten minutes over: the tablet gets in again
    assert tablet.post(f"{room.base}/api/login", json={"pin": PIN}).status_code == 200


def test_the_admin_login_trusts_its_known_devices_the_same_way(room):
    tools = logged_in(room.base, "/api/admin/login", ADMIN_PIN)
    assert tools.cookies.get(ADMIN_DEVICE_COOKIE) and not tools.cookies.get(DEVICE_COOKIE)
    log_out(tools, room.base, "/api/admin")
    attacker = Attacker(room.base, "/api/admin/login")
    try:
        assert attacker.locked.wait(60), attacker.statuses
        assert attempt(room.base, ADMIN_PIN, "127.9.9.9", "/api/admin/login")[0] == 429
        r = tools.post(f"{room.base}/api/admin/login", json={"pin": ADMIN_PIN})
        assert r.status_code == 200, r.text
        assert tools.get(f"{room.base}/api/admin/presets").status_code == 200
    finally:
        statuses = attacker.stop()
    assert statuses.count(401) == ROOM_TRIES and set(statuses) == {401, 429}
    assert logged_in(room.base).cookies.get(DEVICE_COOKIE)   # the panel's own login was never locked by it


def test_a_browser_logged_in_before_device_cookies_gets_one_and_an_old_one_is_renewed(room):
    browser = requests.Session()   # the room's tablet: its login outlasts the days the clock is moved on
    assert browser.post(f"{room.base}/api/login", json={"pin": PIN, "tablet": True}).status_code == 200
    browser.cookies.clear(domain="127.0.0.1", path="/api/login", name=DEVICE_COOKIE)
    r = browser.get(f"{room.base}/api/login")
    assert DEVICE_COOKIE in set_cookies(r)
    assert DEVICE_COOKIE not in set_cookies(browser.get(f"{room.base}/api/login"))   # fresh: not again
    room.clock.step_wall(2 * 86400)
    renewed = browser.get(f"{room.base}/api/login")
    assert DEVICE_COOKIE in set_cookies(renewed)
    assert requests.get(f"{room.base}/api/login").headers.get("Set-Cookie") is None   # not logged in: none


class Stream:
    """A panel's event stream, read in a thread: each state it sends goes into `states`."""

    def __init__(self, browser: requests.Session, base: str) -> None:
        self.states: queue.Queue = queue.Queue()
        self._response = browser.get(f"{base}/api/events", stream=True, timeout=30)
        assert self._response.status_code == 200
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._response.iter_lines(chunk_size=1):
                if line.startswith(b"data: {") and line != b"data: {}":
                    self.states.put(json.loads(line[len(b"data: "):]))
        except (requests.RequestException, AttributeError, ValueError):   # closed by the test
            pass

    def until(self, condition) -> dict:
        while True:
            state = self.states.get(timeout=10)
            if condition(state):
                return state

    def close(self) -> None:
        self._response.close()


@pytest.mark.slow
def test_an_open_panel_keeps_its_login_through_a_session_and_its_idle_time_starts_at_the_end(room):
    panel, idle = logged_in(room.base), logged_in(room.base)   # the second has no panel open
    assert panel.get(f"{room.base}/api/login").json()["idle_s"] == 60
    stream = Stream(panel, room.base)
    try:
        stream.until(lambda state: True)
        assert requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).ok
        stream.until(lambda state: state["session"] is not None)
        room.clock.advance(40 * 60)                                 # 40 minutes untouched, on the test clock
        assert idle.get(f"{room.base}/api/state").status_code == 401
        csrf = panel.get(f"{room.base}/api/login").json()["csrf"]
        r = panel.post(f"{room.base}/api/presets/calm", headers={"X-CSRF-Token": csrf})
        assert (r.status_code, r.json()) == (200, {"preset": "calm"})
        room.clock.advance(10 * 60)
        assert requests.post(f"{room.base}/api/session/stop", headers=AUTH).ok
        stream.until(lambda state: state["session"] is None)         # the panel heard the session end
        room.clock.advance(50)
        assert panel.get(f"{room.base}/api/state").status_code == 200   # unused since then for less than a minute
        room.clock.advance(61)
        assert panel.get(f"{room.base}/api/state").status_code == 401   # no session: the idle time ends it
    finally:
        stream.close()


@pytest.mark.slow
def test_the_rooms_tablet_is_told_its_login_never_idles_out(room):
    tablet = requests.Session()
    r = tablet.post(f"{room.base}/api/login", json={"pin": PIN, "tablet": True})
    assert r.json()["idle_s"] is None and tablet.get(f"{room.base}/api/login").json()["idle_s"] is None
    assert "idle_s" not in requests.get(f"{room.base}/api/login").json()


@pytest.mark.slow
def test_a_restart_in_a_session_keeps_the_open_panels_login(tmp_path, broker, room_id):
    clock = ManualClock()
    first = serve(tmp_path, broker, room_id, clock, idle_logout="1m")
    try:
        panel = logged_in(first.base)
        stream = Stream(panel, first.base)
        stream.until(lambda state: True)
        assert requests.post(f"{first.base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).ok
        clock.advance(40 * 60)        # untouched for 40 minutes: the open panel holds the login
    finally:
        first.app.stop()              # the service stops with the panel open; it comes back 20 s later
    stream.close()
    again = serve(tmp_path, broker, room_id, ManualClock(start=50.0, wall_start=clock.wall() + 20), idle_logout="1m")
    try:
        assert panel.get(f"{again.base}/api/state").status_code == 200   # a new port: the cookie is the host's
    finally:
        again.app.stop()
