"""The clinic's day on the floor's screen, in real headless Chromium on the real broker. The test plays the
rooms: it publishes the day contract's retained `<room>/day` exactly (docs/interface.md, "The clinic's day"),
and the overview shows each room's next booking, every room's plan by start time and the plans' problems."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest
import requests
import yaml
from selenium.webdriver.common.by import By

from room_controller.app import App
from room_controller.integrations.overview import Overview, load_clinic
from room_controller.integrations.overview_day import MAX_BOOKINGS
from tests.broker import Capture
from tests.rooms import load
from tests.web.conftest import AUTH, LIGHTS, PIN, PLACES, TOKEN
from tests.web.panel import Panel
from tests.web.test_overview_alerts import _until, base, start_overview  # noqa: F401 (base: the fixture)

NAMES = {"psilocybin-8h": "Psilocybin, 8 hours", "ketamine-1h": "Ketamine, about 1 hour",
         "mdma-8h": "MDMA, 8 hours", "integration-75m": "Integration, 75 minutes"}


def at(hours: float, days: int = 0) -> datetime:
    """`hours` into today (as the page's clock has it now: a suite that runs past midnight has a new today)."""
    today = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days, hours=hours)


def booking(room: str, profile: str, start: datetime, state: str = "planned", duration_s: int | None = 28800) -> dict:
    """One booking as the room publishes it (a profile the room lacks: no name, kind or length)."""
    return {"id": f"{room}-{start:%Y%m%dT%H%M}", "profile": profile, "name": NAMES.get(profile),
            "kind": "psychedelic" if profile in NAMES else None,
            "start": start.isoformat(timespec="seconds"), "duration_s": duration_s,
            "prepare_at": (start - timedelta(minutes=15)).isoformat(timespec="seconds"), "state": state}


def day(room: str, bookings: list[dict], problems: tuple | list = (), next_: dict | None = None) -> dict:
    return {"room": room, "at": datetime.now().astimezone().isoformat(timespec="seconds"), "next": next_,
            "bookings": bookings, "problems": list(problems)}


class Rooms:
    """The rooms on the broker, as the contract has them publish: state and status, and their day, retained."""

    def __init__(self, client: Capture, base: str) -> None:
        self.client, self.base = client, base

    def online(self, room: str, name: str) -> None:
        self.client.publish(f"{self.base}/{room}/state", json.dumps({
            "room": {"id": room, "name": name, "language": "en"}, "session": None, "preset": None, "problems": []}),
            retain=True, qos=1)
        self.client.publish(f"{self.base}/{room}/status", "online", retain=True, qos=1)

    def day(self, room: str, payload: dict | bytes) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload)
        self.client.publish(f"{self.base}/{room}/day", body, retain=True, qos=1)


def hm(when: datetime) -> str:
    """A time as the floor's English page says it (the browser's en-US)."""
    return f"{when:%I:%M %p}"


def plan(driver) -> list[list[str]]:
    return [node.text.splitlines() for node in driver.find_elements(By.CSS_SELECTOR, "#plan .plan-bookings li")]


def problems(driver) -> list[str]:
    return [node.text for node in driver.find_elements(By.CSS_SELECTOR, "#plan .plan-problems li")]


def next_line(driver, room: str) -> str | None:
    found = driver.find_elements(By.CSS_SELECTOR, f'[data-room="{room}"].room .next')
    return found[0].text if found else None


@pytest.fixture
def floor(tmp_path, base, broker, browser, caplog):
    """The overview on the broker, its page open in Chromium, and the rooms' side of the broker."""
    client = Capture(broker, f"{base}/+/alert/ack")
    overview = start_overview(tmp_path, base, broker.host, broker.port)
    caplog.set_level(logging.WARNING)
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}").open()
        page.wait_text("link", "Live")
        yield page, Rooms(client, base), f"http://127.0.0.1:{overview.web.port}/api/rooms"
    finally:
        overview.stop()
        client.close()


def test_the_floor_shows_every_rooms_day_and_follows_it_live(floor, browser):
    page, rooms, _ = floor
    assert not page.shown("plan")                       # no room has a day: no plan on the screen
    rooms.online("room-1", "Sunrise")
    rooms.online("room-2", "Harbour")
    page.wait(lambda: browser.find_elements(By.CSS_SELECTOR, '[data-room="room-2"].room'), what="both rooms")
    assert not page.shown("plan")

    psilocybin = booking("room-1", "psilocybin-8h", at(9), "ready")
    mdma = booking("room-1", "mdma-8h", at(9, days=1))
    ketamine = booking("room-2", "ketamine-1h", at(8.5), "done", duration_s=3600)
    unknown = booking("room-2", "ayahuasca-6h", at(13), "problem", duration_s=None)
    rooms.day("room-1", day("room-1", [psilocybin, mdma], next_=psilocybin))
    rooms.day("room-2", day("room-2", [ketamine, unknown], next_=unknown, problems=[
        {"booking": unknown["id"], "what": f"The booking at {at(13):%H:%M} names an unknown session profile "
                                           "'ayahuasca-6h'", "code": "unknown_profile"},
        {"booking": None, "what": "The calendar could not be read: the file is missing.", "code": "calendar"}]))

    page.wait(lambda: len(plan(browser)) == 4, what="both rooms' plans")
    assert page.shown("plan")
    assert plan(browser) == [[hm(at(8.5)), "Harbour", "Ketamine, about 1 hour", "done"],
                             [hm(at(9)), "Sunrise", "Psilocybin, 8 hours", "ready"],
                             [hm(at(13)), "Harbour", "ayahuasca-6h", "problem"],
                             [f"tomorrow, {hm(at(9))}", "Sunrise", "MDMA, 8 hours", "planned"]]
    assert problems(browser) == [   # in the screen's words where the panel has them, else the room's sentence
        f"Harbour: The booking at {hm(at(13))} names a profile this room does not have: ayahuasca-6h",
        "Harbour: The calendar could not be read: the file is missing."]
    assert next_line(browser, "room-1") == f"Next: Psilocybin, 8 hours, {hm(at(9))} · ready"
    assert next_line(browser, "room-2") == f"Next: ayahuasca-6h, {hm(at(13))} · problem"
    header = browser.find_element(By.CSS_SELECTOR, "#plan h2")
    assert header.text == "THE DAY'S PLAN" and header.is_displayed()   # the panel's headings' capitals
    assert browser.find_element(By.ID, "plan").location["y"] < browser.find_element(By.ID, "rooms").location["y"]

    browser.execute_script("window.notReloaded = true")
    started = {**psilocybin, "state": "started"}
    rooms.day("room-1", day("room-1", [started, mdma], next_=mdma))   # the therapist started it: next is tomorrow's
    page.wait(lambda: next_line(browser, "room-1") == f"Next: MDMA, 8 hours, tomorrow, {hm(at(9))} · planned",
              what="room 1's next booking, live")
    assert plan(browser)[1] == [hm(at(9)), "Sunrise", "Psilocybin, 8 hours", "started"]
    rooms.day("room-2", day("room-2", [ketamine]))                       # its calendar fixed: no problem, no next
    page.wait(lambda: problems(browser) == [], what="room 2's problems gone")
    assert [row[:2] for row in plan(browser)] == [[hm(at(8.5)), "Harbour"], [hm(at(9)), "Sunrise"],
                                                  [f"tomorrow, {hm(at(9))}", "Sunrise"]]
    assert next_line(browser, "room-2") is None
    rooms.day("room-2", b"")                                             # a room without a day any more
    rooms.day("room-1", b"")
    page.wait(lambda: not page.shown("plan"), what="no plan once no room has a day")
    assert browser.execute_script("return window.notReloaded") is True


def test_a_bad_day_is_logged_and_ignored(floor, browser, caplog):
    page, rooms, _ = floor
    rooms.online("room-1", "Sunrise")
    good = booking("room-1", "psilocybin-8h", at(9), "ready")
    rooms.day("room-1", day("room-1", [good], next_=good))
    page.wait(lambda: next_line(browser, "room-1") == f"Next: Psilocybin, 8 hours, {hm(at(9))} · ready",
              what="the good day")
    rooms.day("room-1", day("room-1", [{**good, "start": "tomorrow at nine"}], next_={**good, "state": "soon"}))
    rooms.client.publish(f"{rooms.base}/room-1/status", "offline", qos=1)        # heard after the bad day
    page.wait(lambda: browser.find_element(By.CSS_SELECTOR, '.room[data-room="room-1"]').get_attribute("data-status")
              == "offline", what="the room offline, after the bad day")
    assert next_line(browser, "room-1") == f"Next: Psilocybin, 8 hours, {hm(at(9))} · ready"
    assert plan(browser) == [[hm(at(9)), "Sunrise", "Psilocybin, 8 hours", "ready"]]
    assert [r.getMessage() for r in caplog.records if "room-1" in r.getMessage()] == [
        f"MQTT: ignored a bad message on {rooms.base}/room-1/day: a booking's state is one of done, missed, planned, "
        "preparing, problem, ready, started"]


def test_bad_days_say_what_is_wrong_and_are_bounded(floor, caplog):
    """Each on a room of its own (the link says one line per topic a minute); a marker heard last."""
    _, rooms, listed = floor
    good = booking("room-a", "psilocybin-8h", at(9))
    bad = {"room-a": b"\xff not UTF-8", "room-b": day("room-x", []),
           "room-c": {**day("room-c", []), "at": "2026-12-08T08:40:00"},
           "room-d": {**day("room-d", []), "bookings": {}},
           "room-e": {**day("room-e", []), "problems": ["on fire"] * 2 + [{"booking": None, "what": "x" * 301},
                                                                           {"what": "Overlap", "code": "Over lap"}]},
           "room-f": day("room-f", [{**good, "duration_s": True}, {**good, "name": ""}, good]),
           "room-g": day("room-g", [good] * 500)}
    for room, payload in bad.items():
        rooms.day(room, payload)
    rooms.day("room-h", day("room-h", [booking("room-h", "mdma-8h", at(10))] * (MAX_BOOKINGS + 5)))
    rooms.client.publish(f"{rooms.base}/room-z/status", "online", qos=1)
    assert _until(lambda: "room-z" in [r["id"] for r in requests.get(listed).json()["rooms"]])
    said = {r.getMessage().split("/day: ")[0].rsplit("/", 1)[1]: r.getMessage().split("/day: ")[1]
            for r in caplog.records if "/day: " in r.getMessage()}
    assert said == {"room-a": "not JSON", "room-b": "the day's room is not the topic's",
                    "room-c": "the day's at is an ISO 8601 time with its offset",
                    "room-d": "a day's bookings and problems are JSON arrays",
                    "room-e": "left out 4 of 4 problems that were not what the day says",
                    "room-f": "left out 2 of 3 bookings that were not what the day says",
                    "room-g": "a room's day is at most 64 kB"}
    state = requests.get(listed).json()
    assert [(b["room"], b["name"]) for b in state["plan"]["bookings"]] == \
        [("room-f", "Psilocybin, 8 hours")] + [("room-h", "MDMA, 8 hours")] * MAX_BOOKINGS
    assert state["plan"]["problems"] == []
    assert state["plan"]["bookings"][0] == {
        "id": good["id"], "profile": "psilocybin-8h", "name": "Psilocybin, 8 hours", "start": good["start"],
        "t": at(9).timestamp(), "duration_s": 28800, "state": "planned", "room": "room-f", "room_name": "room-f"}


def test_a_real_rooms_day_from_the_clinic_file_reaches_the_floor(tmp_path, own_broker, browser):
    """End to end: one clinic file is the overview's and names the bookings; a served room that names it
    publishes its day, and the floor shows the booking, the plan's problem in its words, and the therapist's
    one tap in the room, live."""
    now = datetime.now().astimezone().replace(second=0, microsecond=0)
    soon, later = now + timedelta(minutes=20), now + timedelta(hours=3)     # prepared from 10 min before
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(yaml.safe_dump({
        "mqtt": {"host": own_broker.host, "port": own_broker.port, "base_topic": "therapy-room"},
        "web": {"port": 0}, "overview": {"data_dir": str(tmp_path / "overview")},
        "day": {"prepare_ahead": "10m", "bookings": [
            {"room": "room-d", "profile": "psilocybin-8h", "start": f"{soon:%Y-%m-%d %H:%M}"},
            {"room": "Test room", "profile": "ayahuasca-6h", "start": f"{later:%Y-%m-%d %H:%M}"}]}}))
    (tmp_path / "room").mkdir()
    config, catalogue = load(tmp_path / "room", own_broker, "room-d", LIGHTS, clinic=str(clinic),
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN}, **PLACES)
    room = App(config, catalogue, audio=False).start()
    overview = Overview(load_clinic(clinic)).start()
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}").open()
        page.wait(lambda: len(plan(browser)) == 2, what="the room's day on the floor")
        assert plan(browser) == [[shown_at(soon), "Test room", "Psilocybin, 8 hours", "planned"],
                                 [shown_at(later), "Test room", "ayahuasca-6h", "problem"]]
        assert problems(browser) == [f"Test room: The booking {said_at(later)} names a profile this room does not "
                                     "have: ayahuasca-6h"]
        assert next_line(browser, "room-d") == f"Next: Psilocybin, 8 hours, {shown_at(soon)} · planned"

        base = f"http://127.0.0.1:{room.web.port}"
        booked = requests.get(f"{base}/api/day", headers=AUTH).json()["bookings"][0]
        assert requests.post(f"{base}/api/day/start", headers=AUTH, json={"booking": booked["id"]}).status_code == 201
        page.wait(lambda: plan(browser)[0][-1] == "started", what="the booking started, live")
        assert next_line(browser, "room-d") == f"Next: ayahuasca-6h, {shown_at(later)} · problem"
        page.wait(lambda: browser.find_element(By.CSS_SELECTOR, '.room[data-room="room-d"] .session').text ==
                  "Psilocybin, 8 hours", what="its session on the card (its state is a topic of its own)")
    finally:
        overview.stop()
        room.stop()


def shown_at(when: datetime) -> str:
    """A booking's time on the floor: today's as its time, tomorrow's as tomorrow."""
    return hm(when) if when.date() == datetime.now().date() else f"tomorrow, {hm(when)}"


def said_at(when: datetime) -> str:
    """A booking's time in the words of a plan's problem."""
    return f"at {hm(when)}" if when.date() == datetime.now().date() else f"tomorrow at {hm(when)}"
