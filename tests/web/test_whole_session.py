"""Issue 22 §10: a whole session walked through the real panel in headless Chromium, on the room's test clock
(8 hours in ten-minute steps), a real broker and the room's lights, at a tablet and a phone. Calm double-
tapped, over each dialog, during emergency; a phase moved and undone; vitals normal and beyond a limit;
notes; the volume pushed past the room's cap; the service stopped and started again mid-session; the session
stopped; the report read. One walk per device (tests/web/walk.py) and one verdict per promise, each failing
with every step that broke it. A promise whose part of the issue has not landed is xfail(strict): it fails
the day it holds, to be unmarked."""

from __future__ import annotations

import pytest

from tests.web.walk import PROMISES, WALKS, Room, walk

NOT_LANDED = {   # a promise the product does not keep yet: xfail(strict), so it fails the day it holds
    "split": "the report opens a second row for the phase the room resumed in after a restart "
             "(journal/report.py: a phase_entered with recovered=True starts a new span)",
}


@pytest.fixture(scope="module", params=WALKS)
def walked(request, chrome, broker, tmp_path_factory):
    size, profile, seed = WALKS[request.param]
    room = Room(tmp_path_factory.mktemp(f"walk-{request.param}"), broker, f"walk-{request.param}")
    try:
        yield walk(chrome, room, size, profile, request.param, seed)
    finally:
        room.stop()


@pytest.mark.parametrize("promise", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=NOT_LANDED[p])) if p in NOT_LANDED else p
    for p in PROMISES])
def test_the_whole_session_keeps_its_promise(walked, promise):
    assert walked.checks[promise] > 0, f"the walk never came to check that {PROMISES[promise]}"
    assert walked.faults[promise] == [], f"{PROMISES[promise]}: " + "; ".join(walked.faults[promise])
