"""Learning each bulb from Zigbee2MQTT's retained bridge/devices: parsing, precedence, and the room on a broker.

`z2m/bridge-devices.sample.json` is the payload zigbee2mqtt's own test expects its bridge to publish
(Koenkk/zigbee2mqtt test/extensions/bridge.test.ts, "Should publish devices on startup", lines 363-2292 at
2.12.1, evaluated to JSON): an IKEA LED1545G12 white spectrum bulb, a Philips Hue Go, a zigfred with five
lights on endpoints, sensors, a remote, an unsupported device and the coordinator.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting import bridge
from room_controller.lighting.profiles import Catalogue
from room_controller.lighting.state import LightChange
from tests.broker import MARK, Capture
from tests.rooms import load

SAMPLE = (Path(__file__).parent / "z2m" / "bridge-devices.sample.json").read_bytes()
FAMILY = Catalogue.load().profiles["zigbee2mqtt"]


def test_the_lights_of_a_real_payload_and_nothing_else():
    learned = bridge.parse_devices(SAMPLE)
    assert learned["bulb"] == bridge.Learned("bulb", "IKEA", "LED1545G12", color=False, color_temp=(250, 454))
    assert learned["bulb_color_2"] == bridge.Learned("bulb_color_2", "Philips", "7146060PH", color=True,
                                                     color_temp=(150, 500))
    assert learned["zigfred_plus"].color and learned["zigfred_plus"].color_temp is None
    assert set(learned) == {"bulb", "bulb_color_2", "zigfred_plus", "0x000b57fffec6a5c2"}   # no sensors, no remote


def test_learned_ikea_bulb_is_white_only_in_its_range_with_ikea_quirks():
    profile = bridge.profile_for(FAMILY, bridge.parse_devices(SAMPLE)["bulb"])
    assert profile.capabilities.color is False
    assert (profile.capabilities.color_temp.min, profile.capabilities.color_temp.max) == (250, 454)
    assert profile.quirks.fade_one_property and profile.quirks.color_fade_max == 5


def test_what_the_room_file_says_wins_over_what_is_learned():
    learned = bridge.parse_devices(SAMPLE)["bulb_color_2"]
    profile = bridge.profile_for(FAMILY, learned, {"color": False, "color_temp": {"max": 454}},
                                 {"fade_one_property": True})
    assert profile.capabilities.color is False and profile.capabilities.color_temp.max == 454
    assert profile.capabilities.color_temp.min == 150 and profile.quirks.fade_one_property


@pytest.mark.parametrize("payload, problem", [
    (b"not json", "not JSON"),
    (b'{"devices": []}', "must be a list"),
    (b'[{"definition": null}]', "no friendly_name"),
    (b'[{"friendly_name": "a", "definition": {"vendor": "IKEA", "model": "X"}}]', "list of exposes"),
    (b'[{"friendly_name": "a", "definition": {"vendor": "IKEA", "model": "X", "exposes": [{"type": "light", '
     b'"features": [{"name": "color_temp", "value_min": 454, "value_max": 250}]}]}}]', "value_min < value_max"),
    (b'\xff\xfe', "not JSON"),
])
def test_a_bad_payload_is_refused_whole_with_the_reason(payload, problem):
    with pytest.raises(bridge.BridgeError, match=problem):
        bridge.parse_devices(payload)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
                        ["friendly_name", "definition", "vendor", "model", "exposes", "type", "features", "name",
                         "value_min", "value_max"]), inner, max_size=5), max_leaves=20))
def test_any_json_is_learned_from_or_refused_never_a_crash(value):
    try:
        learned = bridge.parse_devices(json.dumps(value).encode())
    except bridge.BridgeError:
        return
    for found in learned.values():
        bridge.profile_for(FAMILY, found)   # whatever was accepted makes a valid profile


# -- the room on a real broker ---------------------------------------------------------------------------------

LIGHTS = [{"id": "desk", "profile": "zigbee2mqtt", "device": "bulb"},
          {"id": "go", "profile": "zigbee2mqtt", "device": "bulb_color_2", "capabilities": {"color": False}}]


@pytest.fixture
def room(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS)
    app = App(config, catalogue, clock=ManualClock(), web=False, audio=False).start()
    _wait(lambda: app.room.mqtt_connected)
    yield app
    app.stop()


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _learned_events(app) -> list[dict]:
    with sqlite3.connect(f"file:{app.room.journal.path}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT data FROM events WHERE kind='devices_learned' ORDER BY id").fetchall()
    return [json.loads(r[0]) for r in rows]


def test_room_learns_from_the_retained_payload_journals_it_and_sends_in_the_bulbs_terms(room, broker):
    cap = Capture(broker, "zigbee2mqtt/bulb/set", MARK)
    pub = Capture(broker, "zigbee2mqtt/bridge/devices")
    pub.publish("zigbee2mqtt/bridge/devices", SAMPLE, retain=True)
    _wait(lambda: _learned_events(room))
    event = _learned_events(room)[0]
    assert event["lights"]["desk"] == {"vendor": "IKEA", "model": "LED1545G12", "color": False,
                                       "color_temp": [250, 454]}
    assert event["lights"]["go"]["model"] == "7146060PH"
    go = room.room.lights["go"].device.profile.capabilities
    assert go.color is False and go.color_temp.min == 150        # the room file's `color: false` holds
    cap.sent_until_now(room)   # what learning the bulbs sent
    room.loop.call(room.room.layers.adjust_lights, ["desk"], LightChange(brightness=40, kelvin=1800), 0.0)
    sent = json.loads(cap.next().payload)
    assert sent["color_temp"] == 454 and "color" not in sent     # clamped to the bulb, no colour to a white bulb
    pub.publish("zigbee2mqtt/bridge/devices", b"", retain=True)   # clear the retained message for other tests
    cap.close()
    pub.close()


def test_a_bad_payload_changes_nothing_and_a_repeat_is_not_journaled_again(room, broker):
    before = room.room.lights["desk"].device.profile
    pub = Capture(broker, "zigbee2mqtt/bridge/devices")
    pub.publish("zigbee2mqtt/bridge/devices", b"[{\"friendly_name\": 3}]", retain=True)
    room.loop.settle()
    time.sleep(0.2)
    assert room.room.lights["desk"].device.profile is before and _learned_events(room) == []
    pub.publish("zigbee2mqtt/bridge/devices", SAMPLE, retain=True)
    _wait(lambda: _learned_events(room))
    pub.publish("zigbee2mqtt/bridge/devices", SAMPLE, retain=True)
    time.sleep(0.3)
    room.loop.settle()
    assert len(_learned_events(room)) == 1
    pub.publish("zigbee2mqtt/bridge/devices", b"", retain=True)   # clear the retained message for other tests
    pub.close()
