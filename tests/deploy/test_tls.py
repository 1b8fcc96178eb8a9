"""HTTPS on the clinic network, through the real terminator: Caddy runs deploy/Caddyfile unprivileged on high
loopback ports, with a CA made by deploy/tls/make-ca.sh, in front of `room-controller serve` (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from pydantic import ValidationError

from room_controller.config import WebSettings
from tests.broker import free_port
from tests.deploy.serving import PIN, room_file, start, stop, wait_until

pytestmark = pytest.mark.slow   # a real TLS handshake, openssl and Caddy: seconds each

ROOT = Path(__file__).resolve().parents[2]
needs_caddy = pytest.mark.skipif(shutil.which("caddy") is None,
                                 reason="caddy is not installed (deploy/setup.sh --test installs it)")


@dataclass(frozen=True)
class Front:
    base: str           # https://localhost:<port>
    https_port: int
    http_port: int
    ca: Path            # the room CA's certificate, as a tablet trusts it


@pytest.fixture(scope="module")
def front(tmp_path_factory, broker):
    tmp = tmp_path_factory.mktemp("tls")
    subprocess.run([str(ROOT / "deploy" / "tls" / "make-ca.sh"), str(tmp / "ca"), "Therapy room test CA", "localhost"],
                   check=True, capture_output=True)
    config, port = room_file(tmp, broker, "tls-room", trusted_proxy="127.0.0.1")
    serve = start([sys.executable, "-m", "room_controller", "serve", "--config", str(config)], ROOT, tmp / "serve.log",
                  {**os.environ, "PYTHONPATH": str(ROOT)})
    https_port, http_port = free_port(), free_port()
    env = {**os.environ, "HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
           # example.com: a name the CA must not vouch for (its name constraints), asked of Caddy on purpose
           "ROOM_SITES": "localhost, 127.0.0.1, example.com", "ROOM_CA_DIR": str(tmp / "ca"),
           "ROOM_UPSTREAM": f"127.0.0.1:{port}", "ROOM_CADDY_ADMIN": "off", "ROOM_BIND": "127.0.0.1",
           "ROOM_HTTPS_PORT": str(https_port), "ROOM_HTTP_PORT": str(http_port)}
    caddy = start(["caddy", "run", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"], tmp,
                  tmp / "caddy.log", env)
    front = Front(f"https://localhost:{https_port}", https_port, http_port, tmp / "ca" / "room-ca.crt")
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).ok, "serve's health",
                   serve, tmp / "serve.log")
        wait_until(lambda: requests.get(f"{front.base}/api/health", verify=front.ca, timeout=5).ok,
                   "the room's health over HTTPS", caddy, tmp / "caddy.log")
        yield front
    finally:
        stop(caddy)
        stop(serve)


def _handshake(front: Front, name: str) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=front.ca)
    raw = socket.create_connection(("127.0.0.1", front.https_port), timeout=10)
    return context.wrap_socket(raw, server_hostname=name)


def _login(front: Front) -> tuple[requests.Session, str]:
    """As the panel logs in: the PIN from the page's own origin; the CSRF token for changes."""
    session = requests.Session()
    session.trust_env = False   # else REQUESTS_CA_BUNDLE from the environment wins over the session's own CA
    session.verify = str(front.ca)
    session.headers["Origin"] = front.base
    reply = session.post(f"{front.base}/api/login", json={"pin": PIN}, timeout=10)
    assert reply.status_code == 200, reply.text
    return session, reply.json()["csrf"]


@needs_caddy
@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_a_tablet_that_trusts_the_room_ca_completes_the_handshake(front, name):
    with _handshake(front, name) as tls:
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        cert = tls.getpeercert()
    kind = "IP Address" if name[0].isdigit() else "DNS"
    assert (kind, name) in cert["subjectAltName"]
    lifetime = ssl.cert_time_to_seconds(cert["notAfter"]) - ssl.cert_time_to_seconds(cert["notBefore"])
    assert lifetime <= 86400   # short-lived, renewed by Caddy (and far inside iOS's 825 days)


@needs_caddy
def test_the_room_ca_cannot_vouch_for_a_public_name(front):
    with pytest.raises(ssl.SSLCertVerificationError, match="permitted subtree violation"):
        _handshake(front, "example.com")


@needs_caddy
def test_the_pin_logs_in_over_https_and_the_cookie_is_secure(front):
    session, _ = _login(front)
    cookie = next(c for c in session.cookies if c.name == "room_panel")
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
    assert session.get(f"{front.base}/api/state", timeout=10).status_code == 200
    wrong = requests.post(f"{front.base}/api/login", json={"pin": "000000"}, verify=front.ca, timeout=10,
                          headers={"Origin": front.base})
    assert wrong.status_code in (401, 403) and "Set-Cookie" not in wrong.headers


@needs_caddy
def test_the_event_stream_passes_each_change_at_once(front):
    """A buffering proxy would hold the second event (a few hundred bytes) until more came: the read would hang."""
    session, csrf = _login(front)
    with session.get(f"{front.base}/api/events", stream=True, timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        states = (json.loads(line[len(b"data: "):]) for line in stream.iter_lines(chunk_size=1)
                  if line.startswith(b"data: {") and line != b"data: {}")
        assert next(states)["preset"] is None
        pressed = session.post(f"{front.base}/api/presets/calm", headers={"X-CSRF-Token": csrf}, timeout=10)
        assert pressed.status_code == 200, pressed.text
        assert next(s for s in states if s["preset"] == "calm")
    assert session.delete(f"{front.base}/api/presets/active", headers={"X-CSRF-Token": csrf}, timeout=10).ok


@needs_caddy
def test_plain_http_offers_only_the_ca_certificate_and_sends_the_rest_to_https(front):
    plain = f"http://localhost:{front.http_port}"
    ca = requests.get(f"{plain}/room-ca.crt", timeout=10)
    assert ca.content == front.ca.read_bytes()
    assert ca.headers["Content-Type"] == "application/x-x509-ca-cert"
    for path in ("/", "/api/state", "/room-ca.key"):
        moved = requests.get(f"{plain}{path}", allow_redirects=False, timeout=10)
        assert moved.status_code == 308 and moved.headers["Location"] == f"https://localhost:{front.https_port}{path}"


@pytest.mark.parametrize("address", ["192.168.1.5", "localhost", "proxy"])
def test_only_a_proxy_on_this_computer_is_trusted(address):
    with pytest.raises(ValidationError, match="trusted_proxy must be a loopback address"):
        WebSettings(trusted_proxy=address)
    assert WebSettings(trusted_proxy="127.0.0.1").trusted_proxy == "127.0.0.1"


def test_the_room_ca_is_made_once_and_its_key_kept_from_others(tmp_path):
    """Tablets trust the CA: an update (install.sh again) must never replace it."""
    make = [str(ROOT / "deploy" / "tls" / "make-ca.sh"), str(tmp_path), "Therapy room test CA", "room-1.local",
            "100.64.0.7"]
    first = subprocess.run(make, check=True, capture_output=True, text=True).stdout
    cert = (tmp_path / "room-ca.crt").read_bytes()
    again = subprocess.run(make, check=True, capture_output=True, text=True).stdout
    assert (tmp_path / "room-ca.crt").read_bytes() == cert and again == first
    assert first.startswith("sha256 Fingerprint=") or first.startswith("SHA256 Fingerprint=")
    assert (tmp_path / "room-ca.key").stat().st_mode & 0o777 == 0o640
    text = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "room-ca.crt"), "-noout", "-ext", "nameConstraints"],
                          check=True, capture_output=True, text=True).stdout
    # the names and addresses given (this one outside the private ranges), .local, loopback, the private ranges
    for permitted in ("DNS:room-1.local", "IP:100.64.0.7/255.255.255.255", "DNS:local", "IP:127.0.0.0/255.0.0.0",
                      "IP:192.168.0.0/255.255.0.0"):
        assert permitted in text
