"""The calibration step of the clinic tools on a real room (real libvlc, its dummy output; a real broker):
the reference made by sox and libebur128 plays through the room's music, the meter's reading becomes
`audio.calibration_dba` in the room file (comments and mode kept, the old file in backups/), and the room
refuses to play noise over a session. In Chromium: the same steps on the tablet."""

from __future__ import annotations

import math
import re
import time

import pytest
import requests
import yaml
from hypothesis import given
from hypothesis import strategies as st
from selenium.webdriver.support.select import Select

from room_controller import i18n
from room_controller.app import App
from room_controller.audio import calibration, loudness
from room_controller.config import load_room
from tests.session.test_profile_editor_api import ADMIN_PIN
from tests.test_preset_editor_api import room_file
from tests.web.conftest import AUTH, PIN, TABLET, TOKEN, browser, chrome, device  # noqa: F401 - fixtures
from tests.web.panel import Panel

COMMENT = "# the clinic's own words about this room\n"


@pytest.fixture
def served(tmp_path, broker, room_id):
    web = {"host": "127.0.0.1", "port": 0, "pin": PIN, "admin_pin": ADMIN_PIN, "api_token": TOKEN}
    path = room_file(tmp_path, broker, room_id, web=web)
    path.write_text(COMMENT + path.read_text())
    path.chmod(0o600)
    config, catalogue = load_room(path)
    app = App(config, catalogue, audio=True, config_file=path).start()
    yield app, f"http://127.0.0.1:{app.web.port}/api", path
    app.stop()


def wait_for(check, what: str, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited in vain for {what}")


def test_play_the_reference_and_save_the_reading(served):
    app, api, path = served
    assert requests.get(f"{api}/admin/calibration", headers=AUTH).json()["calibration_dba"] is None
    answer = requests.put(f"{api}/admin/calibration/reference", headers=AUTH, json={"volume": 50})
    assert answer.status_code == 200 and answer.json() == {"playing": True, "volume": 50}
    reference = app.room.config.data_dir / "calibration" / "reference.wav"
    assert loudness.integrated_lufs(reference) == pytest.approx(loudness.TARGET_LUFS, abs=0.5)
    wait_for(lambda: app.room.snapshot()["audio"]["track"] == "reference", "the reference in the room's music")

    saved = requests.put(f"{api}/admin/calibration", headers=AUTH, json={"reading": 64, "volume": 50})
    assert saved.status_code == 200 and saved.json()["calibration_dba"] == 82.1   # 64 dBA at 50 is 82.1 at 100
    text = path.read_text()
    assert text.startswith(COMMENT) and yaml.safe_load(text)["audio"]["calibration_dba"] == 82.1
    assert path.stat().st_mode & 0o777 == 0o600                                  # it holds the PINs
    assert len(list((path.parent / "backups").iterdir())) == 1
    assert load_room(path)[0].audio.calibration_dba == 82.1
    wait_for(lambda: app.room.snapshot()["audio"]["track"] is None, "the reference to stop")
    wait_for(lambda: app.music.snapshot()["dose"]["calibrated"], "the dose to count with it now, not after a restart")


def test_no_noise_over_a_session_or_a_preset_and_a_reading_out_of_range_is_refused(served):
    app, api, path = served
    before = path.read_text()
    requests.post(f"{api}/session", headers=AUTH, json={"profile": "ketamine-1h"}).raise_for_status()
    refused = requests.put(f"{api}/admin/calibration/reference", headers=AUTH, json={"volume": 50})
    assert refused.status_code == 409 and "session is running" in refused.json()["error"]["message"]
    requests.post(f"{api}/session/stop", headers=AUTH).raise_for_status()
    requests.post(f"{api}/presets/calm", headers=AUTH).raise_for_status()
    refused = requests.put(f"{api}/admin/calibration/reference", headers=AUTH, json={"volume": 50})
    assert refused.status_code == 409 and "calm" in refused.json()["error"]["message"]
    wrong = requests.put(f"{api}/admin/calibration", headers=AUTH, json={"reading": 640, "volume": 50})
    assert wrong.status_code == 422 and path.read_text() == before
    assert requests.put(f"{api}/admin/calibration", json={"reading": 64, "volume": 50}).status_code == 401


@given(reading=st.floats(20, 130), volume=st.floats(1, 100), normalise_to=st.none() | st.floats(-40, -5))
def test_the_calibration_predicts_the_reading_it_came_from(reading, volume, normalise_to):
    """docs/sound-dose.md's level formula, applied to the reference as the room plays it (normalised), gives
    back the meter's reading."""
    dba = calibration.calibration_dba(reading, volume, normalise_to)
    played = loudness.TARGET_LUFS + 20 * math.log10(loudness.gain(loudness.TARGET_LUFS, normalise_to))
    predicted = dba + (played - loudness.TARGET_LUFS) + 60 * math.log10(volume / 100)
    assert predicted == pytest.approx(reading, abs=0.06)   # the saved figure has one decimal


def test_the_calibration_step_on_the_tablet_in_german(served, browser):
    """The clinic tools in German (every word of the profile list, the presets and the calibration step), the
    reference played and the reading saved from the tablet."""
    app, api, path = served
    device(browser, *TABLET, touch=True)
    panel = Panel(browser, api.removesuffix("/api")).open_logged_in()
    panel.tap("tools-open")
    Select(panel.find("language")).select_by_value("de")
    panel.wait(lambda: panel.shown("admin-login"))
    panel.find("admin-pin").send_keys(ADMIN_PIN)
    panel.find("admin-login").submit()
    panel.wait(lambda: panel.find("calibration-play"), what="the calibration step")
    words = visible_words(browser, "#tools-body")
    english = {w for text in i18n.catalogue("en").values() for w in re.findall(r"[A-Za-z]{4,}", text)}
    german = {w for text in i18n.catalogue("de").values() for w in re.findall(r"[A-Za-zÄÖÜäöüß]{4,}", text)}
    names = {"Ketamine", "about", "hour", "Psilocybin", "hours", "MDMA", "Preparation", "Integration", "Reading",
             "Calm", "Check", "Emergency", "session", "light"}   # the clinic's own profile and preset names
    assert words & (english - german - names) == set()
    assert "Nicht kalibriert" in panel.text("calibration-status")

    panel.tap("calibration-play")
    panel.wait(lambda: "Lautstärke 50" in panel.text("calibration-playing"), 20, "the reference playing")
    wait_for(lambda: app.room.snapshot()["audio"]["track"] == "reference", "the reference in the room's music")
    panel.find("calibration-reading").send_keys("64")
    panel.press("Kalibrierung speichern")
    panel.wait(lambda: panel.text("calibration-status").startswith("Gespeichert: 82,1 dBA"), what="the saved calibration")
    assert yaml.safe_load(path.read_text())["audio"]["calibration_dba"] == 82.1
    assert browser.execute_script("return document.scrollingElement.scrollWidth") <= TABLET[0]
    browser.execute_script("localStorage.removeItem('panel-language')")


def visible_words(driver, selector: str) -> set[str]:
    text = driver.execute_script("""
        const shown = (n) => n.checkVisibility ? n.checkVisibility() : n.offsetParent !== null;
        return [...document.querySelectorAll(arguments[0] + " *")].filter((n) => shown(n) && n.children.length === 0)
            .map((n) => n.textContent + " " + (n.getAttribute("aria-label") ?? "") + " " + (n.placeholder ?? ""))
            .join(" ");
    """, selector)
    return set(re.findall(r"[A-Za-zÄÖÜäöüß]{4,}", text))
