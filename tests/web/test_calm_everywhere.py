"""Calm from every screen (issue 22, part 1), in real Chromium with touch at two tablet and two phone sizes,
and in WebKit at the two tablet sizes.

The test finds every dialog and overlay from the page itself: each <dialog>, popover, role=dialog and every
element fixed on the screen except the dock. Each says in `data-opened-by` what opens it, and OPENERS here
knows how to get there, so a new overlay without a way to open it in this test fails it. With each one open
(on a page scrolled to its end first), Calm, Emergency and the release control are whole on the screen and
topmost at their centres; a real tap at Calm's centre brings calm (the room's state over the API says so),
the release control beside it ends it, and the dialog is still open, whatever was typed in it kept.
"""

from __future__ import annotations

import time

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from room_controller.infrastructure.clock import ManualClock
from tests.hardening.conftest import serve
from tests.session.test_profile_editor_api import ADMIN_PIN
from tests.web.conftest import AUTH, device
from tests.web.panel import Panel
from tests.web.webkit import viewport as webkit_viewport

SIZES = {"1024x768": (1024, 768), "768x1024": (768, 1024), "390x844": (390, 844), "360x740": (360, 740)}

OVERLAYS = """
const dock = document.querySelector('.dock');
return [...document.querySelectorAll('body *')]
  .filter((e) => e !== dock && !dock.contains(e))
  .filter((e) => e.matches('dialog, [popover], [role=dialog], [role=alertdialog]')
                 || getComputedStyle(e).position === 'fixed')
  .map((e) => [e.id || e.outerHTML.slice(0, 80), e.dataset.openedBy ?? null]);
"""
TOPMOST = """
const r = arguments[0].getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
const hit = document.elementFromPoint(x, y);
return {x, y, inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight && r.width > 0,
        topmost: hit !== null && arguments[0].contains(hit), hit: hit ? (hit.id || hit.tagName) : null};
"""


@pytest.fixture
def room(tmp_path, broker, room_id):
    """A room after a reboot without network time (the session card offers to set the session time), in a
    session of two hours, with a past session whose report can be opened, and an admin PIN for the tools."""
    clock = ManualClock()
    first = serve(tmp_path, broker, room_id, clock, admin_pin=ADMIN_PIN)
    for profile in ("ketamine-1h", "psilocybin-8h"):
        requests.post(f"{first.base}/api/session", headers=AUTH, json={"profile": profile}).raise_for_status()
        if profile == "ketamine-1h":
            clock.advance(600)
            requests.post(f"{first.base}/api/session/stop", headers=AUTH).raise_for_status()
    clock.advance(2 * 3600)
    first.app.stop()
    after = ManualClock(start=50.0, wall_start=clock.wall() + 1800, boot="boot-2", synchronised=False)
    served = serve(tmp_path, broker, room_id, after, admin_pin=ADMIN_PIN)
    yield served
    served.app.stop()


def tap_at(driver, x: float, y: float) -> None:
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(int(x), int(y)).click()
    actions.perform()


def close_by(panel: Panel, button: str) -> None:
    """Tap a dialog's closing button as a finger would, once it is on screen, nothing lies over it and it has
    stopped moving: the dialog sits beside the dock, which settles after calm's release (a tap where the button
    was a moment before lands on the dialog's form, seen in WebKit)."""
    driver, element = panel.driver, panel.find(button)
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", element)
    seen: list[dict] = []

    def settled() -> dict | None:
        at = driver.execute_script(TOPMOST, element)
        steady = bool(seen) and (seen[-1]["x"], seen[-1]["y"]) == (at["x"], at["y"])
        seen.append(at)
        time.sleep(0.1)
        return at if steady and at["inside"] and at["topmost"] else None

    spot = panel.wait(settled, what=f"{button} in reach and still")
    tap_at(driver, spot["x"], spot["y"])


def preset(room) -> str | None:
    return requests.get(f"{room.base}/api/state", headers=AUTH).json()["preset"]


def admin_login(panel: Panel) -> None:
    panel.wait(lambda: panel.shown("admin-login") or panel.driver.find_elements(By.CSS_SELECTOR, "#tools-body .profiles"),
               what="the tools' admin login or their list")
    if panel.shown("admin-login"):
        panel.find("admin-pin").send_keys(ADMIN_PIN)
        panel.find("admin-login").submit()


# -- how each overlay is opened; a generator yields at each state worth a tap on Calm ---------------------

def open_tools(panel: Panel):
    panel.tap("tools-open")
    panel.wait(lambda: panel.shown("tools"), what="the clinic tools")
    yield "tools"
    admin_login(panel)
    edit = '[aria-label="Edit Ketamine, about 1 hour"]'
    panel.wait(lambda: panel.driver.find_element(By.CSS_SELECTOR, edit).click() or True, what="the profile list")
    name = panel.wait(lambda: panel.find("f-name"), what="the profile editor")
    for summary in panel.driver.find_elements(By.CSS_SELECTOR, "#profile-form summary"):
        panel.driver.execute_script("arguments[0].parentElement.open = true", summary)
    name.send_keys(" (draft)")
    last = panel.driver.find_elements(By.CSS_SELECTOR, "#profile-form input")[-1]
    panel.driver.execute_script("arguments[0].scrollIntoView()", last)   # the editor scrolled within the dialog
    yield "tools"
    assert panel.find("f-name").get_attribute("value").endswith(" (draft)")   # a tap on Calm kept the edit
    close_by(panel, "tools-close")


def open_stop(panel: Panel):
    panel.wait(lambda: panel.tap("session-stop") or True, what="the session's Stop")
    yield "confirm-stop"
    panel.find("confirm-stop").find_element(By.CSS_SELECTOR, "button[value=keep]").click()


def open_clock(panel: Panel):
    panel.wait(lambda: panel.tap("clock-open") or True, what="the session time's correction")
    yield "set-clock"
    close_by(panel, "clock-cancel")


def open_ask(panel: Panel):
    panel.tap("tools-open")
    admin_login(panel)
    delete = '[aria-label="Delete Ketamine, about 1 hour"]'
    panel.wait(lambda: panel.driver.find_element(By.CSS_SELECTOR, delete).click() or True, what="the profile list")
    panel.wait(lambda: panel.shown("ask"), what="the question")
    yield "ask"
    panel.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)   # Escape closes the top dialog only
    panel.wait(lambda: not panel.shown("ask") and panel.shown("tools"), what="the question gone, the tools still open")
    close_by(panel, "tools-close")


def open_report(panel: Panel):
    past = panel.find("past")
    if not past.get_attribute("open"):
        past.find_element(By.TAG_NAME, "summary").click()
    link = panel.wait(lambda: panel.driver.find_element(By.CSS_SELECTOR, "#past-list a"), what="a past session")
    panel.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    panel.wait(lambda: panel.shown("report"), what="the report")
    frame = panel.find("report-frame")
    panel.driver.switch_to.frame(frame)
    try:
        panel.wait(lambda: panel.driver.find_element(By.TAG_NAME, "h1").text.startswith("Session report"),
                   what="the report in its frame")
    finally:
        panel.driver.switch_to.default_content()
    yield "report"
    close_by(panel, "report-close")


def show_toast(panel: Panel):
    marker = panel.driver.find_element(By.CSS_SELECTOR, "[data-marker]")
    panel.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", marker)
    marker.click()
    panel.wait(lambda: "shown" in panel.find("toast").get_attribute("class"), what="the note's toast")
    yield "toast"


OPENERS = {"tools-open": open_tools, "session-stop": open_stop, "clock-open": open_clock,
           "profile-delete": open_ask, "past-report": open_report, "note": show_toast}


def overlays(driver) -> dict[str, str | None]:
    return dict(driver.execute_script(OVERLAYS))


def calm_in_reach(panel: Panel, room, what: str) -> None:
    driver = panel.driver
    open_before = driver.execute_script("return [...document.querySelectorAll('dialog[open]')].map((d) => d.id)")
    for name in ("calm", "emergency"):
        spot = driver.execute_script(TOPMOST, panel.find(name))
        assert spot["inside"] and spot["topmost"], f"{name} with {what} open: {spot}"
    calm = driver.execute_script(TOPMOST, panel.find("calm"))
    tap_at(driver, calm["x"], calm["y"])
    panel.wait(lambda: preset(room) == "calm", what=f"calm after a tap on Calm with {what} open")
    release = panel.wait(lambda: panel.shown("release") and panel.find("release").is_enabled() and panel.find("release"),
                         what="the release control")
    spot = driver.execute_script(TOPMOST, release)
    assert spot["inside"] and spot["topmost"], f"release with {what} open: {spot}"
    tap_at(driver, spot["x"], spot["y"])
    panel.wait(lambda: preset(room) is None, what=f"calm released with {what} open")
    assert driver.execute_script("return [...document.querySelectorAll('dialog[open]')].map((d) => d.id)") == open_before
    unknown = {k: v for k, v in overlays(driver).items() if v not in OPENERS}
    assert unknown == {}, f"overlays with no way to open them in this test (data-opened-by): {unknown}"


@pytest.mark.parametrize("size", SIZES)
def test_calm_works_with_every_dialog_and_overlay_open(browser, room, size):
    device(browser, *SIZES[size], touch=True)
    panel = Panel(browser, room.base).open_logged_in()
    panel.wait(lambda: panel.shown("clock-open"), what="the session time's correction")
    found = overlays(browser)
    assert {"tools", "confirm-stop", "set-clock", "ask", "report", "toast"} <= set(found)
    missing = {k: v for k, v in found.items() if v not in OPENERS}
    assert missing == {}, f"overlays with no way to open them in this test (data-opened-by): {missing}"
    for opener in sorted({v for v in found.values() if v}):
        browser.execute_script("scrollTo(0, document.scrollingElement.scrollHeight)")
        for shown in OPENERS[opener](panel):
            assert panel.shown(shown)
            calm_in_reach(panel, room, f"{shown} ({opener})")
        panel.wait(lambda: not browser.execute_script("return document.querySelector('dialog[open]')"),
                   what=f"every dialog closed after {opener}")
    # a dialog's close event, which lifts the shade, comes a task after it closes
    panel.wait(lambda: browser.execute_script("return [...document.querySelectorAll('[inert]')].length") == 0,
               what="the panel no longer inert once its dialogs closed")


@pytest.mark.parametrize("size", ["1024x768", "768x1024"])
def test_calm_works_with_every_dialog_and_overlay_open_in_webkit(safari, room, size):
    """The same in WebKit (the engine of the tablets that are iPads), at the tablet sizes, tapped with a mouse:
    WebKitGTK's driver has no touch."""
    webkit_viewport(safari, *SIZES[size])
    panel = Panel(safari, room.base).open_logged_in()
    panel.wait(lambda: panel.shown("clock-open"), what="the session time's correction")
    found = overlays(safari)
    assert {"tools", "confirm-stop", "set-clock", "ask", "report", "toast"} <= set(found)
    for opener in sorted({v for v in found.values() if v}):
        safari.execute_script("scrollTo(0, document.scrollingElement.scrollHeight)")
        for shown in OPENERS[opener](panel):
            panel.wait(lambda shown=shown: panel.shown(shown), what=f"{shown} shown")   # a toast fades in
            calm_in_reach(panel, room, f"{shown} ({opener}, WebKit)")
        panel.wait(lambda: not safari.execute_script("return document.querySelector('dialog[open]')"),
                   what=f"every dialog closed after {opener}")


def test_a_dialog_answers_the_keyboard_and_hands_focus_back(browser, room):
    device(browser, 1024, 768)
    panel = Panel(browser, room.base).open_logged_in()
    stop = panel.wait(lambda: panel.find("session-stop"), what="the session's Stop")
    stop.click()
    panel.wait(lambda: panel.shown("confirm-stop"))
    active = browser.switch_to.active_element
    assert active.get_attribute("value") == "keep"            # the safe answer has the focus
    assert browser.execute_script("return document.querySelector('main.main').inert")
    assert not browser.execute_script("return document.querySelector('.dock').inert")
    active.send_keys(Keys.ESCAPE)
    panel.wait(lambda: not panel.shown("confirm-stop"), what="Escape to close the dialog")
    assert browser.switch_to.active_element == stop
    assert requests.get(f"{room.base}/api/state", headers=AUTH).json()["session"] is not None
    ActionChains(browser).send_keys(Keys.TAB).perform()   # the page is live again
    assert not browser.execute_script("return document.querySelector('main.main').inert")
