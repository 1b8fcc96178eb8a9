"""The report and the panel as a clinician sees them, in real headless Chromium: the report dark on a
portrait tablet (768 px) with the timeline's labels at their size, light in print; the panel in German."""

from __future__ import annotations

import re

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from room_controller import i18n
from tests.web.conftest import AUTH, browser, chrome, device, served  # noqa: F401  (fixtures)
from tests.web.panel import Panel

pytestmark = pytest.mark.slow

PORTRAIT = (768, 1024)


def luminance(css_colour: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css_colour)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.fixture
def finished(served):  # noqa: F811
    """A session with a note, calm and a reminder acknowledged, stopped: its report's address."""
    base = served.base
    session = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h", "label": "K-9"}).json()
    requests.post(f"{base}/api/notes", headers=AUTH, json={"text": "client resting"}).raise_for_status()
    requests.post(f"{base}/api/presets/calm", headers=AUTH).raise_for_status()
    requests.delete(f"{base}/api/presets/active", headers=AUTH).raise_for_status()
    requests.post(f"{base}/api/session/next", headers=AUTH).raise_for_status()
    requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
    return f"{base}/api/sessions/{session['session']}/report?format=html"


def view(driver) -> dict:
    return driver.execute_script("""
        const svg = document.querySelector("svg").getBoundingClientRect();
        const texts = [...document.querySelectorAll("svg text")].map((t) => t.getBoundingClientRect());
        const lanes = [...document.querySelectorAll("svg text.lane")].map((t) => t.getBoundingClientRect().right);
        const firstShape = Math.min(...[...document.querySelectorAll("svg rect")].map((r) => r.getBoundingClientRect().left));
        const style = getComputedStyle(document.body);
        return {width: document.documentElement.scrollWidth, svg: svg.width, lanes, firstShape,
                smallest: Math.min(...texts.map((t) => t.height)), background: style.backgroundColor, colour: style.color};
    """)


def test_the_report_is_dark_on_a_portrait_tablet_and_light_on_paper(browser, served, finished):  # noqa: F811
    device(browser, *PORTRAIT)
    Panel(browser, served.base).open_logged_in()   # the report opens from the panel, with its login
    browser.get(finished)
    seen = view(browser)
    assert seen["width"] <= PORTRAIT[0]                             # nothing scrolls sideways
    assert seen["svg"] >= 0.9 * 720                                 # the picture is drawn near its own size ...
    assert seen["smallest"] >= 11                                   # ... so its labels stay readable
    assert max(seen["lanes"]) < seen["firstShape"]                  # lane names clear of the lanes
    assert luminance(seen["background"]) < 0.1 and luminance(seen["colour"]) > 0.4
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "SUMMARY" in body and "Calm: 1×" in body and "client resting" in body   # headings in capitals
    assert "phase_entered" not in body and "recovered" not in body and "transition_s" not in body

    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        printed = view(browser)
        assert luminance(printed["background"]) > 0.95 and luminance(printed["colour"]) < 0.2
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69})
        assert len(pdf["data"]) > 1000
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def visible_words(driver) -> set[str]:
    text = driver.execute_script("""
        const shown = (n) => n.checkVisibility ? n.checkVisibility() : n.offsetParent !== null;
        return [...document.querySelectorAll("#panel *")].filter((n) => shown(n) && n.children.length === 0)
            .map((n) => n.textContent + " " + (n.getAttribute("aria-label") ?? "") + " " + (n.placeholder ?? ""))
            .join(" ");
    """)
    return set(re.findall(r"[A-Za-zÄÖÜäöüß]{4,}", text))


def test_a_german_tablet_shows_the_panel_entirely_in_german(browser, served):  # noqa: F811
    requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).raise_for_status()
    panel = Panel(browser, served.base).open_logged_in()
    panel.tap("tools-open")
    Select(panel.find("language")).select_by_value("de")
    panel.tap("tools-close")
    panel.wait(lambda: panel.text("link") == "Live" and panel.find("calm").text == "Ruhe", what="the panel in German")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    panel.wait(lambda: panel.find("session-body").text.startswith("Ketamine"), what="the session card")
    assert panel.button("Nächste Phase") and panel.button("Pause")
    panel.tap("calm")
    panel.wait_text("preset-status", "Ruhe ist an")
    assert panel.find("release-what").text == "Ruhe beenden"
    english = {w for key, text in i18n.catalogue("en").items() for w in re.findall(r"[A-Za-z]{4,}", text)}
    german = {w for text in i18n.catalogue("de").values() for w in re.findall(r"[A-Za-zÄÖÜäöüß]{4,}", text)}
    room_data = {"Ketamine", "about", "hour", "Arrival", "Onset", "Journey", "Closing", "Test", "room", "Ceiling",
                 "Floor", "lamp", "Entry"}
    assert visible_words(browser) & (english - german - room_data) == set()

    browser.refresh()   # the choice is this tablet's, kept across a reload
    Panel(browser, served.base).wait(lambda: panel.find("calm").text == "Ruhe", what="German after a reload")
    browser.execute_script("localStorage.removeItem('panel-language')")
