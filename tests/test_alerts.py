"""Rooms that call for help, on a real broker: each alert's exact topic, payload, QoS and retain flag from every
input that can cause it, the retained list, acknowledgements, a broker that goes away, a restart, privacy."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Capture
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WALL = 1_780_000_000.0   # the test clock's wall time at the start
REMOTE = "zigbee2mqtt/Bedside remote"
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp", "name": "Ceiling lamp"}]
BUTTONS = [{"topic": REMOTE, "match": {"action": "hold"}, "do": {"preset": "emergency"}},
           {"topic": REMOTE, "match": {"action": "single"}, "do": {"preset": "calm"}},
           {"topic": REMOTE, "match": {"action": "double"}, "do": {"preset": None}}]


def wait_until(predicate, what: str = "condition", timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Room:
    """A served room on the test clock with its alert topics captured."""

    def __init__(self, tmp_path, broker, room_id, clock=None, **sections) -> None:
        self.clock = clock or ManualClock()
        self.broker, self.room_id, self.tmp_path, self.sections = broker, room_id, tmp_path, sections
        self.prefix = f"therapy-room/{room_id}"
        self.watch = Capture(broker, f"{self.prefix}/alert", f"{self.prefix}/alerts", f"{self.prefix}/alert/ack",
                             f"{self.prefix}/test-mark")
        self.app = self.start()

    def start(self) -> App:
        sections = {"buttons": BUTTONS, "profiles_dir": str(ROOT / "deploy" / "profiles"),
                    "playlists_dir": str(ROOT / "playlists"), **self.sections}
        config, catalogue = load(self.tmp_path, self.broker, self.room_id, LIGHTS, **sections)
        app = App(config, catalogue, clock=self.clock, audio=False).start()
        wait_until(lambda: app.room.mqtt_connected, "the room to connect")
        app.loop.settle()
        self.base = f"http://127.0.0.1:{app.web.port}"
        return app

    def sent(self) -> list:
        """What the room sent on its alert topics up to now."""
        return self.watch.sent_until_now(self.app, f"{self.prefix}/test-mark")

    def alerts(self) -> list[dict]:
        return [json.loads(m.payload) for m in self.sent() if m.topic.endswith("/alert")]

    def close(self) -> None:
        self.app.stop()
        self.watch.close()


@pytest.fixture
def make(tmp_path, broker, room_id):
    rooms: list[Room] = []

    def make_room(**sections) -> Room:
        room = Room(tmp_path, broker, room_id, **sections)
        rooms.append(room)
        return room

    yield make_room
    for room in rooms:
        room.close()


def local(wall: float) -> str:
    return datetime.fromtimestamp(wall).astimezone().isoformat(timespec="seconds")


def expected(room: Room, n: int, kind: str, what: str, detail: dict | None = None, urgent: bool = False,
             phase: str | None = None, session_s: float | None = None, at: float = WALL) -> dict:
    return {"id": f"{room.room_id}-{n}", "room": room.room_id, "room_name": "Test room", "kind": kind,
            "urgent": urgent, "phase": phase, "session_s": session_s, "at": local(at), "what": what,
            "detail": detail or {}}


def journaled(room: Room, kind: str) -> list[dict]:
    rows = room.app.journal.call(lambda db: db.execute("SELECT data FROM events WHERE kind=? ORDER BY id",
                                                       (kind,)).fetchall())
    return [json.loads(row[0]) for row in rows]


@pytest.mark.parametrize("source", ["http", "command", "button"])
def test_emergency_on_from_every_source_is_one_urgent_alert(make, source):
    room = make()
    room.sent()   # the start: an empty retained list
    if source == "http":
        assert requests.post(f"{room.base}/api/presets/emergency", headers=AUTH).status_code == 200
    elif source == "command":
        room.watch.publish(f"{room.prefix}/command", '{"preset":"emergency"}')
    else:
        room.watch.publish(REMOTE, '{"action":"hold"}')
    wait_until(lambda: room.app.room.snapshot()["preset"] == "emergency", "the emergency light")
    got = [m for m in room.sent() if m.topic.endswith(("/alert", "/alerts"))]
    alert = expected(room, 1, "emergency_on", "Emergency light switched on", urgent=True)
    assert [(m.topic, json.loads(m.payload), m.qos, m.retain) for m in got] == [
        (f"{room.prefix}/alert", alert, 1, False),
        (f"{room.prefix}/alerts", [alert], 1, False),   # live delivery of the retained list
    ]
    assert journaled(room, "alert_raised") == [alert]
    late = Capture(room.broker, f"{room.prefix}/alerts")   # an overview that connects later catches up
    retained = late.next()
    assert (json.loads(retained.payload), retained.qos, retained.retain) == ([alert], 1, True)
    late.close()
    shown = room.app.room.snapshot()["alerts"]
    assert shown == [{"id": alert["id"], "kind": "emergency_on", "urgent": True, "what": "Emergency light switched on",
                      "at": alert["at"], "sent": True, "seen": None}]
