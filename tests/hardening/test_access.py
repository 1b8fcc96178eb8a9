"""Access as an attacker on the clinic network would try it (loopback only): PINs spread over many client
addresses, cookies kept after logout, idle logins, framing and content sniffing, and DNS rebinding."""

from __future__ import annotations

import http.client
import json
import logging
import sqlite3

import pytest
import requests

from room_controller.webapp.auth import COOKIE, ROOM_TRIES, TRIES
from tests.hardening.conftest import AUTH, PIN, serve


def post_login(base: str, pin: str, source: str, **extra) -> tuple[int, dict]:
    """A login from `source` (any 127.0.0.0/8 address: Linux routes the whole block to loopback)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", "/api/login", json.dumps({"pin": pin, **extra}),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders())
    finally:
        conn.close()


def journal_rows(served, kind: str) -> list[dict]:
    served.app.loop.settle()
    served.app.journal.flush()   # read behind the journal's back: what the room queued, committed first
    with sqlite3.connect(f"file:{served.app.journal.path}?mode=ro", uri=True) as db:
        return [json.loads(r[0]) for r in db.execute("SELECT data FROM events WHERE kind=?", (kind,))]


@pytest.mark.slow
def test_wrong_pins_spread_over_many_addresses_stop_at_the_room_limit_and_are_logged(served, caplog):
    caplog.set_level(logging.WARNING)
    panel = requests.Session()
    assert panel.post(f"{served.base}/api/login", json={"pin": PIN}).status_code == 200
    csrf = panel.get(f"{served.base}/api/login").json()["csrf"]
    statuses = [post_login(served.base, f"{n:04d}", f"127.0.{n // 250}.{n % 250 + 2}")[0] for n in range(200)]
    assert statuses.count(401) == ROOM_TRIES and set(statuses) == {401, 429}   # then every address waits
    status, headers = post_login(served.base, PIN, "127.9.9.9")
    assert status == 429 and int(headers["Retry-After"]) >= 1   # the right PIN too, from a fresh address
    r = panel.post(f"{served.base}/api/presets/calm", headers={"X-CSRF-Token": csrf})
    assert (r.status_code, r.json()) == (200, {"preset": "calm"})   # a logged-in panel never waits
    assert len([r for r in caplog.records if "wrong PIN from" in r.getMessage()]) == ROOM_TRIES
    failed = journal_rows(served, "login_failed")
    assert len(failed) == ROOM_TRIES and failed[0]["address"] == "127.0.0.2"
    assert len(journal_rows(served, "login_locked")) == 1


def test_one_address_is_locked_out_after_its_tries_and_longer_each_time(served):
    for n in range(TRIES):
        assert post_login(served.base, f"{n:04d}", "127.0.5.5")[0] == 401
    status, headers = post_login(served.base, PIN, "127.0.5.5")
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60
    assert post_login(served.base, PIN, "127.0.5.6")[0] == 200    # another address is not held up by it


@pytest.mark.slow
def test_logout_revokes_the_cookie_on_the_server(served):
    panel = requests.Session()
    assert panel.post(f"{served.base}/api/login", json={"pin": PIN}).status_code == 200
    cookie = panel.cookies.get(COOKIE)
    csrf = panel.get(f"{served.base}/api/login").json()["csrf"]
    assert panel.post(f"{served.base}/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    old = {COOKIE: cookie}   # kept by whoever copied it before the logout
    assert requests.get(f"{served.base}/api/state", cookies=old).status_code == 401
    r = requests.post(f"{served.base}/api/notes", cookies=old, json={"text": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 401
    assert journal_rows(served, "logout") == [{"login": "panel"}]


@pytest.mark.slow
def test_an_idle_login_ends_but_the_rooms_tablet_stays_logged_in(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id, idle_logout="1m")
    try:
        phone, tablet = requests.Session(), requests.Session()
        assert phone.post(f"{room.base}/api/login", json={"pin": PIN}).status_code == 200
        assert tablet.post(f"{room.base}/api/login", json={"pin": PIN, "tablet": True}).status_code == 200
    finally:
        room.app.stop()
    table = tmp_path / "data" / "web-logins-panel.json"   # both last used two minutes ago
    kept = json.loads(table.read_text())
    for record in kept["logins"].values():
        record["seen"] -= 120
    table.write_text(json.dumps(kept))
    room = serve(tmp_path, broker, room_id, idle_logout="1m")
    try:
        assert phone.get(f"{room.base}/api/state").status_code == 401
        assert tablet.get(f"{room.base}/api/state").status_code == 200
    finally:
        room.app.stop()


def test_the_login_table_and_secret_are_owner_only(served):
    requests.post(f"{served.base}/api/login", json={"pin": PIN})
    data = served.app.config.data_dir
    assert {(p.name, p.stat().st_mode & 0o777) for p in data.iterdir() if p.name.startswith("web-")} == {
        ("web-secret", 0o600), ("web-logins-panel.json", 0o600)}


def test_every_answer_forbids_framing_sniffing_and_foreign_scripts(served):
    """Framing by another site is refused; the panel frames its own reports, beside Calm."""
    for path in ("/", "/api/health", "/static/panel.css", "/api/state"):
        headers = requests.get(f"{served.base}{path}", headers=AUTH).headers
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "SAMEORIGIN"
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert csp["frame-ancestors"] == "'self'" and csp["script-src"] == "'self'"
        assert "unsafe-inline" not in headers["Content-Security-Policy"]


@pytest.mark.slow
def test_a_foreign_host_name_is_refused_even_when_origin_matches_it(served):
    """DNS rebinding: a page on evil.example whose name now points at the room sends Host and Origin both
    evil.example, so a same-origin check alone passes."""
    port = served.base.rsplit(":", 1)[1]
    foreign = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    r = requests.post(f"{served.base}/api/presets/emergency", headers={**AUTH, **foreign})
    assert (r.status_code, r.json()["error"]["code"]) == (421, "unknown_host")
    assert requests.get(f"{served.base}/api/state", headers={**AUTH, **foreign}).status_code == 421
    assert served.app.room.snapshot()["preset"] is None
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert requests.get(f"{served.base}/api/health", headers={"Host": host}).status_code == 200
