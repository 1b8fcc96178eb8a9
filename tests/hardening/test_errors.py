"""Errors never vanish: work handed to the core without waiting, a broker that refuses the room's password,
and `check` with several mistakes at once."""

from __future__ import annotations

import logging
import subprocess
import time

import pytest
import requests
import yaml

from room_controller.app import App
from room_controller.checks import check_paths
from room_controller.infrastructure.broker import Broker
from tests.rooms import load


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@pytest.mark.slow
def test_work_submitted_without_waiting_that_fails_is_logged_and_shown(served, caplog):
    caplog.set_level(logging.ERROR)

    def broken():
        return {}["no such key"]

    served.app.loop.submit(broken)     # nobody waits for this future
    served.app.loop.settle()
    served.app.loop.call(served.app.room.after_batch)
    (record,) = [r for r in caplog.records if "broken" in r.getMessage()]
    assert record.exc_info and record.exc_info[0] is KeyError   # with its traceback
    health = requests.get(f"{served.base}/api/health").json()
    assert health["status"] == "degraded"
    assert any("broken: KeyError" in p for p in health["problems"])


@pytest.fixture
def password_broker(tmp_path):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "room-controller", "right-password"], check=True)
    broker = Broker(f"allow_anonymous false\npassword_file {passwd}\n").start()
    yield broker
    broker.stop()


@pytest.mark.slow
def test_a_wrong_broker_password_shows_in_health_the_banner_and_the_log(tmp_path, password_broker, room_id, caplog):
    caplog.set_level(logging.WARNING)
    config, catalogue = load(tmp_path, password_broker, room_id, [],
                             mqtt={"host": password_broker.host, "port": password_broker.port,
                                   "username": "room-controller", "password": "wrong-password"})
    app = App(config, catalogue, audio=False)
    refusals, connected = [], app.link._client.on_connect

    def counting(client, userdata, flags, reason_code, properties):
        refusals.append(reason_code)
        connected(client, userdata, flags, reason_code, properties)

    app.link._client.on_connect = counting   # paho's answers, counted as they come
    app.start()
    try:
        base = f"http://127.0.0.1:{app.web.port}"
        auth = {"Authorization": "Bearer test-token-0123456789"}
        wait_until(lambda: "not authorised" in (requests.get(f"{base}/api/health").json()["mqtt_error"] or ""))
        health = requests.get(f"{base}/api/health").json()
        assert health["mqtt"] == "disconnected" and health["status"] == "degraded"
        state = requests.get(f"{base}/api/state", headers=auth).json()
        assert [p for p in state["problems"] if "refused the login: not authorised" in p]   # the panel's banner
        wait_until(lambda: len(refusals) >= 3)   # paho retries every second: the log still says it once
        assert len([r for r in caplog.records if "not authorised" in r.getMessage()]) == 1
    finally:
        app.stop()
    password_broker.stop()
    app = App(config, catalogue, audio=False).start()   # no broker at all: unreachable, said as such
    try:
        wait_until(lambda: any("unreachable" in p for p in app.room.snapshot().get("problems", [])))
    finally:
        app.stop()


def test_check_reports_every_problem_of_a_room_in_one_run(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "p.yaml").write_text(yaml.safe_dump({"id": "p", "name": "P", "phases": [
        {"name": "One", "duration": "10x", "music": {"playlist": "missing.m3u"}, "lights": {"brightness": 300}}]}))
    room = tmp_path / "room.yaml"
    room.write_text(yaml.safe_dump({"room": {"id": "r"}, "profiles_dir": "profiles", "playlists_dir": "nowhere",
                                    "presets": {"reading": {"music": {"playlist": "gone.m3u"}}}}))
    found = {(p.path, p.message.split(":")[0]) for p in check_paths([room])}
    assert found == {("playlists_dir", "no such folder"), ("phases[0].duration", "'10x' is not a duration; write it like 90s, 20m, 1h30m or 250ms"),
                     ("phases[0].music.playlist", f"cannot read the playlist {tmp_path / 'nowhere' / 'missing.m3u'}"),
                     ("phases[0].lights.brightness", "Input should be less than or equal to 100")}


def test_check_reports_a_missing_profiles_folder_and_preset_playlist(tmp_path):
    (tmp_path / "music").mkdir()
    room = tmp_path / "room.yaml"
    room.write_text(yaml.safe_dump({"room": {"id": "r"}, "profiles_dir": "gone", "playlists_dir": "music",
                                    "presets": {"reading": {"music": {"playlist": "absent.m3u"}}}}))
    assert sorted(p.path for p in check_paths([room])) == ["presets.calm.music.playlist",
                                                          "presets.reading.music.playlist", "profiles_dir"]


def test_check_still_checks_the_profiles_when_the_room_file_is_wrong(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.yaml").write_text("id: p\nname: P\nphases: [{name: One, duration: 10x}]\n")
    room = tmp_path / "room.yaml"
    room.write_text("room: {id: r}\nmqtt: {port: 0}\n")
    assert sorted(p.path for p in check_paths([room])) == ["mqtt.port", "phases[0].duration", "playlists_dir"]
