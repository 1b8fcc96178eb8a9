"""The room and its music together: phases and presets change the playlist; the API sets the volume."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from room_controller.app import App
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer test-token-0123456789"}


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture
def served(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, [], audio={"vlc_args": ["--aout=dummy"], "max_volume": 60,
                                                                    "crossfade": "1s"},
                             profiles_dir=str(ROOT / "deploy" / "profiles"), playlists_dir=str(ROOT / "playlists"))
    app = App(config, catalogue).start()
    yield app, f"http://127.0.0.1:{app.web.port}"
    app.stop()


def audio(app) -> dict:
    return app.room.music.snapshot()


def test_phases_and_presets_choose_the_music(served):
    app, base = served
    assert requests.get(f"{base}/api/health").json()["audio"] == "ok"
    r = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"})
    session_id = r.json()["session"]
    wait_for(lambda: audio(app)["playlist"] == "arrival.m3u" and audio(app)["playing"])
    requests.post(f"{base}/api/presets/calm", headers=AUTH)
    wait_for(lambda: audio(app)["playlist"] == "calm.m3u" and audio(app)["held"])
    requests.delete(f"{base}/api/presets/active", headers=AUTH)
    wait_for(lambda: audio(app)["playlist"] == "arrival.m3u" and not audio(app)["held"])
    requests.post(f"{base}/api/session/next", headers=AUTH)
    wait_for(lambda: audio(app)["playlist"] == "onset.m3u")
    assert requests.patch(f"{base}/api/audio", headers=AUTH, json={"volume": 120}).status_code == 422
    assert requests.patch(f"{base}/api/audio", headers=AUTH, json={"volume": 90}).status_code == 200
    wait_for(lambda: audio(app)["target_volume"] == 60)          # capped by the room's max_volume
    assert requests.post(f"{base}/api/audio/next", headers=AUTH).status_code == 200
    state = requests.get(f"{base}/api/state", headers=AUTH).json()
    assert set(state["audio"]) >= {"playing", "track", "volume"}
    report = requests.get(f"{base}/api/sessions/{session_id}/report", headers=AUTH).json()
    played = [t["name"] for t in report["tracks"]]
    assert played and all(isinstance(name, str) and name for name in played)
