"""The shipped broker ACL on a real mosquitto: a lamp speaks only for itself, the controller cannot press a
remote's button, Zigbee2MQTT writes only under its own prefix, the clinic overview hears alerts and only
acknowledges them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from room_controller.infrastructure.broker import Broker
from tests.broker import Capture

ACL = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto-room.acl"
USERS = ("room-controller", "zigbee2mqtt", "floorlamp", "readinglamp", "overview")
ROOM = "therapy-room/room-1"


@pytest.fixture(scope="module")
def clinic_broker(tmp_path_factory):
    folder = tmp_path_factory.mktemp("acl")
    passwd = folder / "passwd"
    for i, user in enumerate(USERS):
        subprocess.run(["mosquitto_passwd", *([] if i else ["-c"]), "-b", str(passwd), user, f"{user}-pw"],
                       check=True)
    broker = Broker(f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n").start()
    yield broker
    broker.stop()


def arrives(broker, user: str, topic: str, watcher: str = "room-controller", mark: str | None = None) -> bool:
    """Does `user`'s publish on `topic` reach a subscriber? Decided without waiting on a clock: the same
    client then publishes a mark on a topic it may write and the watcher may read (`mark`, by default one of
    the user's own), and messages of one client arrive in order."""
    allowed = mark or {"room-controller": "zigbee2mqtt/mark/set", "zigbee2mqtt": "zigbee2mqtt/mark",
                       "floorlamp": "stat/floorlamp/mark"}[user]
    seen = Capture(broker, "#", username=watcher, password=f"{watcher}-pw")
    sender = Capture(broker, "nothing", username=user, password=f"{user}-pw")
    try:
        sender.publish(topic, "x", qos=1)
        sender.publish(allowed, "mark", qos=1)
        heard: list[tuple[str, str]] = []
        while not heard or heard[-1] != (allowed, "mark"):
            message = seen.next()
            heard.append((message.topic, message.payload))
        return (topic, "x") in heard
    finally:
        sender.close()
        seen.close()


def test_a_lamp_reports_for_itself_only(clinic_broker):
    assert arrives(clinic_broker, "floorlamp", "tele/floorlamp/LWT")
    assert not arrives(clinic_broker, "floorlamp", "tele/readinglamp/LWT")   # cannot mark another offline
    assert not arrives(clinic_broker, "floorlamp", "zigbee2mqtt/Bedside remote")


def test_the_controller_commands_lights_but_presses_no_button(clinic_broker):
    assert arrives(clinic_broker, "room-controller", "zigbee2mqtt/Ceiling lamp/set", watcher="zigbee2mqtt")
    assert not arrives(clinic_broker, "room-controller", "zigbee2mqtt/Bedside remote", watcher="zigbee2mqtt")


def test_zigbee2mqtt_writes_only_under_its_prefix(clinic_broker):
    assert arrives(clinic_broker, "zigbee2mqtt", "zigbee2mqtt/Bedside remote")
    assert not arrives(clinic_broker, "zigbee2mqtt", "therapy-room/room-1/command")
    assert not arrives(clinic_broker, "zigbee2mqtt", "tele/floorlamp/LWT")


def test_the_overview_hears_every_rooms_alerts_and_only_acknowledges(clinic_broker):
    for leaf in ("alert", "alerts", "state", "status", "day"):
        assert arrives(clinic_broker, "room-controller", f"{ROOM}/{leaf}", watcher="overview", mark=f"{ROOM}/alerts")
    assert not arrives(clinic_broker, "room-controller", f"{ROOM}/command", watcher="overview", mark=f"{ROOM}/alerts")
    ack = f"{ROOM}/alert/ack"
    assert arrives(clinic_broker, "overview", ack, mark=ack)   # the room reads its acknowledgements
    for forged in (f"{ROOM}/alert", f"{ROOM}/alerts", f"{ROOM}/command", "zigbee2mqtt/Ceiling lamp/set"):
        assert not arrives(clinic_broker, "overview", forged, mark=ack)   # no alert, list or command of its own
