"""The room and its music together: phases and presets change the playlist; the API sets the volume, which
holds across phases and a restart until the therapist follows the phase again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from room_controller.app import App
from room_controller.journal.store import Row
from room_controller.session.recovery import replay
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer test-token-0123456789"}


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.fixture
def room_files(tmp_path, broker, room_id):
    """A room's config and device catalogue (a restart builds a second App from them), its music capped at 60."""
    audio = {"vlc_args": ["--aout=dummy"], "max_volume": 60, "crossfade": "1s"}
    return load(tmp_path, broker, room_id, [], audio=audio,
                profiles_dir=str(ROOT / "deploy" / "profiles"), playlists_dir=str(ROOT / "playlists"))


@pytest.fixture
def served(room_files):
    app = App(*room_files).start()
    yield app, f"http://127.0.0.1:{app.web.port}"
    app.stop()


def audio(app) -> dict:
    return app.room.music.snapshot()


@pytest.mark.slow
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


@pytest.mark.slow
def test_the_therapists_volume_holds_across_phases_and_a_restart_until_the_phase_is_followed(room_files):
    app = App(*room_files).start()
    try:
        base = f"http://127.0.0.1:{app.web.port}"
        described = requests.get(f"{base}/api/openapi.json").json()["components"]["schemas"]["AudioPatch"]
        assert {"const": True, "type": "boolean"} in described["properties"]["follow_phase"]["anyOf"]
        r = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"})
        session_id = r.json()["session"]
        wait_for(lambda: audio(app)["playlist"] == "arrival.m3u" and audio(app)["target_volume"] == 30)
        assert requests.patch(f"{base}/api/audio", headers=AUTH, json={"volume": 20}).status_code == 200
        wait_for(lambda: audio(app)["volume_source"] == "therapist" and audio(app)["target_volume"] == 20)
        requests.post(f"{base}/api/session/next", headers=AUTH)                    # onset asks for 35
        wait_for(lambda: audio(app)["playlist"] == "onset.m3u")
        assert (audio(app)["target_volume"], audio(app)["volume_source"]) == (20, "therapist")
    finally:
        app.stop()
    app = App(*room_files).start()                                                  # the service restarts
    try:
        base = f"http://127.0.0.1:{app.web.port}"
        def room_audio() -> dict:   # the room's snapshot, which follows the music's a batch later
            return requests.get(f"{base}/api/state", headers=AUTH).json()["audio"]

        wait_for(lambda: room_audio()["playlist"] == "onset.m3u")
        state = room_audio()
        assert (state["target_volume"], state["requested_volume"], state["volume_source"]) == (20, 20, "therapist")
        r = requests.patch(f"{base}/api/audio", headers=AUTH, json={"follow_phase": True})
        assert r.status_code == 200
        wait_for(lambda: audio(app)["volume_source"] == "phase" and audio(app)["target_volume"] == 35)
        changes = [row.data for row in app.journal.read.events(session_id, ["music_changed"])]
        assert changes == [{"volume": 20, "played": 20}, {"follow_phase": True}]
    finally:
        app.stop()


@pytest.mark.parametrize("body, message", [
    ({"volume": 40, "follow_phase": True}, "give volume or follow_phase, not both"),
    ({"follow_phase": False}, "follow_phase"),
    ({}, "give volume, playing and/or follow_phase"),
])
@pytest.mark.slow
def test_a_contradictory_audio_request_is_refused_and_changes_nothing(served, body, message):
    _, base = served
    r = requests.patch(f"{base}/api/audio", headers=AUTH, json=body)
    assert r.status_code == 422 and message in r.json()["error"]["message"]


def row(kind: str, **data) -> Row:
    return Row(0, 1, 0.0, 0.0, 0.0, kind, data)


def chosen_volume(rows: list[Row]) -> tuple[float | None, bool]:
    return replay(rows).chosen_volume


def test_recovery_reads_the_choice_that_still_holds_from_the_journal():
    assert chosen_volume([]) == (None, False)
    assert chosen_volume([row("music_changed", volume=20), row("phase_entered")]) == (20, False)
    assert chosen_volume([row("music_changed", volume=20), row("music_changed", follow_phase=True)]) == (None, False)
    assert chosen_volume([row("music_changed", playing=False)]) == (None, False)
    calm_after = [row("music_changed", volume=20), row("preset_on", preset="calm")]
    assert chosen_volume(calm_after) == (20, False)            # calm's own level, the choice after release
    under_calm = [row("preset_on", preset="calm"), row("music_changed", volume=15)]
    assert chosen_volume(under_calm) == (15, True)              # the level under calm too
    assert chosen_volume(under_calm + [row("preset_off", preset="calm")]) == (15, False)
