"""A therapist enters vitals on the panel in Chromium at a tablet's size: a reading in a few taps, a limit
crossed shown at once with the protocol's words, marked as seen, and a typo corrected with the original kept."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.web.conftest import AUTH, TABLET, browser, chrome, device, served  # noqa: F401 - fixtures
from tests.web.panel import Panel

pytestmark = pytest.mark.slow


def type_reading(panel: Panel, **values) -> None:
    for name in ("systolic", "diastolic", "pulse", "temperature"):
        field = panel.find(f"vital-{name}")
        panel.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)   # the therapist scrolls
        field.send_keys(Keys.CONTROL, "a", Keys.DELETE)   # as a finger would empty it
        if name in values:
            field.send_keys(str(values[name]))


def test_a_reading_entered_on_the_tablet_and_a_limit_shown_at_once(browser, served):
    device(browser, *TABLET, touch=True)
    session = requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "mdma-8h"}).json()["session"]
    panel = Panel(browser, served.base).open_logged_in()
    panel.wait(lambda: panel.shown("vitals"), what="the vitals card")
    due = browser.find_element(By.CSS_SELECTOR, "#vital-schedule li[data-state='due']").text
    assert "blood pressure, pulse, temperature" in due and "due now" in due   # the profile asks for a baseline

    type_reading(panel, systolic=124, diastolic=78, pulse=72, temperature=36.7)
    panel.press("Save reading")
    panel.wait(lambda: panel.text("toast") == "Reading saved", what="the reading's confirmation")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, "#vital-schedule li").get_attribute("data-state") == "done",
               what="the baseline shown as done")
    assert panel.find("vital-systolic").get_attribute("value") == ""   # the form is ready for the next

    type_reading(panel, systolic=171, diastolic=95)
    panel.press("Save reading")
    notice = panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".vital-notice"), what="the limit's notice")
    assert "Systolic 171 is above 160" in notice.text
    assert "Tell the physician now" in notice.text
    assert browser.execute_script("return document.scrollingElement.scrollWidth") <= TABLET[0]
    assert served.app.room.snapshot()["preset"] is None   # the room changed nothing by itself
    panel.press("Seen")
    panel.wait(lambda: not browser.find_elements(By.CSS_SELECTOR, ".vital-notice"), what="the notice to go")

    readings = browser.find_elements(By.CSS_SELECTOR, "#vital-readings li")
    assert "124/78" in readings[-1].text and "171/95" in readings[0].text
    readings[-1].find_element(By.TAG_NAME, "button").click()   # a typo in the first: 124 was 134
    panel.wait(lambda: panel.find("vital-systolic").get_attribute("value") == "124", what="the reading in the form")
    type_reading(panel, systolic=134, diastolic=78, pulse=72, temperature=36.7)
    panel.press("Save correction")
    panel.wait(lambda: panel.text("toast").startswith("Correction saved"), what="the correction's confirmation")
    record = requests.get(f"{served.base}/api/sessions/{session}/vitals", headers=AUTH).json()
    assert [(r["systolic"], r.get("original", {}).get("systolic")) for r in record["readings"]] == [(134, 124), (171, None)]


def test_the_readings_list_is_not_rebuilt_under_a_finger_by_other_updates(browser, served):
    """The room's state arrives whenever anything changes; a list rebuilt each time would swap the button
    under a finger between touch and release, and the tap would be lost. Only a new reading rebuilds it."""
    device(browser, *TABLET, touch=True)
    requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "mdma-8h"})
    assert requests.post(f"{served.base}/api/vitals", headers=AUTH, json={"pulse": 70}).status_code == 201
    panel = Panel(browser, served.base).open_logged_in()
    panel.wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#vital-readings li button"), what="the reading")
    browser.execute_script("document.querySelector('#vital-readings li button').dataset.seen = 'before'")
    for brightness in (20, 30, 40):   # three state updates that change the lights, not the readings
        assert requests.patch(f"{served.base}/api/lights", headers=AUTH, json={"brightness": brightness}).ok
        panel.wait(lambda b=brightness: panel.find("room-brightness").get_attribute("value") == str(b),
                   what=f"the lights at {brightness} %")
    kept = browser.execute_script("return document.querySelector('#vital-readings li button').dataset.seen")
    assert kept == "before"
    assert requests.post(f"{served.base}/api/vitals", headers=AUTH, json={"pulse": 74}).status_code == 201
    panel.wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#vital-readings li")) == 2, what="the new reading")
