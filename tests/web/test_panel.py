"""The panel in real headless Chromium at a tablet's viewport, against a real room and a real broker."""

from __future__ import annotations

import json

import requests
from selenium.webdriver.common.by import By

from tests.broker import MARK, Capture
from tests.web.conftest import AUTH
from tests.web.panel import Panel

CEILING, FLOOR = "zigbee2mqtt/Ceiling lamp/set", "cmnd/floorlamp/Backlog"


def test_login_then_calm_and_back_on_the_page_and_the_wire(browser, served, broker):
    panel = Panel(browser, served.base).open().login("1111")
    panel.wait_text("login-message", "That PIN is not right. Please try again.")
    panel.login()
    panel.wait(lambda: panel.shown("panel") and panel.text("link") == "Live")
    assert panel.text("room-name") == "Test room"
    cap = Capture(broker, CEILING, FLOOR)
    requests.patch(f"{served.base}/api/lights", headers=AUTH, json={"brightness": 40, "kelvin": 2700})
    # the ceiling's bulb is not described by its bridge: brightness, then white, then both (issue 24 (5))
    assert [(m.topic, m.payload) for m in cap.take(4)] == [
        (CEILING, '{"state":"ON","brightness":102,"transition":0.5}'), (FLOOR, "Speed2 2; Color 0,0,0,38,64"),
        (CEILING, '{"state":"ON","brightness":102,"color_temp":370,"transition":0.2}'),
        (CEILING, '{"state":"ON","brightness":102,"color_temp":370,"transition":0}')]
    panel.wait_text("room-brightness-out", "40 %")
    panel.tap("calm")
    assert [(m.topic, m.payload) for m in cap.take(4)] == [
        (CEILING, '{"state":"ON","brightness":38,"transition":2.3}'), (FLOOR, "Speed2 6; Color 0,0,0,5,33"),
        (CEILING, '{"state":"ON","brightness":38,"color_temp":455,"transition":0.7}'),
        (CEILING, '{"state":"ON","brightness":38,"color_temp":455,"transition":0}')]
    panel.wait_text("preset-status", "Calm is on")
    panel.wait_text("room-brightness-out", "15 %")
    assert panel.text("room-kelvin-out") == "2200 K, warm"
    assert panel.find("calm").get_attribute("aria-pressed") == "true"

    panel.release()
    assert {m.topic: m.payload for m in cap.take(2)} == {
        CEILING: '{"state":"ON","brightness":38,"color_temp":370,"transition":1.2}',   # brightening: white first
        FLOOR: "Speed2 10; Color 0,0,0,38,64"}
    panel.wait_text("room-brightness-out", "40 %")
    panel.wait(lambda: not panel.shown("release"), what="'Release calm' to go away")
    assert panel.text("preset-status") == ""
    assert served.app.room.snapshot()["preset"] is None
    cap.close()


def test_emergency_needs_a_hold_and_has_a_way_back(browser, served, broker):
    panel = Panel(browser, served.base).open_logged_in()
    cap = Capture(broker, CEILING, MARK)
    panel.tap("emergency")
    panel.hold("emergency", 0.4)
    assert cap.sent_until_now(served.app) == []
    assert served.app.room.snapshot()["preset"] is None
    panel.hold("emergency", 1.3)
    assert json.loads(cap.next().payload)["brightness"] == 254
    panel.wait_text("preset-status", "Emergency light is on")
    panel.release()
    panel.wait(lambda: served.app.room.snapshot()["preset"] is None, what="the preset to be released")
    cap.close()


def test_a_slider_sends_one_value_on_release_and_another_panel_follows(browser, served, broker):
    first = Panel(browser, served.base).open_logged_in()
    browser.switch_to.new_window("window")
    second = Panel(browser, served.base).open()
    second.wait(lambda: second.shown("panel") and second.text("link") == "Live")
    browser.switch_to.window(browser.window_handles[0])
    cap = Capture(broker, FLOOR)
    first.drag("room-brightness", 200)
    sent = cap.next().payload
    assert sent.startswith("Speed2 2; Color 0,0,0,")   # a white: cold and warm summing to the level
    level = round(sum(map(int, sent.removeprefix("Speed2 2; Color 0,0,0,").split(","))) * 100 / 255)
    assert 20 <= level <= 100
    first.wait_text("room-brightness-out", f"{level} %")
    browser.switch_to.window(browser.window_handles[1])
    second.wait_text("room-brightness-out", f"{level} %")
    assert second.find("room-brightness").get_attribute("value") == str(level)
    requests.post(f"{served.base}/api/presets/calm", headers=AUTH).raise_for_status()
    assert cap.before(lambda m: m.payload.startswith("Speed2 6; Color 0,0,0,5,33")) == []   # one value, when the finger lifted
    cap.close()


def test_the_panel_says_reconnecting_and_comes_back_with_the_truth(browser, tmp_path, broker, room_id):
    from tests.broker import free_port
    from tests.web.conftest import serve

    port = free_port()
    room = serve(tmp_path, broker, room_id, port=port)
    panel = Panel(browser, room.base).open_logged_in()
    room.stop()
    panel.wait(lambda: panel.text("link").startswith("Reconnecting"), what="'Reconnecting' to show")
    room = serve(tmp_path, broker, room_id, port=port)            # same data_dir: the login holds
    try:
        requests.post(f"{room.base}/api/presets/calm", headers=AUTH).raise_for_status()
        panel.wait_text("link", "Live", timeout=10)
        panel.wait_text("preset-status", "Calm is on")
        assert panel.shown("panel") and not panel.shown("login")
    finally:
        room.stop()


def test_each_light_shows_a_colour_light_in_its_colour(browser, served):
    panel = Panel(browser, served.base).open_logged_in()
    browser.find_element(By.CSS_SELECTOR, ".lights summary").click()
    requests.patch(f"{served.base}/api/lights/ceiling", headers=AUTH, json={"color": "#ff8800", "brightness": 50}
                   ).raise_for_status()
    panel.wait(lambda: panel.shown("light-ceiling-swatch"), what="the ceiling's colour swatch")
    colour = served.app.room.snapshot()["lights"][0]["state"]["color"]
    assert panel.text("light-ceiling-status") == f"colour {colour}"
    assert panel.find("light-ceiling-swatch").value_of_css_property("background-color") == \
        "rgba({}, {}, {}, 1)".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))
    assert panel.text("light-ceiling-kelvin-out") == "in colour"
    requests.patch(f"{served.base}/api/lights/ceiling", headers=AUTH, json={"kelvin": 2700}).raise_for_status()
    panel.wait(lambda: not panel.shown("light-ceiling-swatch"), what="the swatch to go in white")
    assert not panel.shown("light-floor-swatch")
