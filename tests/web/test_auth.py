"""The panel's login over HTTP: the cookie's flags, CSRF on every change, foreign origins, PIN tries, and
a login that survives a restart but not a PIN change. Bearer clients are unchanged."""

from __future__ import annotations

import json

import pytest
import requests

from room_controller.config import WebSettings
from room_controller.webapp.auth import COOKIE, LIFETIME, Auth
from tests.web.conftest import AUTH, PIN, serve


def login(base: str, pin: str = PIN) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    return session, session.post(f"{base}/api/login", json={"pin": pin})


def test_the_pin_sets_a_strict_httponly_cookie_and_gives_the_csrf_token(served):
    assert requests.get(f"{served.base}/api/login").json() == {"authenticated": False, "pin": True, "csrf": None}
    session, r = login(served.base)
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert {"HttpOnly", "SameSite=Strict", "Path=/", f"Max-Age={int(LIFETIME)}"} <= set(cookie.split("; "))
    body = r.json()
    assert body["authenticated"] is True and len(body["csrf"]) == 43
    assert session.get(f"{served.base}/api/login").json() == body
    assert session.get(f"{served.base}/api/state").status_code == 200


def test_a_change_from_the_cookie_needs_the_csrf_token(served):
    session, r = login(served.base)
    csrf = r.json()["csrf"]
    for headers in ({}, {"X-CSRF-Token": "x" * 43}):
        r = session.post(f"{served.base}/api/presets/calm", headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "csrf")
    assert served.app.room.snapshot()["preset"] is None
    r = session.post(f"{served.base}/api/presets/calm", headers={"X-CSRF-Token": csrf})
    assert (r.status_code, r.json()) == (200, {"preset": "calm"})
    r = session.post(f"{served.base}/api/logout", headers={"X-CSRF-Token": csrf})
    assert r.json()["authenticated"] is False and session.get(f"{served.base}/api/state").status_code == 401


def test_a_change_from_another_site_is_refused_even_with_the_token(served):
    r = requests.post(f"{served.base}/api/presets/emergency", headers={**AUTH, "Origin": "http://elsewhere.example"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "cross_origin")
    assert served.app.room.snapshot()["preset"] is None
    r = requests.post(f"{served.base}/api/presets/calm", headers={**AUTH, "Origin": served.base})
    assert r.status_code == 200


def test_pin_tries_are_limited_but_a_logged_in_panel_is_never_locked_out(served):
    panel, r = login(served.base)
    csrf = r.json()["csrf"]
    for _ in range(5):
        assert login(served.base, "0000")[1].status_code == 401
    _, r = login(served.base)                                       # even the right PIN waits now
    assert (r.status_code, r.json()["error"]["code"]) == (429, "too_many_tries")
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    r = panel.post(f"{served.base}/api/presets/calm", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200


@pytest.mark.parametrize("body,status", [({"pin": ""}, 422), ({"code": PIN}, 422), ("2468", 400)])
def test_a_malformed_login_is_refused(served, body, status):
    assert requests.post(f"{served.base}/api/login", json=body).status_code == status
    assert requests.post(f"{served.base}/api/login", data=f'{{"pin": "{PIN}"}}').status_code == 415


def test_a_login_survives_a_restart_slides_on_use_and_ends_with_a_pin_change(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id)
    session, _ = login(room.base)
    room.stop()
    table = tmp_path / "data" / "web-logins-panel.json"   # the server's logins: its cookie issued an hour ago
    kept = json.loads(table.read_text())
    (record,) = kept["logins"].values()
    record["issued"] -= 3600
    table.write_text(json.dumps(kept))
    room = serve(tmp_path, broker, room_id)
    try:
        r = session.get(f"{room.base}/api/state")
        assert r.status_code == 200 and f"Max-Age={int(LIFETIME)}" in r.headers["Set-Cookie"]
        assert "Max-Age" not in session.get(f"{room.base}/api/state").headers.get("Set-Cookie", "")
    finally:
        room.stop()
    room = serve(tmp_path, broker, room_id, pin="1357")
    try:
        assert session.get(f"{room.base}/api/state").status_code == 401
    finally:
        room.stop()


def test_with_neither_pin_nor_token_the_loopback_api_is_open(tmp_path, broker, room_id):
    settings = WebSettings(host="127.0.0.1", port=0)
    assert Auth(settings, tmp_path).open
    room = serve(tmp_path, broker, room_id, pin=None, api_token=None)
    try:
        assert requests.get(f"{room.base}/api/login").json() == {"authenticated": True, "pin": False, "csrf": None}
        assert requests.post(f"{room.base}/api/presets/calm").status_code == 200
    finally:
        room.stop()
