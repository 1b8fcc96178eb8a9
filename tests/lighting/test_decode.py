"""Device reports read back into the light model; malformed payloads are refused, never guessed at."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.lighting.decode import DecodeError, Report, decode, topics
from room_controller.lighting.encode import encode
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import LightState

CATALOGUE = Catalogue.load()


def device(profile: str, name: str = "lamp") -> Device:
    return Device("x", name, CATALOGUE.profiles[profile], "therapy-room-room-1")


@pytest.mark.parametrize("profile,topic,payload,expected", [
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b'{"state":"ON","brightness":254,"color_temp":370,"linkquality":80}',
     Report(on=True, brightness=100.0, kelvin=1_000_000 / 370)),
    ("zigbee2mqtt", "zigbee2mqtt/lamp/availability", b'{"state":"offline"}', Report(online=False)),
    ("zigbee2mqtt", "zigbee2mqtt/lamp/availability", b"online", Report(online=True)),
    ("tasmota", "stat/lamp/RESULT", b'{"POWER":"OFF"}', Report(on=False)),
    ("tasmota", "tele/lamp/STATE", b'{"Time":"2026-11-25T10:00:00","POWER":"ON","Dimmer":50,"CT":250}',
     Report(on=True, brightness=50.0, kelvin=4000.0)),
    ("tasmota", "tele/lamp/LWT", b"Offline", Report(online=False)),
    ("wled", "wled/lamp/g", b"0", Report(on=False)),
    ("wled", "wled/lamp/c", b"#FF8000", Report(rgb=(255, 128, 0))),
    ("wled", "wled/lamp/status", b"online", Report(online=True)),
    ("shelly-rgbw2", "shellies/lamp/color/0/status",
     b'{"ison":true,"mode":"color","red":255,"green":150,"blue":47,"white":0,"gain":100}',
     Report(on=True, brightness=100.0, rgb=(255, 150, 47))),
    ("shelly-rgbw2", "shellies/lamp/online", b"false", Report(online=False)),
    ("shelly-gen2", "lamp/events/rpc",
     b'{"src":"lamp","method":"NotifyStatus","params":{"ts":1.0,"light:0":{"id":0,"output":false}}}', Report(on=False)),
    ("shelly-gen2", "lamp/status/light:0", b'{"id":0,"output":true,"brightness":100}',
     Report(on=True, brightness=100.0)),
    ("homeassistant-json", "lamp", b'{"state":"ON","brightness":255,"color":{"r":10,"g":20,"b":30}}',
     Report(on=True, brightness=100.0, rgb=(10, 20, 30))),
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
    ("zigbee2mqtt", "zigbee2mqtt/lamp/availability", b'{"state":"sleepy"}'),
    ("wled", "wled/lamp/g", b"lots"),
    ("wled", "wled/lamp/c", b"orange"),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"\xff\xfe"),
    ("zigbee2mqtt", "zigbee2mqtt/lamp", b"{" * 70000),
])
def test_malformed_reports_are_refused(profile, topic, payload):
    with pytest.raises(DecodeError):
        decode(device(profile), topic, payload)


@settings(max_examples=300, deadline=None)
@given(profile=st.sampled_from(sorted(CATALOGUE.profiles)), payload=st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(profile, payload):
    dev = device(profile)
    for topic in topics(dev):
        try:
            decode(dev, topic, payload)
        except DecodeError:
            pass


@settings(max_examples=200, deadline=None)
@given(brightness=st.floats(1, 100), kelvin=st.floats(2000, 6500))
def test_what_a_zigbee_bulb_echoes_reads_back_as_what_was_sent(brightness, kelvin):
    dev = device("zigbee2mqtt")
    sent = encode(dev, LightState(on=True, brightness=brightness, kelvin=kelvin), 0)[0]
    report = decode(dev, "zigbee2mqtt/lamp", sent.payload.encode())
    assert report.on is True
    assert abs(report.brightness - brightness) <= 100 / 254
    assert abs(1e6 / report.kelvin - 1e6 / kelvin) <= 0.5
