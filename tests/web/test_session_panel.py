"""A session driven from the panel: the start screen, the phase and its timeline, controls, notes, stop."""

from __future__ import annotations

import requests
from selenium.webdriver.common.by import By

from tests.web.conftest import AUTH
from tests.web.panel import Panel


def test_start_a_session_move_through_it_note_and_stop(browser, served):
    panel = Panel(browser, served.base).open_logged_in()
    start = panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, "[aria-label='Start MDMA, 8 hours']"),
                       what="the MDMA profile on the start screen")
    assert "Arrival 20 min" in browser.find_element(By.CSS_SELECTOR, ".profiles").text
    start.click()
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".phase-name").text == "Arrival", what="the phase")
    steps = browser.find_elements(By.CSS_SELECTOR, ".timeline li")
    assert len(steps) == len(served.app.room.snapshot()["session"]["phases"]) > 3
    assert steps[0].get_attribute("aria-current") == "step"
    assert panel.text("phase-remaining").endswith(" left")

    panel.press("Next phase")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".phase-name").text == "Onset", what="the next phase")
    remaining = served.app.room.snapshot()["session"]["phase"]["remaining_s"]
    panel.press("+15 min")
    panel.wait(lambda: served.app.room.snapshot()["session"]["phase"]["remaining_s"] > remaining + 850,
               what="the phase to be 15 minutes longer")
    panel.press("Pause")
    panel.wait(lambda: panel.button("Resume"), what="Resume")
    assert "Paused" in browser.find_element(By.CSS_SELECTOR, ".profile").text
    panel.press("Resume")
    panel.wait(lambda: panel.button("Pause"), what="Pause")

    panel.press("Client resting")
    panel.wait(lambda: panel.text("toast").endswith(": client resting"), what="the note's confirmation")
    panel.find("note-text").send_keys("Asked for water")
    panel.press("Add note")
    panel.wait(lambda: panel.find("note-text").get_attribute("value") == "", what="the note field to clear")

    panel.press("Stop…")
    panel.press("Keep going")
    assert served.app.room.snapshot()["session"] is not None
    panel.press("Stop…")
    panel.press("Stop session")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, "[aria-label='Start MDMA, 8 hours']"),
               what="the start screen again")
    session_id = requests.get(f"{served.base}/api/sessions", headers=AUTH).json()[-1]["id"]
    report = requests.get(f"{served.base}/api/sessions/{session_id}/report", headers=AUTH).json()
    assert [n["text"] for n in report["notes"]] == ["client resting", "Asked for water"]
