"""Undo in the panel: a tap on Next phase offers Undo, saying where it returns to; a tap on Undo brings the
old phase back with its clock counting on; the offer goes when the server's window ends. On the room's test
clock, so the window ends when the test says, not when a slow machine lets it."""

from __future__ import annotations

import re
import time

import pytest
import requests
from selenium.webdriver.common.by import By

from room_controller.app import App
from room_controller.core.session import UNDO_WINDOW
from room_controller.infrastructure.clock import ManualClock
from tests.rooms import load
from tests.web.conftest import AUTH, LIGHTS, PIN, PLACES, TOKEN, device
from tests.web.panel import Panel

ONSET_AT = 600.0   # ketamine-1h: Arrival 10 min, Onset 10 min, Journey 30 min, ...


@pytest.fixture
def room(tmp_path, broker, room_id):
    clock = ManualClock()
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES,
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN})
    app = App(config, catalogue, clock=clock, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    yield app, clock, f"http://127.0.0.1:{app.web.port}"
    app.stop()


def phase(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, ".phase-name").text


def seconds(text: str) -> int:
    minutes, secs = text.split(":")
    return int(minutes) * 60 + int(secs)


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)])
def test_next_phase_then_undo_brings_the_phase_back_with_its_clock(browser, room, size):
    app, clock, base = room
    device(browser, *size, touch=size[0] < 900)
    requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"})
    clock.advance(ONSET_AT + 162)   # Onset, 2:42 in
    panel = Panel(browser, base).open_logged_in()
    panel.wait(lambda: phase(browser) == "Onset", what="Onset")
    assert not panel.shown("undo")

    panel.press("Next phase")
    panel.wait(lambda: phase(browser) == "Journey" and panel.shown("undo"), what="Journey, and Undo")
    offer = panel.text("undo")
    assert re.fullmatch(r"Undo · back to Onset 2:4\d", offer), offer   # counting on from 2:42 as time passes
    undo = panel.find("undo")
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", undo)
    dock = browser.execute_script("return document.querySelector('.dock').getBoundingClientRect().top")
    assert undo.size["height"] >= 48 and bottom <= min(size[1], dock if size[0] < 900 else size[1]), \
        "Undo is in reach: big, on the screen and not under the dock"

    clock.advance(6)                # six seconds in Journey on the room's clock
    panel.wait(lambda: seconds(panel.text("undo").rsplit(" ", 1)[1]) >= 168, what="the offer to count on")
    panel.tap("undo")
    panel.wait(lambda: phase(browser) == "Onset" and not panel.shown("undo"), what="Onset again, and no Undo")
    assert panel.text("toast") == "Back to Onset"
    assert seconds(panel.text("phase-elapsed")) >= 168
    clock.advance(30)
    panel.wait(lambda: seconds(panel.text("phase-elapsed")) >= 198, what="Onset's clock to count on")
    state = app.room.snapshot()["session"]
    assert (state["phase"]["name"], state["phase"]["elapsed_s"], state["undo"]) == ("Onset", 198, None)

    panel.press("Previous phase")   # back to Arrival's start: the undo keeps Onset's clock
    panel.wait(lambda: phase(browser) == "Arrival" and panel.shown("undo"), what="Arrival, and Undo")
    assert re.fullmatch(r"Undo · back to Onset 3:1\d", panel.text("undo")), panel.text("undo")
    clock.advance(UNDO_WINDOW + 1)  # the server's window ends: so does the offer
    panel.wait(lambda: not panel.shown("undo"), what="the offer to go")
    assert phase(browser) == "Arrival"
