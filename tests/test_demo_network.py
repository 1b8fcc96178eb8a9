"""`room-controller demo --host 0.0.0.0` as a newcomer tries it on a tablet: it prints where the tablet opens
the panel, and the panel answers and logs in there over plain HTTP, while the demo's broker stays private."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess

import pytest
import requests

from tests.broker import free_port
from tests.test_demo import Demo

pytestmark = pytest.mark.slow

PLAIN_HTTP = ("plain HTTP: the PIN and everything the panel shows cross the network unencrypted; try the demo only "
              "on the clinic's own Wi-Fi")
NO_NETWORK = ("this computer has no network address besides loopback, so no tablet can reach the demo: connect it "
              "to the Wi-Fi (or a cable) and start the demo again")


def global_addresses() -> set[str]:
    """This machine's IPv4 addresses beyond loopback, as `ip` lists them (not as the demo finds them)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"inet ([\d.]+)/", out))


def stop(demo: Demo) -> None:
    demo.proc.send_signal(signal.SIGTERM)
    try:
        assert demo.proc.wait(20) == 0
    finally:
        if demo.proc.poll() is None:
            demo.proc.kill()


def test_a_tablet_opens_the_printed_address_and_logs_in_over_plain_http():
    addresses = global_addresses()
    if not addresses:
        pytest.skip("this machine has only loopback: the message saying so is tested in a namespace below")
    port = free_port()
    demo = Demo("--host", "0.0.0.0", "--port", str(port))
    try:
        tablet_line = next(line for line in demo.lines if line.startswith("on a tablet on this network: "))
        printed = re.findall(r"http://([\d.]+):(\d+)/", tablet_line)
        assert {host for host, _ in printed} == addresses and {int(p) for _, p in printed} == {port}
        assert tablet_line.rstrip().endswith(f"PIN {demo.pin}")
        assert PLAIN_HTTP + "\n" in demo.lines
        for host in sorted(addresses):
            base = f"http://{host}:{port}"
            with requests.Session() as tablet:
                page = tablet.get(f"{base}/", timeout=5)
                assert page.status_code == 200 and '<title data-i18n="panel.title">' in page.text
                login = tablet.post(f"{base}/api/login", json={"pin": demo.pin}, headers={"Origin": base}, timeout=5)
                assert (login.status_code, login.json()["authenticated"]) == (200, True)
                cookie = next(c for c in tablet.cookies if c.name == "room_panel")
                assert not cookie.secure   # plain HTTP: a Secure cookie would never come back
                state = tablet.get(f"{base}/api/state", timeout=5)
                assert (state.status_code, state.json()["room"]["id"]) == (200, "demo")
            with socket.socket() as s, pytest.raises(ConnectionRefusedError):   # the broker: loopback only
                s.settimeout(5)
                s.connect((host, demo.broker.port))
    finally:
        stop(demo)


@pytest.fixture
def loopback_only():
    """A network namespace with nothing but loopback: a computer on no network."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2")
    name = f"room-demo-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield ("ip", "netns", "exec", name)
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def test_on_no_network_the_demo_says_no_tablet_can_reach_it(loopback_only):
    demo = Demo("--host", "0.0.0.0", "--port", str(free_port()), prefix=loopback_only)
    try:
        assert NO_NETWORK + "\n" in demo.lines
        assert not any(line.startswith("on a tablet") for line in demo.lines)
    finally:
        stop(demo)
