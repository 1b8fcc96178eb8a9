"""The panel shows the alerts its room sent the clinic floor: the emergency light held on the panel goes out
as an alert, the card says when it was sent, and after the overview's acknowledgement over MQTT, who saw it."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from room_controller.app import App
from tests.broker import Capture
from tests.rooms import load
from tests.web.conftest import LIGHTS, PIN, PLACES, TOKEN
from tests.web.panel import Panel


@pytest.fixture
def served_en_gb(tmp_path, broker, room_id):
    """A room whose panel speaks British English (times as 14:02)."""
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, room={"id": room_id, "name": "Room 4",
                                                                      "language": "en-GB"},
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN}, **PLACES)
    app = App(config, catalogue, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    yield app, f"http://127.0.0.1:{app.web.port}"
    app.stop()


def test_the_alert_sent_and_seen_by_the_front_desk(browser, served_en_gb, broker, room_id):
    app, base = served_en_gb
    prefix = f"therapy-room/{room_id}"
    desk = Capture(broker, f"{prefix}/alert")
    panel = Panel(browser, base).open_logged_in()
    assert not panel.shown("alerts")   # nothing went out yet: no card
    panel.hold("emergency", 1.3)
    alert = json.loads(desk.next().payload)
    assert (alert["kind"], alert["room_name"]) == ("emergency_on", "Room 4")
    sent = datetime.fromisoformat(alert["at"]).astimezone().strftime("%H:%M")
    panel.wait_text("alert-list", f"Emergency light on · sent {sent}")
    assert panel.find("alerts-title").get_attribute("textContent") == "Alerts sent"
    at = datetime(2026, 5, 28, 14, 2).astimezone().isoformat()   # 14:02 where the room is
    desk.publish(f"{prefix}/alert/ack", json.dumps({"id": alert["id"], "by": "the front desk", "at": at}), qos=1)
    panel.wait_text("alert-list", "Emergency light on · Seen by the front desk, 14:02")
    desk.close()
