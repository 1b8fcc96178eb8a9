"""The clinic's day on the panel (issue 26 §2), in real Chromium against a room on its test clock with a clinic
file: the card names the next booking and its time, the room puts on its arrival light ahead of it, one tap on
the card's button starts the session, and after it the card names tomorrow's booking. A booking the room cannot
prepare is on the problem line. Calm stays in reach with the card shown.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest
import requests
import yaml
from selenium.webdriver.common.by import By

from room_controller.infrastructure.clock import ManualClock
from tests.broker import MARK, Capture
from tests.rooms import load
from tests.strain.conftest import AUTH, LIGHTS, PIN, PLACES, TOKEN, Served
from tests.strain.test_faults import start
from tests.test_room_wire import described
from tests.web.conftest import device
from tests.web.panel import Panel
from tests.web.test_accessibility import serious_problems
from tests.web.test_calm_everywhere import calm_in_reach

DAY = datetime(2026, 12, 8)   # the room computer's local time: the clinic file's times are in it
CEILING = "zigbee2mqtt/Ceiling lamp/set"
ARRIVAL = {"state": "ON", "brightness": 114, "color_temp": 370, "transition": 60}   # psilocybin's Arrival: 45 %, 2700 K, 1 min


def local(moment: datetime) -> float:
    return time.mktime(moment.timetuple())


def serve_day(tmp_path, broker, room_id, bookings: list[dict], at: datetime) -> Served:
    """A room in English as Britain writes its times, at `at` on its test clock, whose clinic file books it."""
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(yaml.safe_dump({
        "mqtt": {"host": broker.host, "port": broker.port, "base_topic": "therapy-room"},
        "day": {"prepare_ahead": "15m", "bookings": [{"room": room_id, **b} for b in bookings]}}, sort_keys=False))
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES, clinic="clinic.yaml",
                             room={"id": room_id, "name": "Test room", "language": "en-GB"},
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN})
    clock = ManualClock(wall_start=local(at))
    app = start(config, catalogue, clock, web=True)
    return Served(app, f"http://127.0.0.1:{app.web.port}", clock)


@pytest.fixture
def day_room(tmp_path, broker, room_id):
    room = serve_day(tmp_path, broker, room_id, [
        {"profile": "psilocybin-8h", "start": "2026-12-08 09:00"},
        {"profile": "integration-75m", "start": "2026-12-09 10:00"}], at=DAY.replace(hour=8, minute=30))
    described(room.app, broker)   # a room in service: its Zigbee2MQTT has said what the bulb is
    yield room
    room.app.stop()


def card(panel: Panel) -> str:
    return panel.text("day") if panel.shown("day") else ""


def state(room) -> dict:
    return requests.get(f"{room.base}/api/state", headers=AUTH).json()


def test_the_card_names_the_next_booking_prepares_it_and_starts_it_with_one_tap(browser, day_room, broker):
    device(browser, 390, 844, touch=True)   # a phone in one hand: the tightest the card gets
    room, app = day_room, day_room.app
    panel = Panel(browser, room.base).open_logged_in()
    panel.wait(lambda: "Next: Psilocybin, 8 hours, at 09:00" in card(panel), what="the next booking on the card")
    assert card(panel).splitlines() == ["DAY PLAN", "Next: Psilocybin, 8 hours, at 09:00",
                                        "The arrival light and music come on at 08:45.",
                                        "Later: tomorrow 10:00 Integration, 75 minutes"]
    assert not browser.find_elements(By.ID, "day-start")   # nothing to start before the room is ready
    assert not panel.shown("problems")

    lamp = Capture(broker, CEILING, MARK)
    lamp.sent_until_now(app)
    room.clock.advance(15 * 60 + 1)                        # 08:45:01: the booking's preparation is under way
    assert [json.loads(m.payload) for m in lamp.sent_until_now(app)] == [ARRIVAL]
    lamp.close()
    button = panel.wait(lambda: panel.find("day-start"), what="the booking's Start button")
    assert button.text == "Start Psilocybin, 8 hours"
    assert "The arrival light and music are on. Start when the client is in the room." in card(panel)
    assert state(room)["session"] is None                  # the room never starts a session by itself
    assert serious_problems(browser) == []                 # axe-core, on the card with its button

    calm_in_reach(panel, room, "the day's card")           # Calm and its release, tapped beside the card
    panel.wait(lambda: panel.find("day-start").is_enabled(), what="the Start button after calm")
    panel.find("day-start").click()                        # one tap, no question
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".phase-name").text == "Arrival",
               what="the session's first phase")
    assert state(room)["session"]["profile"] == "psilocybin-8h"
    assert not panel.shown("day")

    room.clock.advance(110 * 60)                           # past the booking's start and its missed hour
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".phase-name").text == "Onset", what="Onset")
    panel.press("Stop…")
    panel.press("Stop session")
    panel.wait(lambda: "Next: Integration, 75 minutes, tomorrow at 10:00" in card(panel),
               what="tomorrow's booking on the card", timeout=10)
    assert card(panel).splitlines() == ["DAY PLAN", "Next: Integration, 75 minutes, tomorrow at 10:00",
                                        "The arrival light and music come on at 09:45."]


def test_a_booking_the_room_cannot_prepare_is_on_the_problem_line(browser, tmp_path, broker, room_id):
    room = serve_day(tmp_path, broker, room_id, [{"profile": "no-such-profile", "start": "2026-12-08 11:00"}],
                     at=DAY.replace(hour=9))
    try:
        panel = Panel(browser, room.base).open_logged_in()
        panel.wait(lambda: panel.shown("problems"), what="the problem line")
        assert panel.text("problems") == ("Day plan: The booking at 11:00 names a profile this room does not have: "
                                          "no-such-profile")
        assert card(panel).splitlines() == ["DAY PLAN", "Next: no-such-profile, at 11:00",
                                            "This booking cannot be prepared: see the problem line."]
        assert not browser.find_elements(By.ID, "day-start")
    finally:
        room.app.stop()
