"""Several rooms on one clinic broker: each logs in as itself, and the broker's ACL keeps it to its own
topics and devices (OPERATIONS.md, "Several rooms on one broker")."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from room_controller.app import App
from room_controller.infrastructure.broker import Broker
from tests.broker import Capture
from tests.rooms import load

pytestmark = pytest.mark.slow

USERS = {"room-a": "secret-a-0123", "room-b": "secret-b-0123", "clinic": "secret-c-0123"}
ACL = """\
user room-a
topic readwrite therapy-room/room-a/#
topic readwrite zigbee2mqtt/a-ceiling/#

user room-b
topic readwrite therapy-room/room-b/#
topic readwrite zigbee2mqtt/b-ceiling/#

user clinic
topic read #
"""


@pytest.fixture
def clinic_broker(tmp_path):
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    for i, (user, password) in enumerate(USERS.items()):
        subprocess.run(["mosquitto_passwd", *([] if i else ["-c"]), "-b", str(passwd), user, password], check=True)
    acl.write_text(ACL)
    broker = Broker(f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n").start()
    yield broker
    broker.close()


def start(tmp_path, broker, room_id, lights):
    config, catalogue = load(tmp_path / room_id, broker, room_id, lights,
                             mqtt={"host": broker.host, "port": broker.port, "username": room_id,
                                   "password": USERS[room_id]})
    app = App(config, catalogue, web=False, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected:
        assert time.monotonic() < deadline, "the room could not log in"
        time.sleep(0.01)
    return app


def test_each_room_touches_only_its_own_devices(tmp_path, clinic_broker):
    (tmp_path / "room-a").mkdir()
    (tmp_path / "room-b").mkdir()
    watcher = Capture(clinic_broker, "#", username="clinic", password=USERS["clinic"])
    a = start(tmp_path, clinic_broker, "room-a", [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "a-ceiling"},
                                                  # a mistake in room A's config names room B's bulb:
                                                  {"id": "wrong", "profile": "zigbee2mqtt", "device": "b-ceiling"}])
    b = start(tmp_path, clinic_broker, "room-b", [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "b-ceiling"}])
    try:
        marks = {room: f"therapy-room/{room.config.room.id}/test-mark" for room in (a, b)}   # in each one's ACL
        for room in (a, b):
            watcher.sent_until_now(room, marks[room])   # what each did on starting
        a.loop.call(a.room.presets.activate, "calm")
        got = watcher.sent_until_now(a, marks[a])
        sets = [m.topic for m in got if m.topic.endswith("/set")]
        assert sets == ["zigbee2mqtt/a-ceiling/set"]          # the broker dropped the command to room B's bulb
        b.loop.call(b.room.presets.activate, "emergency")
        got = watcher.sent_until_now(b, marks[b])
        assert [m.topic for m in got if m.topic.endswith("/set")] == ["zigbee2mqtt/b-ceiling/set"]
        states = {m.topic: json.loads(m.payload)["preset"] for m in got + watcher.all if m.topic.endswith("/state")}
        assert states == {"therapy-room/room-a/state": "calm", "therapy-room/room-b/state": "emergency"}
    finally:
        a.stop()
        b.stop()
        watcher.close()
