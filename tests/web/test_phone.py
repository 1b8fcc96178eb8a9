"""A phone is a first-class panel (issue 11, part 2), in real Chromium with mobile emulation (device
metrics and touch): nothing wider than the screen, Calm and Emergency whole on the first screen, a login
that fits; the phase is named in full and the timeline names the next one in full; the editor's fields do not overlap
and its drop-downs are big and styled; a toast never covers the dock or the button just pressed."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.session.test_profile_editor_api import ADMIN_PIN
from tests.web.conftest import AUTH, TABLET, device, serve
from tests.web.panel import Panel

PHONES = {"360x740": (360, 740), "390x844": (390, 844)}
SIZES = {"tablet landscape": TABLET, "tablet portrait": (800, 1280), **PHONES}

BOX = "const r = arguments[0].getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};"


def box(driver, element) -> dict:
    return driver.execute_script(BOX, element)


def inside(driver, element, width: int, height: int) -> bool:
    r = box(driver, element)
    return 0 <= r["left"] and r["right"] <= width and 0 <= r["top"] and r["bottom"] <= height


def overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def page_width(driver) -> tuple[int, int]:
    """How wide the page is, and how wide the screen shows it (on a phone the browser widens its layout
    viewport to a page that overflows, so innerWidth alone would hide the fault)."""
    return driver.execute_script("return [document.scrollingElement.scrollWidth, innerWidth]")


@pytest.fixture
def editor_room(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id, admin_pin=ADMIN_PIN)
    yield room
    room.stop()


@pytest.mark.parametrize("calm", [False, True], ids=["", "calm on"])
@pytest.mark.parametrize("session", [False, True], ids=["no session", "session"])
@pytest.mark.parametrize("phone", PHONES)
def test_the_phone_shows_the_whole_panel_without_sideways_scrolling(browser, served, phone, session, calm):
    width, height = PHONES[phone]
    device(browser, width, height, touch=True)
    panel = Panel(browser, served.base).open()
    panel.wait(lambda: panel.shown("login"))
    assert page_width(browser) == [width, width]
    assert inside(browser, panel.find("pin"), width, height)
    assert inside(browser, panel.find("login-form").find_element(By.TAG_NAME, "button"), width, height)
    if session:
        requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "mdma-8h"}).raise_for_status()
    if calm:
        requests.post(f"{served.base}/api/presets/calm", headers=AUTH).raise_for_status()
    panel.login()
    panel.wait(lambda: panel.shown("panel") and panel.text("link") == "Live")
    panel.wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".timeline li" if session else ".profiles li"),
               what="the session card filled in")
    if calm:
        panel.wait_text("preset-status", "Calm is on")
    assert browser.execute_script("return scrollY") == 0
    assert page_width(browser) == [width, width]
    shown = ["calm", "emergency"] + (["release"] if calm else [])
    assert [name for name in shown if not inside(browser, panel.find(name), width, height)] == []
    browser.execute_script("scrollTo(0, document.scrollingElement.scrollHeight)")   # the page's end is above the dock
    last = browser.find_elements(By.CSS_SELECTOR, "[data-marker]")[-1]
    panel.wait(lambda: box(browser, last)["bottom"] <= box(browser, browser.find_element(By.CSS_SELECTOR, ".dock"))["top"],
               what="the last button clear of the dock")


@pytest.mark.parametrize("phone", PHONES)
def test_the_timeline_names_the_current_and_the_next_phase_in_full(browser, served, phone):
    device(browser, *PHONES[phone], touch=True)
    requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "mdma-8h"}).raise_for_status()
    served.app.loop.settle()   # the snapshot is published after the batch that answered
    panel = Panel(browser, served.base).open_logged_in()
    phases = [p["name"] for p in served.app.room.snapshot()["session"]["phases"]]
    for index in range(len(phases) - 1):
        panel.wait(lambda index=index: browser.find_element(By.CSS_SELECTOR, ".phase-name").text == phases[index]
                   and browser.execute_script("return document.querySelector('.timeline li.now .name').textContent")
                   == phases[index], what=f"phase {phases[index]}")
        assert browser.find_element(By.CSS_SELECTOR, ".timeline summary .name").text == phases[index + 1]
        cut = browser.execute_script(
            "return [...document.querySelectorAll('.phase, .timeline .upcoming')]"
            ".filter((s) => s.scrollWidth > s.clientWidth || s.getClientRects().length === 0).map((s) => s.textContent);")
        assert cut == [], f"cut at phase {phases[index]}"
        assert page_width(browser) == [PHONES[phone][0]] * 2
        requests.post(f"{served.base}/api/session/next", headers=AUTH).raise_for_status()


@pytest.mark.parametrize("size", ["tablet portrait", "390x844"])
def test_the_editor_fields_do_not_overlap_and_its_drop_downs_are_big(browser, editor_room, size):
    width, height = SIZES[size]
    device(browser, width, height, touch=True)
    panel = Panel(browser, editor_room.base).open_logged_in()
    panel.tap("tools-open")
    panel.wait(lambda: panel.shown("admin-login"))
    panel.find("admin-pin").send_keys(ADMIN_PIN)
    panel.find("admin-login").submit()
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[aria-label="Edit Ketamine, about 1 hour"]').click()
               or True, what="the profile list")
    kind = panel.wait(lambda: panel.find("f-kind"))
    reminders = browser.find_element(By.XPATH, '//fieldset[legend="Phase 1"]//details[summary[starts-with(., "Reminders")]]')
    browser.execute_script("arguments[0].open = true", reminders)
    fields = reminders.find_elements(By.CSS_SELECTOR, ".reminders > div .field, .reminders > div > button")
    assert len(fields) >= 4
    boxes = [box(browser, f) for f in fields]
    assert [(i, j) for i in range(len(boxes)) for j in range(i) if overlap(boxes[i], boxes[j])] == []
    for field in reminders.find_elements(By.CSS_SELECTOR, ".reminders > div .field"):  # each input within its field
        outer, input_ = box(browser, field), box(browser, field.find_element(By.TAG_NAME, "input"))
        assert outer["left"] <= input_["left"] and input_["right"] <= outer["right"]
    style = browser.execute_script(
        "const s = getComputedStyle(arguments[0]), t = getComputedStyle(document.getElementById('f-name'));"
        "return [arguments[0].getBoundingClientRect().height, s.borderRadius === t.borderRadius,"
        " s.backgroundColor === t.backgroundColor, s.color === t.color, s.fontSize === t.fontSize];", kind)
    assert style[0] >= 44 and all(style[1:]), style
    dialog_right = box(browser, panel.find("tools"))["right"]
    assert dialog_right <= width


@pytest.mark.parametrize("size", SIZES)
def test_a_toast_covers_neither_the_dock_nor_the_button_pressed(browser, served, size):
    width, height = SIZES[size]
    device(browser, width, height, touch=width < 900)
    requests.post(f"{served.base}/api/presets/calm", headers=AUTH).raise_for_status()
    panel = Panel(browser, served.base).open_logged_in()
    panel.wait_text("preset-status", "Calm is on")
    for label in ("Client resting", "Distress"):
        pressed = panel.button(label)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pressed)
        pressed.click()
        panel.wait(lambda label=label: "shown" in panel.find("toast").get_attribute("class")
                   and panel.text("toast").endswith(label.lower()),
                   what="the note's toast")
        toast = box(browser, panel.find("toast"))
        covered = [name for name in ("calm", "emergency", "release", "preset-status")
                   if overlap(toast, box(browser, panel.find(name)))]
        assert covered == [] and not overlap(toast, box(browser, pressed)), (covered, toast)
