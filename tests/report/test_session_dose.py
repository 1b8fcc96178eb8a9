"""The sound dose is the session's: it starts at 0 % with the session and its end journals the final figure
(a number when the room is calibrated, None when it is not), which the report shows."""

from __future__ import annotations

import pytest

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.rooms import load
from tests.session.test_session_api import LIGHTS, PLACES


@pytest.mark.slow
@pytest.mark.parametrize("calibration", [80.0, None])
def test_the_session_end_carries_its_dose(tmp_path, broker, room_id, calibration):
    audio = {"vlc_args": ["--aout=dummy"], "max_volume": 80, "calibration_dba": calibration}
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, audio=audio, **PLACES)
    app = App(config, catalogue, clock=ManualClock(), audio=True, web=False).start()
    try:
        app.music.reset_dose(42.0)   # what an earlier client heard
        session_id = app.loop.call(app.room.session.start, "ketamine-1h", "")["session"]
        app.music.settle()
        assert app.music.snapshot()["dose"]["percent"] == (0.0 if calibration else None)
        app.loop.call(app.room.session.stop)
        stopped = app.journal.read.events(session_id, ["session_stopped"])[0].data
        assert "dose" in stopped and (stopped["dose"] == 0.0 if calibration else stopped["dose"] is None)
    finally:
        app.stop()
