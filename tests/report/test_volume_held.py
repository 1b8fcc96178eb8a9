"""A volume asked above the room's max_volume is recorded as what happened: what the room played and what was
asked, held back by the room's limit, over the HTTP API and the command topic, in the journal, the report's
event list and its summary. A room with real music (VLC with no sound output) on the test clock."""

from __future__ import annotations

import time

import pytest
import requests

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Capture
from tests.rooms import load
from tests.session.test_session_api import AUTH, LIGHTS, PLACES

pytestmark = pytest.mark.slow


@pytest.fixture
def music_room(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES,
                             audio={"vlc_args": ["--aout=dummy"], "max_volume": 80})
    app = App(config, catalogue, clock=ManualClock(), audio=True).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    yield app, f"http://127.0.0.1:{app.web.port}"
    app.stop()


def volume_rows(app, session_id):
    app.loop.settle()
    return [row.data for row in app.journal.read.events(session_id, ["music_changed"]) if "volume" in row.data]


def test_a_volume_above_the_rooms_limit_is_recorded_as_played_and_asked(music_room, broker, room_id):
    app, base = music_room
    session_id = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).json()["session"]
    r = requests.patch(f"{base}/api/audio", headers=AUTH, json={"volume": 95})
    assert r.status_code == 200
    # a moment passes on the room's clock: the music tells the room of a change at most every 0.25 s, and one
    # that came within that gap of the session's music (on this test clock, at the same instant) waits for it
    app.clock.advance(0.5)
    deadline = time.monotonic() + 5
    while (audio := requests.get(f"{base}/api/state", headers=AUTH).json()["audio"])["requested_volume"] != 95 \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (audio["requested_volume"], audio["target_volume"], audio["limited"]) == (95, 80, True)
    assert volume_rows(app, session_id) == [{"volume": 95, "played": 80}]
    requests.patch(f"{base}/api/audio", headers=AUTH, json={"volume": 45}).raise_for_status()   # within it

    command = Capture(broker, f"therapy-room/{room_id}/state")
    command.publish(f"therapy-room/{room_id}/command", '{"music": {"volume": 100}}')   # Home Assistant's slider
    deadline = time.monotonic() + 5
    while len(volume_rows(app, session_id)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    command.close()
    assert volume_rows(app, session_id) == [{"volume": 95, "played": 80}, {"volume": 45, "played": 45},
                                            {"volume": 100.0, "played": 80}]

    requests.post(f"{base}/api/session/stop", headers=AUTH).raise_for_status()
    page = requests.get(f"{base}/api/sessions/{session_id}/report?format=html", headers=AUTH).text
    events = page[page.index("<table class=events>"):]
    assert events.count("Volume 80 % (asked 95 %, held by the room&#x27;s limit)") == 1
    assert events.count("Volume set to 45 %") == 1
    assert events.count("Volume 80 % (asked 100 %, held by the room&#x27;s limit)") == 1
    summary = page[page.index("<div class=summary>"):page.index("<h2>Timeline</h2>")]
    assert "Volume asked above the room's limit 2× (up to 100 %), played at 80 %" in summary
    german = requests.get(f"{base}/api/sessions/{session_id}/report?format=html&lang=de", headers=AUTH).text
    assert "Lautstärke 80 % (verlangt 95 %, von der Grenze des Raums gehalten)" in german
