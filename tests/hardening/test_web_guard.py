"""Every page of ours is guarded alike: the panel's and the clinic overview's answer only to their own names,
send the same security headers, and say every error in JSON (a bad request a 4xx, a bug a logged 500),
never Flask's HTML page. HTTPS through Caddy adds HSTS."""

from __future__ import annotations

import logging

import pytest
import requests

from room_controller.app import App
from room_controller.integrations.overview import ClinicConfig, Overview
from room_controller.webapp.routes import Route
from room_controller.webapp.security import SECURITY_HEADERS
from tests.deploy.test_tls import front, needs_caddy  # noqa: F401  (the fixture: Caddy in front of serve)
from tests.hardening.conftest import PIN
from tests.rooms import load
from tests.strain.conftest import LIGHTS, PLACES


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def is_json_error(r: requests.Response, status: int, code: str) -> bool:
    return (r.status_code, r.headers["Content-Type"], r.json()["error"]["code"]) == (status, "application/json", code)


def test_a_csrf_token_that_is_not_ascii_is_refused_as_any_wrong_token(served, caplog):
    """hmac.compare_digest raises TypeError on a str that is not ASCII: it was Flask's HTML 500, and the
    early start of calm (webapp.http.EarlyCalm) logged a traceback for it."""
    caplog.set_level(logging.WARNING)
    panel = requests.Session()
    assert panel.post(f"{served.base}/api/login", json={"pin": PIN}).status_code == 200
    for token in ("tökén".encode(), "é".encode("latin-1"), b"\xff" * 43):
        for method, path in (("POST", "/api/presets/calm"), ("POST", "/api/notes")):
            r = panel.request(method, f"{served.base}{path}", headers={"X-CSRF-Token": token}, json={"text": "x"})
            assert is_json_error(r, 403, "csrf"), (token, path, r.text)
            assert r.json()["error"]["message"] == "send the X-CSRF-Token header given at login with every change"
    assert served.app.room.snapshot()["preset"] is None
    assert not errors(caplog)


def broken(room) -> dict:
    return {}["a bug"]


@pytest.fixture
def room_with_a_bug(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES, web={"host": "127.0.0.1", "port": 0})
    app = App(config, catalogue, audio=False, routes=(Route("GET", "/api/broken", broken, "A route with a bug"),)
              ).start()
    yield f"http://127.0.0.1:{app.web.port}"
    app.stop()


@pytest.mark.slow
def test_a_bug_in_a_route_is_a_json_500_and_logged_with_its_traceback(room_with_a_bug, caplog):
    caplog.set_level(logging.ERROR)
    r = requests.get(f"{room_with_a_bug}/api/broken")
    assert is_json_error(r, 500, "internal_error")
    assert r.json()["error"]["message"] == "the room could not answer this request; its log says why"
    assert r.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    (record,) = errors(caplog)
    assert record.getMessage() == "GET /api/broken failed" and record.exc_info[0] is KeyError
    assert requests.get(f"{room_with_a_bug}/api/health").status_code == 200   # the server carries on


@pytest.fixture
def overview(broker):
    service = Overview(ClinicConfig.model_validate({
        "mqtt": {"host": broker.host, "port": broker.port, "base_topic": "therapy-room"},
        "web": {"port": 0, "allowed_hosts": ["overview.clinic.lan"]}})).start()
    yield f"http://127.0.0.1:{service.web.port}"
    service.stop()


def test_the_overview_answers_only_to_its_own_names(overview):
    """DNS rebinding: a page on evil.example whose name now points at the overview would read every room."""
    port = overview.rsplit(":", 1)[1]
    for path in ("/", "/api/rooms", "/api/events", "/static/overview.css"):
        r = requests.get(f"{overview}{path}", headers={"Host": f"evil.example:{port}"}, stream=True)
        assert is_json_error(r, 421, "unknown_host"), path
        assert r.json()["error"]["message"] == (f"this room does not answer to 'evil.example:{port}'; add the name "
                                                "to web.allowed_hosts if the panel is reached by it")
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", f"overview.clinic.lan:{port}"):
        assert requests.get(f"{overview}/api/rooms", headers={"Host": host}).status_code == 200, host


def test_the_overview_sends_the_panels_headers_and_json_errors(overview):
    for path in ("/", "/api/rooms", "/static/overview.css", "/no-such-page"):
        headers = requests.get(f"{overview}{path}").headers
        assert {name: headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS, path
        assert headers["Cache-Control"] in ("no-store", "no-cache"), path
    assert is_json_error(requests.get(f"{overview}/no-such-page"), 404, "not_found")
    assert is_json_error(requests.post(f"{overview}/api/rooms"), 405, "method_not_allowed")


@needs_caddy
@pytest.mark.slow
def test_https_through_caddy_tells_the_browser_to_keep_to_https(front):  # noqa: F811
    """HSTS: a tablet that has met the room over HTTPS never sends the PIN in plain HTTP to its name again."""
    for path in ("/", "/api/health", "/static/panel.css"):
        r = requests.get(f"{front.base}{path}", verify=front.ca, timeout=10)
        assert r.headers["Strict-Transport-Security"] == "max-age=31536000", path
        assert r.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    plain = requests.get(f"http://localhost:{front.http_port}/room-ca.crt", timeout=10)
    assert "Strict-Transport-Security" not in plain.headers   # over plain HTTP a browser ignores it (RFC 6797 8.1)
