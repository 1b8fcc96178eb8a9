"""`recovered` in `phase_entered` is true only after a real restart. On the real clock a fresh session is a
few microseconds old at its first tick, which the runner used to take for a session rebuilt from the journal.
The report reads a restart in the middle of a phase as a recovery, not as a second phase."""

from __future__ import annotations

import time

import pytest

from room_controller.app import App
from room_controller.reporting import report
from tests.rooms import load
from tests.session.test_session_api import LIGHTS, PLACES


def started(config, catalogue) -> App:
    app = App(config, catalogue, audio=False, web=False).start()   # the real clock: time passes between calls
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    return app


def entered(app: App, session_id: int) -> list[bool]:
    with app.journal.reader() as reader:
        return [row.data["recovered"] for row in reader.events(session_id, ["phase_entered"])]


@pytest.mark.slow
def test_a_fresh_session_is_not_recovered_and_a_restarted_one_is(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
    app = started(config, catalogue)
    try:
        session_id = app.loop.call(app.room.session.start, "ketamine-1h", "")["session"]
        app.loop.call(app.room.session.next)
        assert entered(app, session_id) == [False, False]
        names = [phase["name"] for phase in app.room.snapshot()["session"]["phases"]]
    finally:
        app.stop()
    time.sleep(0.05)   # some real time in the phase, as after any restart
    again = started(config, catalogue)
    try:
        assert entered(again, session_id) == [False, False, True]
        with again.journal.reader() as reader:   # the report: one phase the room restarted in, and a recovery
            built = report.build(reader.session(session_id), reader.events(session_id), events=False)
        assert [phase["name"] for phase in built["phases"]] == names[:2]
        assert built["phases"][1]["end_s"] is None and len(built["recoveries"]) == 1
    finally:
        again.stop()
