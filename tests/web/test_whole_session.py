"""Issue 22 §10: a whole session walked through the real panel in headless Chromium, on the room's test clock
(8 hours in ten-minute steps), a real broker and the room's lights, at a tablet and a phone. Calm double-
tapped, over each dialog, during emergency; a phase moved and undone; vitals normal and beyond a limit;
notes; the volume pushed past the room's cap; the service stopped and started again mid-session; the session
stopped; the report read. One walk per device (tests/web/walk.py) and one verdict per promise, each failing
with every step that broke it."""

from __future__ import annotations

import pytest

from tests.web.walk import PROMISES, WALKS, Room, walk


@pytest.fixture(scope="module", params=WALKS)
def walked(request, chrome, broker, tmp_path_factory):
    size, profile, seed = WALKS[request.param]
    room = Room(tmp_path_factory.mktemp(f"walk-{request.param}"), broker, f"walk-{request.param}")
    try:
        yield walk(chrome, room, size, profile, request.param, seed)
    finally:
        room.stop()


@pytest.mark.parametrize("promise", PROMISES)
def test_the_whole_session_keeps_its_promise(walked, promise):
    assert walked.checks[promise] > 0, f"the walk never came to check that {PROMISES[promise]}"
    assert walked.faults[promise] == [], f"{PROMISES[promise]}: " + "; ".join(walked.faults[promise])
