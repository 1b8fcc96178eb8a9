"""A reading beyond a limit stands out in the session report, on screen and on paper, in real Chromium: the
report's vitals style must pass its Content-Security-Policy (before, Chromium blocked it and a pulse of 165
looked like one of 80)."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.web.conftest import AUTH
from tests.web.panel import Panel

LOOKS = "(c) => { const s = getComputedStyle(c); return [s.fontWeight, s.color]; }"


@pytest.fixture
def report(served):
    base = served.base
    session = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).json()["session"]
    for pulse in (80, 165):   # the profile's example limit: a pulse above 110
        assert requests.post(f"{base}/api/vitals", headers=AUTH, json={"pulse": pulse}).status_code == 201
    requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
    return f"{base}/api/sessions/{session}/report?format=html&lang=en"


def pulse_cells(driver) -> dict[str, list[str]]:
    """The pulse column's cells, by their reading: how each looks (font weight, colour)."""
    cells = driver.find_elements(By.CSS_SELECTOR, "table.vitals tbody td.n:nth-child(4)")
    return {cell.text: driver.execute_script(f"return ({LOOKS})(arguments[0])", cell) for cell in cells}


def test_a_reading_beyond_a_limit_is_marked_on_screen_and_in_print(served, browser, report):
    Panel(browser, served.base).open_logged_in()
    browser.get(report)
    shown = browser.find_element(By.TAG_NAME, "h1").text
    assert shown == "Session report"
    for media, page in (("screen", "rgb(13, 7, 6)"), ("print", "rgb(255, 255, 255)")):   # dark, or paper
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
        try:
            looks = pulse_cells(browser)
            background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        finally:
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        assert background == page, media
        assert set(looks) == {"80", "165"}, media
        assert looks["165"] == ["700", "rgb(224, 118, 63)"], media    # bold, in the notice's orange (#e0763f)
        assert looks["80"][0] == "400" and looks["80"][1] != looks["165"][1], media
