"""Rooms for the hardening tests: served on loopback with a PIN and a token, on a test clock, a real broker."""

from __future__ import annotations

import pytest

from room_controller.infrastructure.clock import ManualClock
from tests.rooms import load
from tests.strain.conftest import AUTH, LIGHTS, PIN, PLACES, TOKEN, Served
from tests.strain.test_faults import start

__all__ = ["AUTH", "PIN", "TOKEN", "serve"]


def serve(tmp_path, broker, room_id, clock: ManualClock | None = None, **web) -> Served:
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES,
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN, **web})
    clock = clock or ManualClock()
    app = start(config, catalogue, clock, web=True)
    return Served(app, f"http://127.0.0.1:{app.web.port}", clock)


@pytest.fixture
def served(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id)
    yield room
    room.app.stop()
