"""Two panel controls in Chromium, on a real broker: after a reboot without network time the session card
offers one control to set the session time (then a confirmation), and the login form marks the room's own
tablet, whose login the server then never ends for being unused."""

from __future__ import annotations

import json

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.hardening.test_clock import start_and_reboot
from tests.web.conftest import AUTH, TABLET, browser, chrome, device, served  # noqa: F401 - fixtures
from tests.web.panel import Panel

PHONE = (360, 740)   # the narrowest phone the panel is made for


def retype(panel: Panel, element_id: str, text: str) -> None:
    field = panel.find(element_id)
    field.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    field.send_keys(text)


def test_after_an_unsynchronised_reboot_the_therapist_sets_the_session_time(browser, tmp_path, broker, room_id):
    room = start_and_reboot(tmp_path, broker, room_id, synchronised=False)   # resumed at 2 h, the gap unknown
    try:
        device(browser, *TABLET, touch=True)
        panel = Panel(browser, room.base).open_logged_in()
        panel.wait(lambda: panel.shown("session-clock"), what="the session time's correction")
        assert "could not tell how long it was off" in panel.text("session-clock")
        panel.tap("clock-open")
        panel.wait(lambda: panel.shown("set-clock"), what="the confirmation")
        assert (panel.find("clock-hours").get_attribute("value"), panel.find("clock-minutes").get_attribute("value")) \
            == ("2", "0")                                                     # what the room believes now
        retype(panel, "clock-minutes", "75")
        assert not panel.find("clock-confirm").is_enabled()                  # not a time: nothing to confirm
        retype(panel, "clock-minutes", "40")
        assert panel.text("clock-confirm") == "Set to 2:40"
        panel.tap("clock-confirm")
        panel.wait(lambda: panel.text("toast") == "Session time set to 2:40", what="the confirmation toast")
        assert requests.get(f"{room.base}/api/state", headers=AUTH).json()["session"]["elapsed_s"] == 2 * 3600 + 40 * 60
        panel.wait(lambda: not panel.shown("session-clock"), what="the correction to go once the time is set")
    finally:
        room.app.stop()


def test_the_correction_is_a_cancel_away_and_in_german(browser, tmp_path, broker, room_id):
    room = start_and_reboot(tmp_path, broker, room_id, synchronised=False)
    try:
        device(browser, *PHONE, touch=True)
        panel = Panel(browser, room.base).open()
        browser.execute_script("localStorage.setItem('panel-language', 'de')")
        panel.open_logged_in()
        panel.wait(lambda: panel.text("clock-open") == "Sitzungszeit einstellen", what="the control in German")
        assert browser.execute_script("return document.scrollingElement.scrollWidth") <= PHONE[0]
        panel.tap("clock-open")
        panel.wait(lambda: panel.text("clock-confirm") == "Auf 2:00 stellen", what="the German confirmation")
        retype(panel, "clock-hours", "3")
        panel.tap("clock-cancel")
        panel.wait(lambda: not panel.shown("set-clock"), what="the dialog to close")
        assert requests.get(f"{room.base}/api/state", headers=AUTH).json()["session"]["elapsed_s"] == 2 * 3600
        assert panel.shown("session-clock")                                   # still there until it is set
    finally:
        browser.execute_script("localStorage.removeItem('panel-language')")
        room.app.stop()


def logins(served) -> list[bool]:
    table = json.loads((served.app.config.data_dir / "web-logins-panel.json").read_text())
    return sorted(record["tablet"] for record in table["logins"].values())


def test_the_rooms_tablet_says_so_at_login_and_remembers_it(browser, served):
    device(browser, *TABLET, touch=True)
    panel = Panel(browser, served.base).open()
    panel.wait(lambda: panel.shown("login"))
    assert panel.find("tablet").get_attribute("type") == "checkbox" and not panel.find("tablet").is_selected()
    label = browser.find_element(By.CSS_SELECTOR, "label[for='tablet']")
    assert label.text == "This is the room's tablet: stay logged in" and label.size["height"] >= 48
    label.click()                                                            # the whole line is the target
    panel.login()
    panel.wait(lambda: panel.shown("panel") and panel.text("link") == "Live")
    assert logins(served) == [True]

    browser.delete_all_cookies()                                             # logged out: the tablet still knows
    panel.open()
    panel.wait(lambda: panel.shown("login"))
    assert panel.find("tablet").is_selected()
    panel.find("tablet").click()                                             # a therapist's own phone: untick
    panel.login()
    panel.wait(lambda: panel.shown("panel") and panel.text("link") == "Live")
    assert logins(served) == [False, True]
    browser.execute_script("localStorage.removeItem('room-tablet')")
