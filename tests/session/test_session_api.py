"""Session routes over HTTP, the report, and a journal that cannot be read at start-up."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
import requests

from room_controller.app import App
from room_controller.reporting.report import playing_at
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer test-token-0123456789"}
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"}]


def serve(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
    app = App(config, catalogue, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    return app, f"http://127.0.0.1:{app.web.port}"


@pytest.fixture
def served(tmp_path, broker, room_id):
    app, base = serve(tmp_path, broker, room_id)
    yield app, base
    app.stop()


def test_profiles_start_control_and_report(served):
    app, base = served
    profiles = requests.get(f"{base}/api/profiles", headers=AUTH).json()
    mdma = next(p for p in profiles if p["id"] == "mdma-8h")
    assert mdma["phases"][0] == {"name": "Arrival", "duration_s": 1200.0}
    assert requests.post(f"{base}/api/session/pause", headers=AUTH).status_code == 409
    r = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "mdma-8h", "label": "A-17"})
    assert r.status_code == 201
    session_id = r.json()["session"]
    assert requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "mdma-8h"}).status_code == 409
    state = requests.get(f"{base}/api/state", headers=AUTH).json()["session"]
    assert (state["profile"], state["phase"]["index"], state["phase"]["name"], state["paused"]) == \
        ("mdma-8h", 0, "Arrival", False)
    assert requests.post(f"{base}/api/session/extend", headers=AUTH, json={"duration": "15m"}).status_code == 200
    assert requests.post(f"{base}/api/session/extend", headers=AUTH, json={"duration": "-5m"}).status_code == 422
    assert requests.post(f"{base}/api/notes", headers=AUTH, json={"text": "client resting"}).status_code == 200
    assert requests.post(f"{base}/api/notes", headers=AUTH, json={"text": ""}).status_code == 422
    assert requests.post(f"{base}/api/session/next", headers=AUTH).json()["session"]["phase"]["name"] == "Onset"
    assert requests.post(f"{base}/api/reminders/999/ack", headers=AUTH).status_code == 404
    assert requests.post(f"{base}/api/session/stop", headers=AUTH).json() == {"session": None}
    report = requests.get(f"{base}/api/sessions/{session_id}/report", headers=AUTH).json()
    assert report["session"]["label"] == "A-17"
    assert [p["name"] for p in report["phases"]] == ["Arrival", "Onset"]
    assert report["phases"][0]["end_s"] == report["phases"][1]["start_s"]
    assert [n["text"] for n in report["notes"]] == ["client resting"]
    text = requests.get(f"{base}/api/sessions/{session_id}/report?format=csv", headers=AUTH).text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["time", "session_time", "event", "details"]
    assert [r[2] for r in rows[1:]][:2] == ["session_started", "phase_entered"]
    assert requests.get(f"{base}/api/sessions/999/report", headers=AUTH).status_code == 404
    assert requests.get(f"{base}/api/sessions/{session_id}/report?format=pdf", headers=AUTH).status_code == 422
    assert requests.get(f"{base}/api/sessions", headers=AUTH).json()[0]["id"] == session_id


def test_what_was_playing_when():
    report = {"tracks": [{"name": "Warm drone", "start_s": 0, "end_s": 40}, {"name": "Low tide", "start_s": 40,
                                                                            "end_s": None}]}
    assert playing_at(report, 39.9)["name"] == "Warm drone"
    assert playing_at(report, 500)["name"] == "Low tide"


def test_a_corrupt_journal_is_kept_aside_and_a_new_one_begun(tmp_path, broker, room_id):
    data = tmp_path / "data"
    data.mkdir()
    (data / "journal.db").write_bytes(b"this is not a database" * 100)
    app, base = serve(tmp_path, broker, room_id)
    try:
        health = requests.get(f"{base}/api/health").json()
        assert health["status"] == "degraded"
        assert any("kept as journal.db.broken-" in p for p in health["problems"])
        aside = [p for p in data.iterdir() if p.name.startswith("journal.db.broken-")]
        assert len(aside) == 1 and aside[0].read_bytes() == b"this is not a database" * 100
        r = requests.post(f"{base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"})
        assert r.status_code == 201   # the room works with its new journal
    finally:
        app.stop()
