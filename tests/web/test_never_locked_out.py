"""The therapist can always get in (issue 23 §1), in real Chromium: while wrong PINs from rotating addresses
hold the room-wide PIN limit shut, an open panel presses Calm after its idle time in a session and the room
goes calm, and the same browser, its login gone, logs in again with the PIN (its device cookie); out of a
session the panel warns before its login would end, one tap renews it, and at the end it shows the PIN screen
saying why. No request of the panel is ever answered 401."""

from __future__ import annotations

import re

import pytest
import requests
from selenium.webdriver.common.by import By

from room_controller.infrastructure.clock import ManualClock
from room_controller.webapp.auth import COOKIE
from tests.hardening.conftest import serve as serve_on_clock
from tests.hardening.test_lockout import Attacker, attempt
from tests.web.conftest import AUTH, PIN, serve
from tests.web.panel import Panel

REFUSED = "return performance.getEntriesByType('resource').filter((e) => e.responseStatus === 401).map((e) => e.name)"


def preset(base: str) -> str | None:
    return requests.get(f"{base}/api/state", headers=AUTH).json()["preset"]


@pytest.fixture
def room(tmp_path, broker, room_id):
    """On the test clock, so the idle minute passes when the test says."""
    served = serve_on_clock(tmp_path, broker, room_id, ManualClock(), idle_logout="1m")
    yield served
    served.app.stop()


def test_an_open_panel_calms_the_room_after_its_idle_time_while_the_pin_limit_is_shut(browser, room):
    assert requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).ok
    panel = Panel(browser, room.base).open_logged_in()                  # a phone: not the room's tablet
    closed = requests.Session()                                         # a login with no panel open
    assert closed.post(f"{room.base}/api/login", json={"pin": PIN}).status_code == 200
    panel.wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".phase-name"), what="the session")
    attacker = Attacker(room.base)
    try:
        assert attacker.locked.wait(60), attacker.statuses
        room.clock.advance(5 * 60)                     # five idle minutes on the room's clock, untouched
        assert closed.get(f"{room.base}/api/state").status_code == 401   # the idle time has passed
        assert attempt(room.base, PIN, "127.9.9.9")[0] == 429          # an untrusted browser waits
        assert panel.shown("panel") and not panel.shown("login") and not panel.shown("idle")
        panel.tap("calm")
        panel.wait(lambda: preset(room.base) == "calm", what="the room to go calm")
        assert browser.execute_script(REFUSED) == []

        browser.delete_cookie(COOKIE)                  # its login gone (ended, or logged out elsewhere)
        panel.open().login()                           # the PIN, while the room-wide limit is still shut
        panel.wait(lambda: panel.shown("panel") and panel.text("link") == "Live", what="the panel, live")
        assert attempt(room.base, PIN, "127.9.9.10")[0] == 429
    finally:
        statuses = attacker.stop()
    assert 429 in statuses


def test_out_of_a_session_the_panel_warns_one_tap_renews_and_the_end_is_said(browser, tmp_path, broker, room_id):
    served = serve(tmp_path, broker, room_id, idle_logout="1m")   # real time: the browser counts with the server
    try:
        panel = Panel(browser, served.base).open_logged_in()
        panel.wait(lambda: panel.shown("idle"), timeout=60, what="the warning, 15 s before the minute is over")
        assert re.fullmatch(r"Not used for a while: this panel logs out at [^.]+\. Stay logged in",
                            panel.text("idle")), panel.text("idle")
        assert panel.shown("panel") and not panel.shown("login")
        panel.tap("idle-stay")                                          # one tap
        panel.wait(lambda: not panel.shown("idle"), what="the warning to go")

        panel.wait(lambda: panel.shown("idle"), timeout=60, what="the warning again, a minute after the tap")
        kept = requests.get(f"{served.base}/api/login", cookies={COOKIE: browser.get_cookie(COOKIE)["value"]})
        assert kept.json()["authenticated"] is True    # past the first minute: the tap renewed it on the server
        panel.wait(lambda: panel.shown("login"), timeout=30, what="the PIN screen")
        assert panel.text("login-message") == "Logged out after 1 min unused. Enter the PIN to go on."
        assert browser.execute_script(REFUSED) == []
    finally:
        served.stop()
