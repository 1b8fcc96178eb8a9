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
from room_controller.checks import check_paths
from room_controller.core.inbox import DISCOVERY_PACE
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting import bridge
from room_controller.lighting.profiles import Catalogue
from room_controller.lighting.state import LightChange
from tests.broker import MARK, Capture
from tests.rooms import load, write_room

SAMPLE = (Path(__file__).parent / "z2m" / "bridge-devices.sample.json").read_bytes()
FAMILY = Catalogue.load().profiles["zigbee2mqtt"]


def test_the_lights_of_a_real_payload_and_nothing_else():
    learned = bridge.parse_devices(SAMPLE)
    assert learned["bulb"] == bridge.Learned("bulb", "IKEA", "LED1545G12", color=False, color_temp=(250, 454))
    assert learned["bulb_color_2"] == bridge.Learned("bulb_color_2", "Philips", "7146060PH", color=True,
                                                     color_temp=(150, 500))
    assert learned["zigfred_plus"].color and learned["zigfred_plus"].color_temp is None
    assert {n for n, d in learned.items() if d.light} == {"bulb", "bulb_color_2", "zigfred_plus", "0x000b57fffec6a5c2"}
    assert learned["weather_sensor"] == bridge.Learned("weather_sensor", "Aqara", "WSDCGQ11LM", color=False,
                                                       color_temp=None, light=False)   # known, as no light
    assert learned["weather_sensor"].what == "Aqara WSDCGQ11LM (Temperature and humidity sensor)"
    assert "Coordinator" not in learned   # no definition: nothing known of it


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
    assert profile.capabilities.color_temp.min == 153 and profile.quirks.fade_one_property   # 150: the family's 153


def _bulb(low, high) -> bytes:
    return json.dumps([{"friendly_name": "bulb", "definition": {"vendor": "IKEA", "model": "LED1545G12", "exposes": [
        {"type": "light", "features": [{"name": "color_temp", "value_min": low, "value_max": high}]}]}}]).encode()


@pytest.mark.parametrize("low, high, bounded", [(1, 100_000, (153, 500)), (100, 160, (153, 160)),
                                                (250, 454, (250, 454)), (153, 555, (153, 500))])
def test_a_learned_white_range_stays_within_the_familys(low, high, bounded):
    """Issue 23 (2): a forged bridge/devices widened a bulb's range; what is learned is bounded by the family's
    own range (device_profiles/zigbee2mqtt.yaml, 153-500 mired), so calm's 2200 K stays 455 mired."""
    profile = bridge.profile_for(FAMILY, bridge.parse_devices(_bulb(low, high))["bulb"])
    assert (profile.capabilities.color_temp.min, profile.capabilities.color_temp.max) == bounded


def test_a_range_wholly_outside_the_familys_is_refused():
    with pytest.raises(bridge.BridgeError, match="outside the family's 153-500"):
        bridge.profile_for(FAMILY, bridge.parse_devices(_bulb(20, 100))["bulb"])


@pytest.mark.parametrize("payload, problem", [
    (b"not json", "not JSON"),
    (b'{"devices": []}', "must be a list"),
    (b'[{"definition": null}]', "no friendly_name"),
    (b'[{"friendly_name": "a", "definition": {"vendor": "IKEA", "model": "X"}}]', "list of exposes"),
    (b'[{"friendly_name": "a", "definition": {"vendor": "IKEA", "model": "X", "exposes": [{"type": "light", '
     b'"features": [{"name": "color_temp", "value_min": 454, "value_max": 250}]}]}}]', "value_min < value_max"),
    (b'\xff\xfe', "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nests too deep"),                      # issue 23 (2): was a RecursionError
    (_bulb(250, 454).replace(b"454", b"Infinity"), "finite numbers"),         # issue 23 (2): was an OverflowError
    (_bulb(250, 454).replace(b"250", b"-Infinity"), "finite numbers"),
    (_bulb(250, 454).replace(b"250", b"NaN"), "finite numbers"),
])
def test_a_bad_payload_is_refused_whole_with_the_reason(payload, problem):
    with pytest.raises(bridge.BridgeError, match=problem) as refused:
        bridge.parse_devices(payload)
    assert len(str(refused.value)) < 200   # one short line in the log


@pytest.mark.slow
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
                        ["friendly_name", "definition", "vendor", "model", "exposes", "type", "features", "name",
                         "value_min", "value_max"]), inner, max_size=5), max_leaves=20))
def test_any_json_is_learned_from_or_refused_never_a_crash(value):
    try:
        learned = bridge.parse_devices(json.dumps(value).encode())
    except bridge.BridgeError:
        return
    for found in learned.values():
        try:
            profile = bridge.profile_for(FAMILY, found)   # whatever was accepted makes a valid profile
        except bridge.BridgeError:
            continue   # a range outside the family's: refused with its reason
        ct = profile.capabilities.color_temp
        assert ct is None or 153 <= ct.min < ct.max <= 500


# -- the room on a real broker ---------------------------------------------------------------------------------

LIGHTS = [{"id": "desk", "profile": "zigbee2mqtt", "device": "bulb"},
          {"id": "go", "profile": "zigbee2mqtt", "device": "bulb_color_2", "capabilities": {"color": False}},
          {"id": "corner", "profile": "zigbee2mqtt", "device": "weather_sensor"}]   # a mistake: no light


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
    assert go.color is False and go.color_temp.min == 153        # the room file's `color: false` holds
    cap.sent_until_now(room)   # what learning the bulbs sent
    room.loop.call(room.room.layers.adjust_lights, ["desk"], LightChange(brightness=40, kelvin=1800), 0.0)
    sent = json.loads(cap.next().payload)
    assert sent["color_temp"] == 454 and "color" not in sent     # clamped to the bulb, no colour to a white bulb
    pub.publish("zigbee2mqtt/bridge/devices", b"", retain=True)   # clear the retained message for other tests
    cap.close()
    pub.close()


@pytest.mark.slow
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


def _problems(app) -> dict:
    return app.loop.call(lambda: dict(app.room.problems))


@pytest.mark.slow
def test_the_panel_says_a_light_is_on_a_device_that_is_no_light(room, broker):
    """Issue 24 (9): a light set up on a sensor got light commands without a word."""
    pub = Capture(broker, "zigbee2mqtt/bridge/devices")
    pub.publish("zigbee2mqtt/bridge/devices", SAMPLE, retain=True)
    _wait(lambda: "zigbee_not_light:corner" in _problems(room))
    assert _problems(room)["zigbee_not_light:corner"] == (
        "corner is set up on “weather_sensor”, which Zigbee2MQTT knows as Aqara WSDCGQ11LM (Temperature and "
        "humidity sensor): not a light, so the room's light commands do nothing there")
    assert [k for k in _problems(room) if k.startswith("zigbee")] == ["zigbee_not_light:corner"]
    pub.publish("zigbee2mqtt/bridge/devices", b"", retain=True)
    pub.close()


def test_a_forged_device_list_is_bounded_and_the_change_is_a_problem(room, broker):
    """Issue 23 (2): a bridge/devices from anyone widened the bulb's white range; the room keeps within the
    family's and the panel says the range changed, until the first range is back."""
    cap = Capture(broker, "zigbee2mqtt/bulb/set", MARK)
    pub = Capture(broker, "zigbee2mqtt/bridge/devices")
    pub.publish("zigbee2mqtt/bridge/devices", SAMPLE, retain=True)
    _wait(lambda: _learned_events(room))
    forged = json.loads(SAMPLE)
    for device in forged:
        if device["friendly_name"] == "bulb":
            light = next(e for e in device["definition"]["exposes"] if e["type"] == "light")
            ct = next(f for f in light["features"] if f["name"] == "color_temp")
            ct["value_min"], ct["value_max"] = 1, 100_000
    room.room.clock.advance(DISCOVERY_PACE)   # a bridge's list is taken in at most once a second
    pub.publish("zigbee2mqtt/bridge/devices", json.dumps(forged).encode(), retain=True)
    _wait(lambda: "zigbee_range:desk" in _problems(room))
    assert _problems(room)["zigbee_range:desk"] == (
        "desk: Zigbee2MQTT's device list now gives its white range as 2000-6536 K (at first 2203-4000 K); unless "
        "the bulb was replaced, someone else may be publishing that list")
    ct = room.room.lights["desk"].device.profile.capabilities.color_temp
    assert (ct.min, ct.max) == (153, 500)
    cap.sent_until_now(room)
    room.loop.call(room.room.layers.adjust_lights, ["desk"], LightChange(brightness=15, kelvin=2200), 0.0)
    assert json.loads(cap.next().payload)["color_temp"] == 455   # calm's warm white, not the coolest end
    room.room.clock.advance(DISCOVERY_PACE)
    pub.publish("zigbee2mqtt/bridge/devices", SAMPLE, retain=True)   # the real list again
    _wait(lambda: "zigbee_range:desk" not in _problems(room))
    pub.publish("zigbee2mqtt/bridge/devices", b"", retain=True)
    cap.close()
    pub.close()


def test_deep_nesting_and_infinity_are_one_short_line_never_a_traceback(room, broker, caplog):
    """Issue 23 (2): 100,000 levels of `[` raised a RecursionError, `Infinity` in a range an OverflowError."""
    pub = Capture(broker, "zigbee2mqtt/bridge/devices")
    before = room.room.lights["desk"].device.profile
    with caplog.at_level("WARNING"):
        pub.publish("zigbee2mqtt/bridge/devices", _bulb(250, 454).replace(b"454", b"Infinity"))
        pub.publish("zigbee2mqtt/bridge/devices", b"[" * 100_000)
        pub.publish("zigbee2mqtt/bridge/devices", SAMPLE)   # the room still learns after them
        _wait(lambda: _learned_events(room))
    lines = [r.getMessage() for r in caplog.records if "bridge/devices" in r.getMessage()]
    assert lines == ["ignored a bad payload on zigbee2mqtt/bridge/devices (1 so far): bulb: color_temp needs "
                     "value_min < value_max, both finite numbers above 0 (got 250, inf)"]   # the next: counted
    assert not any(r.exc_info for r in caplog.records) and before is not room.room.lights["desk"].device.profile
    pub.close()


def test_check_names_a_light_on_a_device_that_is_no_light(tmp_path, broker, room_id):
    """Issue 24 (9): `room-controller check room.yaml devices.json`, the JSON saved from bridge/devices."""
    room_file = write_room(tmp_path, broker, room_id, LIGHTS)
    saved = tmp_path / "devices.json"
    saved.write_bytes(SAMPLE)
    (problem,) = check_paths([room_file, saved])
    assert (problem.line, problem.path) == (yaml_line(room_file, "weather_sensor"), "lights[2].device")
    assert problem.message == (f"“weather_sensor” is Aqara WSDCGQ11LM (Temperature and humidity sensor) in "
                               f"Zigbee2MQTT's device list {saved}, not a light: the room's light commands "
                               "would do nothing there")
    assert check_paths([room_file]) == []   # without the list nothing is known of the device
    saved.write_bytes(b"[" * 100_000)
    (problem,) = check_paths([room_file, saved])
    assert str(problem.message).endswith("bridge/devices nests too deep to be a device list")


def yaml_line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)
