"""Whatever arrives from outside — device reports, commands and button presses on MQTT, room and profile
files — is taken or refused with the module's own error, never an unexpected exception; what is taken stays
within range (a panel must always get valid JSON: no NaN, no Infinity). The payloads also go through a
real broker into a running room, which must carry on and answer a calm press afterwards. A longer run:
ROOM_FUZZ_EXAMPLES=1000 (the suite's default is 100)."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from room_controller import units
from room_controller.app import App
from room_controller.buttons import ButtonMapping, pressed
from room_controller.commands import CommandError, parse_command
from room_controller.config import load_room
from room_controller.core.lights import Light
from room_controller.core.loop import Loop
from room_controller.files.yamlfile import ConfigError
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting.decode import DecodeError, decode, topics
from room_controller.lighting.encode import encode
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import LightState
from room_controller.session.profiles import check_against_room, load_profile
from tests.broker import MARK, Capture
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[2]


def scaled(examples: int) -> int:
    """ROOM_FUZZ_EXAMPLES=1000 runs ten times the cases of the suite's default (100)."""
    return examples * int(os.environ.get("ROOM_FUZZ_EXAMPLES", "100")) // 100


CATALOGUE = Catalogue.load()
DEVICES = [Device(f"l-{name}", f"dev-{name}", profile, "fuzz") for name, profile in sorted(CATALOGUE.profiles.items())]
KEYS = ["state", "brightness", "color_temp", "color", "POWER", "Dimmer", "CT", "Color", "HSBColor", "on", "bri",
        "seg", "col", "ison", "output", "white", "red", "green", "blue", "gain", "temp", "mode", "x", "y", "hue",
        "saturation", "rgb", "params", "result", "id", "preset", "session", "extend", "action", "online"]
SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12) | st.sampled_from(["ON", "OFF", "on", "off", "online", "offline", "calm", "1e999",
                                                     "NaN", "-1", "255", "toggle", "single"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6), max_leaves=20)


def as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


PAYLOADS = (st.binary(max_size=300) | st.text(max_size=200).map(str.encode) | JSON.map(as_bytes)
            | st.sampled_from([b"", b"{}", b"[]", b"null", b"1e999", b"NaN", b'{"brightness": 1e999}',
                               b'{"state": "ON", "brightness": -5}', b'{"Dimmer": 1e400}', b"\xff\xfe",
                               b"x" * 70_000, b'{"state":"ON"' * 5000]))


def finite_report(report) -> None:
    for value in (report.brightness, report.kelvin):
        assert value is None or math.isfinite(value), report
    assert report.brightness is None or 0 <= report.brightness <= 100, report
    assert report.kelvin is None or 1000 <= report.kelvin <= 40000, report
    assert report.rgb is None or all(isinstance(c, int) and 0 <= c <= 255 for c in report.rgb), report


def strict_json(data) -> str:
    return json.dumps(data, allow_nan=False)


@pytest.mark.slow
@settings(max_examples=scaled(1500), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(index=st.integers(0, 1000), which=st.integers(0, 10), payload=PAYLOADS)
def test_a_device_report_is_decoded_or_refused_and_stays_in_range(index, which, payload):
    device = DEVICES[index % len(DEVICES)]
    device_topics = topics(device)
    topic = device_topics[which % len(device_topics)]
    try:
        report = decode(device, topic, payload)
    except DecodeError:
        return
    assert report is not None
    finite_report(report)
    light = Light(device, Loop(ManualClock()), lambda m: True, max_rate=2.0, min_toggle_interval=1.0)
    light.apply_report(report)
    strict_json(light.as_dict())


@pytest.mark.slow
@settings(max_examples=scaled(800), deadline=None)
@given(payload=PAYLOADS | JSON.map(lambda v: {"preset": v}).map(as_bytes)
       | JSON.map(lambda v: {"extend": v}).map(as_bytes) | JSON.map(lambda v: {"session": v}).map(as_bytes))
def test_a_command_payload_is_a_command_or_refused(payload):
    try:
        command = parse_command(payload)
    except CommandError:
        return
    assert type(command).__name__ in ("PresetCommand", "SessionCommand", "ExtendCommand")
    if type(command).__name__ == "ExtendCommand":
        assert 0 < command.seconds <= 4 * 3600


BUTTONS = [ButtonMapping.model_validate(m) for m in (
    {"topic": "zigbee2mqtt/Remote", "match": {"action": "single"}, "do": {"preset": "calm"}},
    {"topic": "zigbee2mqtt/Remote", "match": {"action": "double", "battery.low": False}, "do": {"preset": None}},
    {"topic": "stat/button1/POWER", "do": {"session": "pause"}})]


@pytest.mark.slow
@settings(max_examples=scaled(500), deadline=None)
@given(topic=st.sampled_from([b.topic for b in BUTTONS] + ["other"]), payload=PAYLOADS)
def test_a_button_message_is_a_press_or_refused(topic, payload):
    try:
        commands = pressed(BUTTONS, topic, payload)
    except CommandError:
        return
    assert len(commands) <= 2


# -- through a real broker into a running room -------------------------------------------------------------

MIXED = [{"id": f"l-{name}", "profile": name, "device": f"dev-{name}"} for name in sorted(CATALOGUE.profiles)]


@pytest.fixture
def room(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, MIXED)
    app = App(config, catalogue, web=False, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    yield app
    app.stop()


@pytest.mark.slow
def test_random_payloads_through_the_broker_leave_a_room_that_answers(room, broker, room_id, caplog):
    """Every topic the room follows gets fuzzed payloads; then calm from the command topic still works."""
    followed = room.room.inbox.subscriptions
    device = Capture(broker, "zigbee2mqtt/dev-zigbee2mqtt/set", MARK)
    sent = []

    @settings(max_examples=scaled(300), deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(topic=st.sampled_from(followed), payload=PAYLOADS | st.just(b"\x00" * 1_000_000))
    def publish(topic, payload):
        device.client.publish(topic, payload)
        sent.append(topic)

    publish()
    device.publish(f"therapy-room/{room_id}/command", '{"preset": null}')   # in case a fuzzed one was calm
    deadline = time.monotonic() + 10
    while room.room.snapshot()["preset"] is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    device.sent_until_now(room)   # whatever the fuzzing made the bulb do
    device.publish(f"therapy-room/{room_id}/command", '{"preset": "calm"}')
    # the bulb, which no bridge has described, gets calm one transition at a time: its white comes second
    seen = device.wait_for(lambda m: m.topic == "zigbee2mqtt/dev-zigbee2mqtt/set" and "color_temp" in m.payload,
                           timeout=10)
    assert json.loads(seen.payload)["color_temp"] == 455
    room.loop.settle()
    strict_json(room.room.snapshot())
    json.loads(room.room.snapshot_json(), parse_constant=lambda c: pytest.fail(f"{c} in the state JSON"))
    assert len(set(sent)) > 1
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") and r.name != "paho"]
    device.close()


# -- room and session profile files ------------------------------------------------------------------------

def mutations(base: dict) -> st.SearchStrategy:
    """The file with keys dropped, values replaced by anything, unknown keys added, lists emptied."""
    def paths(data, prefix=()):
        yield prefix
        if isinstance(data, dict):
            for k, v in data.items():
                yield from paths(v, prefix + (k,))
        elif isinstance(data, list):
            for i, v in enumerate(data):
                yield from paths(v, prefix + (i,))
    every = [p for p in paths(base) if p]
    edit = st.tuples(st.sampled_from(every), st.sampled_from(["drop", "set", "add"]), JSON, st.text(max_size=8))

    def apply(edits):
        data = json.loads(json.dumps(base))
        for path, kind, value, key in edits:
            parent = data
            try:
                for part in path[:-1]:
                    parent = parent[part]
                if kind == "drop":
                    del parent[path[-1]]
                elif kind == "set":
                    parent[path[-1]] = value
                elif isinstance(parent, dict):
                    parent[key] = value
            except (KeyError, IndexError, TypeError):
                continue
        return data
    return st.lists(edit, min_size=1, max_size=4).map(apply)


ROOM = yaml.safe_load((ROOT / "deploy" / "room.example.yaml").read_text())
PROFILE = yaml.safe_load((ROOT / "deploy" / "profiles" / "psilocybin-8h.yaml").read_text())


@pytest.mark.slow
@settings(max_examples=scaled(300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutations(ROOM) | st.text(max_size=300))
def test_a_room_file_is_loaded_or_refused_with_its_problems(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("room") / "room.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    try:
        load_room(path)
    except ConfigError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)


@pytest.mark.slow
@settings(max_examples=scaled(300), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutations(PROFILE) | st.text(max_size=300))
def test_a_session_profile_is_loaded_or_refused_with_its_problems(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("profile")
    path = folder / "p.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    try:
        profile, doc = load_profile(path)
        room, _ = load_room(ROOT / "deploy" / "room.local.yaml")
        check_against_room(profile, doc, room)
        strict_json(profile.summary())
    except ConfigError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)


@pytest.mark.parametrize("payload,bad,kelvin", [
    (b'{"state":"ON","brightness":100,"color_temp":0}', "color_temp", None),   # 0 mired: was a ZeroDivisionError
    (b'{"state":"ON","brightness":100,"color_temp":-40}', "color_temp", None),
    (b'{"state":"ON","brightness":100,"color_temp":9000}', None, 2000),        # beyond the range: its warm end
    (b'{"state":"ON","brightness":NaN}', "brightness", None), (b'{"state":"ON","color_temp":Infinity}', "color_temp", None),
    (b'{"state":"ON","brightness":1e999}', "brightness", None)])
def test_reports_found_by_the_fuzzing(payload, bad, kelvin):
    """Each was an unexpected exception or an Infinity that made the state JSON invalid for the panel. Now a
    field that cannot be read is one problem and the rest of the report is used (docs/devices.md, Reading
    reports): no number that is not finite reaches the state."""
    device = next(d for d in DEVICES if d.profile.name == "zigbee2mqtt")
    report = decode(device, "zigbee2mqtt/dev-zigbee2mqtt", payload)
    assert report.on is True
    assert [p.split(":")[0] for p in report.problems] == ([bad] if bad else [])
    assert (None if report.kelvin is None else round(report.kelvin)) == kelvin
    assert all(v is None or math.isfinite(v) for v in (report.brightness, report.kelvin))


DEVICE_PROFILE = yaml.safe_load((ROOT / "device_profiles" / "template-per-topic.yaml").read_text())
STATES = (st.builds(LightState, on=st.booleans(), brightness=st.floats(0, 100),
                    kelvin=st.floats(units.KELVIN_MIN, units.KELVIN_MAX))
          | st.builds(LightState, on=st.booleans(), brightness=st.floats(0, 100),
                      rgb=st.tuples(*[st.integers(0, 255)] * 3)))


@pytest.mark.slow
@settings(max_examples=scaled(150), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutations({**DEVICE_PROFILE, "name": "clinic-lamp"}), state=STATES, payload=PAYLOADS)
def test_a_clinics_device_profile_is_loaded_or_refused_and_then_works(tmp_path_factory, data, state, payload):
    """A device no family fits gets a file of its own, written by the clinic: a wrong one is refused at
    `check`, a valid one encodes every state and decodes every report without an unexpected exception."""
    folder = tmp_path_factory.mktemp("device_profiles")
    (folder / "clinic.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        catalogue = Catalogue.load(folder)
    except ConfigError as exc:
        assert exc.problems and all(p.line >= 1 for p in exc.problems)
        return
    name = data.get("name") if isinstance(data.get("name"), str) else "clinic-lamp"
    device = Device("lamp", "lamp", catalogue.profiles[name], "fuzz")
    for message in encode(device, state, 2.0):
        assert isinstance(message.payload, str | bytes)
    for topic in topics(device):
        try:
            finite_report(decode(device, topic, payload))
        except DecodeError:
            pass
