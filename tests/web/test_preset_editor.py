"""The preset editor in the panel, in Chromium, on a real broker: a mistake shown next to its field with
nothing written, a preview in the room, the save into the room file, and the preset tapped on the panel
with its new lights on the wire."""

from __future__ import annotations

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.broker import Capture
from tests.session.test_profile_editor_api import ADMIN_PIN
from tests.test_preset_editor_api import room_file, start
from tests.web.conftest import PIN, TOKEN
from tests.web.panel import Panel
from tests.web.test_profile_editor import error_after, retype

LIGHTS_ON_THE_WIRE = [("cmnd/floorlamp/Backlog", "Speed2 0; Power OFF"),      # 55 %, 2400 K; the floor lamp off
                      ("zigbee2mqtt/Ceiling lamp/set", '{"state":"ON","brightness":140,"color_temp":417,"transition":0}')]


@pytest.fixture
def served(tmp_path, broker, room_id):
    web = {"host": "127.0.0.1", "port": 0, "pin": PIN, "admin_pin": ADMIN_PIN, "api_token": TOKEN}
    path = room_file(tmp_path, broker, room_id, web=web)
    app = start(path, path)
    yield app, f"http://127.0.0.1:{app.web.port}", path
    app.stop()


def test_edit_a_preset_see_the_mistake_preview_save_and_tap_it(served, browser, broker):
    app, base, path = served
    before = path.read_text()
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", "cmnd/floorlamp/#")
    panel = Panel(browser, base).open_logged_in()
    panel.tap("tools-open")
    panel.wait(lambda: panel.shown("admin-login"))
    panel.find("admin-pin").send_keys(ADMIN_PIN)
    panel.find("admin-login").submit()
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[aria-label="Edit preset Reading"]').click() or True,
               what="the preset list")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, "#preset-form h3").text == "Editing the preset Reading")
    assert panel.find("f-lights-brightness").get_attribute("value") == "70"
    retype(panel, "f-lights-brightness", "170")
    panel.press("Save")
    panel.wait(lambda: error_after(browser, "lights.brightness") == "Input should be less than or equal to 100",
               what="the brightness problem next to its field")
    assert panel.find("f-lights-brightness").get_attribute("aria-invalid") == "true"
    assert path.read_text() == before                                    # nothing written

    retype(panel, "f-lights-brightness", "55")
    retype(panel, "f-lights-kelvin", "2400")
    browser.find_element(By.XPATH, '//summary[normalize-space()="Each light and group"]').click()
    Select(panel.find("f-lights-per-light-floor-on")).select_by_visible_text("off")
    cap.drain(0.3)
    panel.press("Preview in the room")
    assert sorted((m.topic, m.payload) for m in cap.take(2)) == LIGHTS_ON_THE_WIRE
    panel.press("Save")
    panel.wait_text("toast", "Saved Reading")
    assert yaml.safe_load(path.read_text())["presets"]["reading"] == {
        "label": "Reading", "lights": {"brightness": 55, "kelvin": 2400, "per_light": {"floor": {"on": False}},
                                       "transition": "0s"}}
    panel.tap("tools-close")
    cap.drain(0.5)
    panel.press("Reading")
    assert sorted((m.topic, m.payload) for m in cap.take(2)) == LIGHTS_ON_THE_WIRE
    panel.wait(lambda: app.room.snapshot()["preset"] == "reading", what="the room's state to say so")
    cap.close()
