"""Device reports read back into the light model.

The samples in tests/lighting/samples/ are reports taken from each device's own code, tests or
documentation (every sample names its source); the rest are the rules around them: a bad field is one
problem and the good fields of the same report are kept, junk around a report changes nothing, and no
payload raises anything but DecodeError.
"""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.core.lights import Light
from room_controller.core.loop import Loop
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting.decode import DecodeError, Report, decode, topics
from room_controller.lighting.encode import encode
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import LightState

CATALOGUE = Catalogue.load()
SAMPLES = Path(__file__).parent / "samples"


def device(profile: str, name: str = "lamp") -> Device:
    return Device("x", name, CATALOGUE.profiles[profile], "therapy-room-room-1")


def samples() -> list:
    out = []
    for path in sorted(SAMPLES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for i, sample in enumerate(data["samples"]):
            assert sample["source"].strip(), f"{path.name} sample {i} names no source"
            profile = sample.get("profile", data["profile"])
            out.append(pytest.param(profile, sample, id=f"{path.stem}-{i}-{sample['topic']}"))
    return out


def hue(rgb: tuple[int, int, int]) -> float:
    return colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] * 360


@pytest.mark.parametrize("profile,sample", samples())
def test_real_reports(profile, sample):
    report = decode(device(profile), sample["topic"], sample["payload"].encode())
    expect = sample["expect"]
    for key in ("online", "on", "mode"):
        if key in expect:
            assert getattr(report, key) == expect[key], key
    for key in ("brightness", "kelvin"):
        if key in expect:
            value = getattr(report, key)
            assert value == pytest.approx(expect[key], abs=0.5) if expect[key] is not None else value is None, key
    if "rgb" in expect:
        assert report.rgb == (tuple(expect["rgb"]) if expect["rgb"] is not None else None)
    if "hue" in expect:
        low, high = expect["hue"]
        assert report.rgb is not None and (low <= hue(report.rgb) <= high or low <= hue(report.rgb) + 360 <= high)
    if "problems" in expect:
        assert len(report.problems) == expect["problems"], report.problems


def test_every_family_with_reports_has_real_samples():
    covered = {profile for param in samples() for profile in [param.values[0]]}
    with_state = {name for name, p in CATALOGUE.profiles.items() if p.state and name != "template-per-topic"}
    assert with_state <= covered, with_state - covered


@pytest.mark.parametrize("profile,topic,payload,expected", [
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b'{"state":"ON","brightness":254,"color_temp":370,"linkquality":80}',
     Report(on=True, brightness=100.0, kelvin=1_000_000 / 370, mode="white")),
    ("zigbee2mqtt", "zigbee2mqtt/lamp/availability", b'{"state":"offline"}', Report(online=False)),
    ("zigbee2mqtt", "zigbee2mqtt/lamp/availability", b"online", Report(online=True)),
    ("tasmota", "stat/lamp/RESULT", b'{"POWER":"OFF"}', Report(on=False)),
    ("tasmota", "stat/lamp/RESULT", b'{"POWER1":"OFF"}', Report(on=False)),
    ("tasmota", "stat/lamp/RESULT", b'{"Speed2":6}', Report()),
    ("wled", "wled/lamp/g", b"0", Report(on=False)),
    ("shelly-gen2", "lamp/status/light:0", b'{"id":0,"output":true,"brightness":100}',
     Report(on=True, brightness=100.0)),
    ("template-per-topic", "lamp/status", b"OFF", Report(on=False)),
])
def test_reports(profile, topic, payload, expected):
    assert decode(device(profile), topic, payload) == expected


def test_a_topic_that_is_not_the_devices_is_none():
    assert decode(device("zigbee2mqtt"), "zigbee2mqtt/other", b"{}") is None


@pytest.mark.parametrize("profile,topic,payload", [
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"not json"),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"[1,2]"),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b'{"state":"MAYBE"}'),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b'{"brightness":"bright"}'),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b'{"color_temp":0}'),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b'{"color":{"x":2,"y":0.3}}'),
    ("zigbee2mqtt", "zigbee2mqtt/lamp/availability", b'{"state":"sleepy"}'),
    ("wled", "wled/lamp/g", b"lots"),
    ("wled", "wled/lamp/g", b"nan"),
    ("wled", "wled/lamp/c", b"orange"),
    ("wled", "wled/lamp/c", b"#FFFFFFFFF"),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"\xff\xfe"),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"{" * 70000),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"[" * 60000),   # within the size limit, deeper than json nests
    ("tasmota", "stat/lamp/RESULT", b'{"HSBColor":"20,nan,60"}'),
])
def test_reports_with_nothing_readable_are_refused(profile, topic, payload):
    with pytest.raises(DecodeError):
        decode(device(profile), topic, payload)


def test_a_bad_field_is_a_problem_and_the_good_fields_stay():
    report = decode(device("zigbee2mqtt"), "zigbee2mqtt/lamp",
                    b'{"state":"ON","brightness":"bright","color_mode":"xy","color":{"x":0.6,"y":0.35}}')
    assert (report.on, report.brightness, report.mode) == (True, None, "color")
    assert report.rgb is not None and len(report.problems) == 1 and "brightness" in report.problems[0]


def test_a_colour_light_reads_as_colour_and_keeps_its_place_in_the_room():
    """The issue's case: a red-orange Zigbee bulb (colour sync on) must not read as a 1825 K white."""
    light = Light(device("zigbee2mqtt"), Loop(ManualClock()), lambda m: True, max_rate=5, min_toggle_interval=1)
    light.apply_report(decode(light.device, "zigbee2mqtt/lamp",
                              b'{"state":"ON","brightness":254,"color":{"x":0.6,"y":0.35},"color_mode":"xy",'
                              b'"color_temp":548}'))
    shown = light.as_dict()["state"]
    assert shown["mode"] == "color" and "kelvin" not in shown
    assert 0 <= hue(tuple(int(shown["color"][i:i + 2], 16) for i in (1, 3, 5))) <= 40
    light.apply_report(Report(mode="white"))  # white said without a warmth: the colour is forgotten
    assert light.as_dict()["state"]["mode"] == "white" and "color" not in light.as_dict()["state"]


def test_state_as_dict_says_white_or_colour():
    assert LightState(brightness=50, kelvin=2700).as_dict() == {"on": True, "brightness": 50, "mode": "white",
                                                                 "kelvin": 2700}
    assert LightState(brightness=50, rgb=(255, 69, 0)).as_dict() == {"on": True, "brightness": 50,
                                                                      "mode": "color", "color": "#FF4500"}


# -- properties -----------------------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                max_size=4),
                    max_leaves=12)
JSON_SAMPLES = [p for p in samples() if p.values[1]["payload"].startswith("{")]


@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(sorted(CATALOGUE.profiles)), payload=st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(profile, payload):
    dev = device(profile)
    for topic in topics(dev):
        try:
            decode(dev, topic, payload)
        except DecodeError:
            pass


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(sorted(CATALOGUE.profiles)), body=JSON)
def test_any_json_gives_a_report_or_a_decode_error(profile, body):
    dev = device(profile)
    for topic in topics(dev):
        try:
            decode(dev, topic, json.dumps(body).encode())
        except DecodeError:
            pass


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(sample=st.sampled_from(JSON_SAMPLES), junk=st.dictionaries(st.text(min_size=1, max_size=8), JSON,
                                                                   max_size=5))
def test_junk_beside_a_report_changes_nothing(sample, junk):
    profile, s = sample.values
    dev, body = device(profile), json.loads(s["payload"])
    clean = decode(dev, s["topic"], s["payload"].encode())
    paths = {path.split(".")[0] for source in dev.profile.state for f in source.fields.values()
             for path in [f.path, *f.also]}
    if "*" in paths:   # a report whose colour is spread over the whole payload (Shelly Gen1) has no room for junk
        return
    messy = {**{k: v for k, v in junk.items() if k not in paths}, **body}
    assert decode(dev, s["topic"], json.dumps(messy).encode()) == clean


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(sample=st.sampled_from(JSON_SAMPLES), data=st.data())
def test_one_bad_field_keeps_the_others(sample, data):
    profile, s = sample.values
    dev, body = device(profile), json.loads(s["payload"])
    clean = decode(dev, s["topic"], s["payload"].encode())
    fields = [(name, f) for source in dev.profile.state if dev.topic(source.topic) == s["topic"]
              for name, f in source.fields.items() if body.get(f.path) is not None]
    if len(fields) < 2 or clean.problems:
        return
    name, field = data.draw(st.sampled_from(fields))
    body[field.path] = data.draw(JSON)
    report = decode(dev, s["topic"], json.dumps(body).encode())
    for kept in ("on", "brightness"):
        if kept != {"state": "on"}.get(name, name):
            assert getattr(report, kept) == getattr(clean, kept)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(brightness=st.floats(1, 100), kelvin=st.floats(2000, 6500))
def test_what_a_zigbee_bulb_echoes_reads_back_as_what_was_sent(brightness, kelvin):
    dev = device("zigbee2mqtt")
    sent = encode(dev, LightState(on=True, brightness=brightness, kelvin=kelvin), 0)[0]
    report = decode(dev, "zigbee2mqtt/lamp", sent.payload.encode())
    assert report.on is True
    assert abs(report.brightness - brightness) <= 100 / 254
    assert abs(1e6 / report.kelvin - 1e6 / kelvin) <= 0.5


def _state_reports() -> list:
    """Per family, a report topic that says on/off and brightness side by side (JSON)."""
    out = []
    for name, profile in sorted(CATALOGUE.profiles.items()):
        for source in profile.state:
            if source.format == "json" and {"state", "brightness"} <= set(source.fields):
                out.append(pytest.param(name, source, id=name))
    return out


@pytest.mark.parametrize("profile, source", _state_reports())
@pytest.mark.parametrize("told", [None, LightState(on=True, brightness=40, kelvin=2700)], ids=["never-told", "told"])
def test_an_unreadable_brightness_leaves_the_light_on(profile, source, told):
    """Issue 24 (8): `"brightness":"abc"` beside `"state":"ON"` showed the light off; it is on, at the level it
    was told (full when never told), and the bad field is one problem."""
    dev = device(profile)
    body: dict = {}
    for name, value in (("state", source.fields["state"].on), ("brightness", "abc")):
        *parents, last = source.fields[name].path.split(".")
        node = body
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    report = decode(dev, dev.topic(source.topic), json.dumps(body).encode())
    assert report.on is True and report.brightness is None and len(report.problems) == 1
    light = Light(dev, Loop(ManualClock()), lambda m: True, max_rate=5, min_toggle_interval=1)
    light.commanded = told
    light.apply_report(Report(on=False, brightness=0.0))   # it was off, and said so
    light.apply_report(report)
    shown = light.as_dict()["state"]
    assert shown["on"] is True and shown["brightness"] == (40 if told else 100)
