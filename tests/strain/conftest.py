"""Rooms for the strain tests: served on loopback, on a test clock so that the room's state moves only when a
request moves it (a rejected request must leave it exactly as it was)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.rooms import load
from tests.test_room_wire import described

ROOT = Path(__file__).resolve().parents[2]
PIN = "2468"
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"},
          {"id": "floor", "profile": "tasmota", "device": "floorlamp"},
          {"id": "odd", "profile": "template-per-topic", "device": "odd/lamp"}]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}


@dataclass
class Served:
    app: App
    base: str
    clock: ManualClock

    def fingerprint(self) -> tuple[bytes, int, int]:
        """Everything a request can change: the room's state, the journal's events and sessions. A refused
        login is journaled on purpose (the audit trail of PIN guessing, webapp/auth.py), and so is a preset
        refused while the emergency light holds (the record of a stray tap, core/presets.py): not counted."""
        self.app.loop.settle()
        self.app.journal.flush()   # read behind the journal's back: what the room queued, committed first
        with sqlite3.connect(f"file:{self.app.journal.path}?mode=ro", uri=True) as db:
            counts = db.execute("SELECT (SELECT count(*) FROM events WHERE kind NOT IN ('login_failed', 'login_locked', 'preset_refused')),"
                                " (SELECT count(*) FROM sessions)").fetchone()
        return self.app.room.snapshot_json(), *counts


@pytest.fixture
def served(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES,
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN})
    clock = ManualClock()
    app = App(config, catalogue, clock=clock, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    app.loop.settle()
    described(app, broker)   # a room in service: its Zigbee2MQTT has said what the bulb is
    yield Served(app, f"http://127.0.0.1:{app.web.port}", clock)
    app.stop()
