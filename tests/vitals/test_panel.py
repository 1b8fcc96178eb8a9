"""A therapist enters vitals on the panel in Chromium at a tablet's size: a reading in a few taps, a limit
crossed shown at once with the protocol's words, marked as seen, and a typo corrected with the original kept;
the card says whose limits it checks, that example limits are examples, and when nothing is checked."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from room_controller.app import App
from tests.rooms import load
from tests.web.conftest import AUTH, LIGHTS, PIN, ROOT, TABLET, TOKEN, Served, browser, chrome, device, served  # noqa: F401
from tests.web.panel import Panel

pytestmark = pytest.mark.slow
CLINIC = "Clinic MDMA protocol v3 (2025)"


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


@pytest.fixture
def clinic_room(tmp_path, broker, room_id):
    """The shipped profiles beside a clinic's own copy of the MDMA profile, whose limits name its protocol."""
    profiles = tmp_path / "clinic-profiles"
    profiles.mkdir()
    for path in (ROOT / "deploy" / "profiles").glob("*.yaml"):
        (profiles / path.name).write_text(path.read_text())
    own = (ROOT / "deploy" / "profiles" / "mdma-8h.yaml").read_text()
    (profiles / "mdma-clinic.yaml").write_text(own.replace("id: mdma-8h", "id: mdma-clinic").replace(
        "  source: example", f"  source: {CLINIC}"))
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, profiles_dir=str(profiles),
                             playlists_dir=str(ROOT / "playlists"),
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN})
    app = App(config, catalogue).start()
    yield Served(app, f"http://127.0.0.1:{app.web.port}")
    app.stop()


def limits_line(panel: Panel) -> tuple[str, str]:
    line = panel.find("vital-limits")
    return (line.get_attribute("data-limits"), line.text) if line.is_displayed() else ("hidden", "")


def test_the_card_says_whose_limits_it_checks_examples_as_examples_and_none_as_none(browser, clinic_room):
    base = clinic_room.base
    device(browser, 390, 844, touch=True)   # a phone: the words must fit where the card is narrowest
    panel = Panel(browser, base).open_logged_in()
    for profile, line, title in (
            ("preparation-90m", ("none", "No limits set for this profile: readings are recorded, not checked"), None),
            ("mdma-8h", ("example", "Example limits, not this clinic's: set the protocol's own in the profile"),
             "Beyond an example limit (not set by this clinic)"),
            ("mdma-clinic", ("set", f"Limits: {CLINIC}"), f"Beyond the limit of {CLINIC}")):
        requests.post(f"{base}/api/session", headers=AUTH, json={"profile": profile}).raise_for_status()
        panel.wait(lambda: panel.shown("vitals"), what="the vitals card")
        panel.wait(lambda line=line: limits_line(panel) == line, what=f"{profile}'s limits line")
        type_reading(panel, pulse=165)
        panel.press("Save reading")
        panel.wait(lambda: panel.text("toast") == "Reading saved", what="the reading's confirmation")
        if title is None:   # nothing to check against: no notice, and the card still says why
            panel.wait(lambda: "165" in panel.text("vital-readings"), what="the reading in the list")
            assert browser.find_elements(By.CSS_SELECTOR, ".vital-notice") == [] and limits_line(panel) == line
        else:
            notice = panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".vital-notice"), what="the notice")
            assert notice.find_element(By.CSS_SELECTOR, ".vital-notice-title").text == title
            assert "Pulse 165 is above 110" in notice.text and "Tell the physician now" in notice.text
            panel.press("Seen")
            panel.wait(lambda: not browser.find_elements(By.CSS_SELECTOR, ".vital-notice"), what="the notice to go")
        assert browser.execute_script("return document.scrollingElement.scrollWidth") <= 390
        requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
        panel.wait(lambda: limits_line(panel) == ("hidden", ""), what="the line to go with the session")
