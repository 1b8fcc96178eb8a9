from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import settings

from tests.broker import Broker

ROOT = Path(__file__).resolve().parents[1]
_rooms = itertools.count(1)


# The quick loop gives the same answer on every run: by default hypothesis draws its examples from a fixed seed.
# CI draws new ones each run (`--hypothesis-profile=fresh --hypothesis-seed=N`, the seed printed by .ci/run, so a
# failure replays with the same two options); `--hypothesis-profile=explore` draws new ones, more of each.
# No test sets derandomize or a database of its own, so every property test follows the profile.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("fresh", derandomize=False, database=None)
settings.register_profile("explore", derandomize=False, database=None, max_examples=1000)
settings.load_profile("repeatable")


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
