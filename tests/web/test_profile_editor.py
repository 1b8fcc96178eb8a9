"""The profile editor in the panel, in Chromium: the admin PIN, a mistake shown next to its field, a save,
and a session started with the saved profile; kind, each light's setting and reminders edited in the form;
past sessions open their printable report."""

from __future__ import annotations

import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.session.test_profile_editor_api import ADMIN_PIN, served  # noqa: F401 - the room with copied profiles
from tests.web.conftest import PIN
from tests.web.panel import Panel


def error_after(browser, path: str) -> str:
    """The error text shown right after the field for `path` (empty when none)."""
    found = browser.find_elements(By.XPATH, f'//input[@data-path="{path}"]/following-sibling::p[@class="field-error"]')
    return found[0].text if found else ""


def retype(panel, element_id: str, text: str) -> None:
    field = panel.find(element_id)
    field.clear()
    field.send_keys(text)


def test_edit_a_profile_see_the_mistake_save_and_start_a_session_with_it(served, browser):
    app, base, folder = served
    before = (folder / "ketamine-1h.yaml").read_text()
    panel = Panel(browser, base).open_logged_in()
    panel.tap("tools-open")
    panel.wait(lambda: panel.shown("admin-login"))
    panel.find("admin-pin").send_keys(PIN)          # the therapist's PIN does not open the tools
    panel.find("admin-login").submit()
    panel.wait_text("tools-message", "That admin PIN is not right.")
    panel.find("admin-pin").send_keys(ADMIN_PIN)
    panel.find("admin-login").submit()
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[aria-label="Edit Ketamine, about 1 hour"]').click()
               or True, what="the profile list")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, "#profile-form h3").text
               == "Editing Ketamine, about 1 hour")
    assert panel.find("f-phases-1-duration").get_attribute("value") == "10m"
    retype(panel, "f-phases-1-duration", "ten minutes")
    retype(panel, "f-phases-2-lights-brightness", "140")
    panel.press("Save")
    panel.wait(lambda: error_after(browser, "phases[2].lights.brightness") == "Input should be less than or equal to 100",
               what="the brightness problem next to its field")
    assert error_after(browser, "phases[1].duration") == "'ten minutes' is not a duration; write it like 90s, 20m, 1h30m or 250ms"
    assert panel.find("f-phases-1-duration").get_attribute("aria-invalid") == "true"
    assert error_after(browser, "phases[0].duration") == ""
    assert (folder / "ketamine-1h.yaml").read_text() == before          # nothing written

    retype(panel, "f-phases-1-duration", "12m")
    retype(panel, "f-phases-2-lights-brightness", "8")
    panel.press("Save")
    panel.wait_text("toast", "Saved Ketamine, about 1 hour")
    saved = yaml.safe_load((folder / "ketamine-1h.yaml").read_text())
    assert (saved["phases"][1]["duration"], saved["phases"][2]["lights"]["brightness"]) == ("12m", 8)
    assert len(list((folder / "backups").iterdir())) == 1

    panel.tap("tools-close")
    panel.wait(lambda: "Onset 12 min" in browser.find_element(By.CSS_SELECTOR, ".profiles").text,
               what="the start screen with the saved profile")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[aria-label="Start Ketamine, about 1 hour"]').click()
               or True)
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".timeline summary").click() or True)   # every phase listed
    panel.wait(lambda: [li.text.splitlines() for li in browser.find_elements(By.CSS_SELECTOR, ".timeline li")][:2]
               == [["Arrival 10 min"], ["Onset 12 min"]], what="the session with the saved phases")
    assert app.room.snapshot()["session"]["phases"][1]["duration_s"] == 720.0


def test_past_sessions_open_their_report_and_take_a_label(served, browser):
    app, base, _ = served
    session_id = app.loop.call(app.room.session.start, "ketamine-1h", "K-1")["session"]
    app.loop.call(app.room.session.stop)
    panel = Panel(browser, base).open_logged_in()
    browser.find_element(By.CSS_SELECTOR, "#past summary").click()
    item = f'[data-session="{session_id}"]'
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, f"{item} a").get_attribute("href")
               == f"{base}/api/sessions/{session_id}/report?format=html&lang=en", what="the past session")
    label = browser.find_element(By.CSS_SELECTOR, f"{item} input")
    label.clear()
    label.send_keys("K-1 integration\n")
    panel.wait_text("toast", "Label saved")
    with app.journal.reader() as reader:
        assert reader.session(session_id)["label"] == "K-1 integration"
    browser.find_element(By.CSS_SELECTOR, f"{item} a").click()
    panel.wait(lambda: panel.shown("report"), what="the report beside the dock")
    assert panel.find("report-tab").get_attribute("href") == f"{base}/api/sessions/{session_id}/report?format=html&lang=en"
    browser.switch_to.frame(panel.find("report-frame"))
    try:
        panel.wait(lambda: browser.find_element(By.TAG_NAME, "h1").text == "Session report · K-1 integration",
                   what="the report in its frame, with the cookie's login")
        assert browser.find_elements(By.CSS_SELECTOR, 'svg g[data-kind="phases"]')
    finally:
        browser.switch_to.default_content()
    panel.find("report-tab").click()   # printed from a tab of its own
    browser.switch_to.window(browser.window_handles[-1])
    panel.wait(lambda: browser.find_element(By.TAG_NAME, "h1").text == "Session report · K-1 integration",
               what="the report in its own tab, with the cookie's login")


def test_the_form_edits_kind_each_lights_setting_and_reminders(served, browser):
    app, base, folder = served
    panel = Panel(browser, base).open_logged_in()
    panel.tap("tools-open")
    panel.find("admin-pin").send_keys(ADMIN_PIN)
    panel.find("admin-login").submit()
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[aria-label="Edit Ketamine, about 1 hour"]').click()
               or True, what="the profile list")
    panel.wait(lambda: panel.find("f-kind"))
    Select(panel.find("f-kind")).select_by_visible_text("integration")
    browser.find_element(By.XPATH, '//fieldset[legend="Phase 2"]//summary[normalize-space()="Reminders (0)"]').click()
    browser.find_element(By.XPATH, '//fieldset[legend="Phase 2"]//button[normalize-space()="Add reminder"]').click()
    panel.wait(lambda: panel.find("f-phases-1-reminders-0-text").send_keys("Offer water") or True)
    retype(panel, "f-phases-1-reminders-0-at", "soon")
    browser.find_element(By.XPATH, '//fieldset[legend="Phase 2"]//summary[normalize-space()="Each light"]').click()
    retype(panel, "f-phases-1-lights-per-light-ceiling-brightness", "5")
    panel.press("Save")
    panel.wait(lambda: error_after(browser, "phases[1].reminders[0].at")
               == "'soon' is not a duration; write it like 90s, 20m, 1h30m or 250ms", what="the reminder's problem")
    retype(panel, "f-phases-1-reminders-0-at", "5m")
    panel.press("Save")
    panel.wait_text("toast", "Saved Ketamine, about 1 hour")
    saved = yaml.safe_load((folder / "ketamine-1h.yaml").read_text())
    assert (saved["kind"], saved["reminders"]) == ("integration", [{"text": "Check vitals", "every": "15m",
                                                                   "start": "10m"}])
    assert saved["phases"][1] == {
        "name": "Onset", "duration": "10m",
        "lights": {"brightness": 15.0, "kelvin": 2200.0, "transition": "5m", "per_light": {"ceiling": {"brightness": 5}}},
        "music": {"playlist": "onset.m3u", "volume": 35.0}, "reminders": [{"text": "Offer water", "at": "5m"}]}
