from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.broker import Broker

ROOT = Path(__file__).resolve().parents[1]
_rooms = itertools.count(1)


@pytest.fixture(scope="session")
def broker():
    """One mosquitto for the tests that only publish and subscribe (each test uses its own room id)."""
    b = Broker().start()
    yield b
    b.close()


@pytest.fixture
def own_broker():
    """A mosquitto of this test's own, for tests that stop or restart it."""
    b = Broker().start()
    yield b
    b.close()


@pytest.fixture
def room_id() -> str:
    return f"room-{next(_rooms)}"
