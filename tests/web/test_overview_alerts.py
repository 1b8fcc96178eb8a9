"""The clinic floor: the rooms' alerts on the overview, in real headless Chromium on the real broker. Until the
rooms publish alerts themselves, the test plays the room: it publishes the alert contract's messages exactly
(docs/interface.md, Alerts) and answers an acknowledgement as a room does, with its retained list."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from selenium.webdriver.common.by import By

from room_controller.integrations.overview import ClinicConfig, Overview
from tests.broker import Capture
from tests.web.conftest import PIN
from tests.web.panel import Panel

BASE = "therapy-room"


def start_overview(tmp_path, host: str, port: int, **web) -> Overview:
    return Overview(ClinicConfig.model_validate({
        "mqtt": {"host": host, "port": port, "base_topic": BASE},
        "web": {"port": 0, "pin": PIN, **web},
        "overview": {"name": "front desk", "data_dir": str(tmp_path / "overview")}})).start()


def alert(room: str, n: int, kind: str = "emergency_on", ago_s: float = 0, **fields) -> dict:
    at = (datetime.now().astimezone() - timedelta(seconds=ago_s)).isoformat(timespec="seconds")
    return {"id": f"{room}-{n}", "room": room, "room_name": f"Room {room[-1].upper()}", "kind": kind,
            "urgent": kind in ("emergency_on", "vitals_beyond_limit"), "phase": "Peak", "session_s": 5400,
            "at": at, "what": {"emergency_on": "Emergency light switched on",
                               "calm_pressed": "Calm pressed"}.get(kind, "Something happened"),
            "detail": {}, **fields}


class Room:
    """What a room sends by the contract: each alert once (QoS 1, not retained), and its retained list."""

    def __init__(self, client: Capture, room: str) -> None:
        self.client, self.room, self.open = client, room, []

    def raise_(self, item: dict) -> None:
        self.client.publish(f"{BASE}/{self.room}/alert", json.dumps(item), qos=1)
        self.open.append(item)
        self.publish_list()

    def seen(self, alert_id: str) -> None:
        self.open = [a for a in self.open if a["id"] != alert_id]
        self.publish_list()

    def publish_list(self) -> None:
        self.client.publish(f"{BASE}/{self.room}/alerts", json.dumps(self.open), retain=True, qos=1)


def shown(driver) -> list[tuple[str, list[str]]]:
    return [(node.get_attribute("data-alert"), node.text.splitlines())
            for node in driver.find_elements(By.CSS_SELECTOR, "#alerts [data-alert]")]


def body(driver, name: str) -> str | None:
    return driver.find_element(By.TAG_NAME, "body").get_attribute(f"data-{name}")


def test_an_urgent_alert_calls_until_acknowledged_and_the_ack_goes_to_the_room(tmp_path, broker, browser):
    wire = Capture(broker, f"{BASE}/+/alert/ack")
    room_x, room_y = Room(wire, "room-x"), Room(wire, "room-y")
    overview = start_overview(tmp_path, broker.host, broker.port)
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}").open()
        page.wait_text("link", "Live")
        assert body(browser, "sound") == "off"
        page.wait_text("sound-state", "Sound is off: urgent alerts make no sound")
        page.press("Enable sound")
        page.wait(lambda: body(browser, "sound") == "on" and body(browser, "audio") == "running", what="sound on")
        assert not page.shown("sound") and page.text("sound-state") == "Sound on"

        room_x.raise_(alert("room-x", 1, ago_s=120))
        room_y.raise_(alert("room-y", 7, kind="calm_pressed"))    # newer, not urgent: below the urgent one
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-x-1", "room-y-7"], what="both alerts, urgent first")
        assert shown(browser)[0][1] == ["Room X", "Emergency light on", "Emergency light switched on",
                                        "Peak · Session 1:30:00 · 2 min ago", "Acknowledge"]
        assert shown(browser)[1][1][:2] == ["Room Y", "Calm pressed"]
        before = int(body(browser, "beeps") or 0)
        page.wait(lambda: body(browser, "alarm") == "playing" and int(body(browser, "beeps") or 0) > before,
                  timeout=10, what="the tone, again")   # it repeats every few seconds until acknowledged
        assert body(browser, "audio") == "running"

        asked = datetime.now().astimezone().replace(microsecond=0)
        browser.find_element(By.CSS_SELECTOR, '[data-alert="room-x-1"] button').click()
        page.wait(lambda: page.shown("login-form"), what="the PIN, asked once")
        assert page.text("login-title") == "Acknowledge as front desk"
        page.find("pin").send_keys(PIN)
        page.find("login-form").submit()

        ack = wire.wait_for(lambda m: m.topic.endswith("/alert/ack"))
        assert (ack.topic, ack.qos, ack.retain) == (f"{BASE}/room-x/alert/ack", 1, False)
        sent = json.loads(ack.payload)
        assert ack.payload == json.dumps({"id": "room-x-1", "by": "front desk", "at": sent["at"]}, separators=(",", ":"))
        at = datetime.fromisoformat(sent["at"])
        assert at.tzinfo is not None and asked <= at <= datetime.now().astimezone()
        page.wait(lambda: body(browser, "alarm") == "quiet", what="the tone stopped by the acknowledgement")
        page.wait(lambda: shown(browser)[0][1][-1] == f"Acknowledged by front desk, {at:%I:%M %p}: waiting for the room",
                  what="the acknowledgement shown until the room has it")

        room_x.seen("room-x-1")                                    # the room journals it and drops it from its list
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-y-7"], what="the acknowledged alert gone")
        assert body(browser, "alarm") == "quiet"
        assert wire.drain() == []                                  # one acknowledgement, not sent again
    finally:
        overview.stop()
        wire.client.publish(f"{BASE}/room-x/alerts", "", retain=True).wait_for_publish(5)
        wire.client.publish(f"{BASE}/room-y/alerts", "", retain=True).wait_for_publish(5)
        wire.close()
