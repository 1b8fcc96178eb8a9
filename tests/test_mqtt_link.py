"""The MQTT link on the real broker: what it logs about messages it cannot take, and how it writes.

A flood of bad input is one short line per topic per interval, never a traceback per message; a handler's
bug keeps its traceback, once per topic per interval; the link carries on. A message published from
another thread is on the socket when `publish` returns (paho writes it on the publishing thread), which
calm's path relies on.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import paho.mqtt.client as paho
import pytest
import requests
from paho.mqtt.enums import CallbackAPIVersion

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.infrastructure.mqtt import COMPLAIN_EVERY, MqttLink
from room_controller.lighting.state import MqttMessage
from tests.broker import Capture
from tests.rooms import load

DEEP = b"[" * 5000   # deeper than the parser recurses
PULSE_TOPIC = "chest-strap/sensor/heart_rate/state"
TOKEN = "test-token-0123456789"


def wait(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        time.sleep(0.01)


class Listener:
    """A link subscribed to `topics`, handing every message to `handle`; `seen` counts what reached it."""

    def __init__(self, broker, topics: list[str], handle) -> None:
        self.seen = 0
        self._handle = handle
        self.clock = ManualClock()
        self.link = MqttLink(broker.host, broker.port, f"listener-{time.monotonic_ns()}", on_message=self._message,
                             monotonic=self.clock.monotonic)
        self.link.subscribe(topics)
        self.link.start()
        wait(lambda: self.link.connected, "connected")

    def _message(self, topic: str, payload: bytes, retained: bool) -> None:
        self.seen += 1
        self._handle(topic, payload)


def flood(broker, topic: str, payloads: list[bytes]) -> None:
    """Publish in order at QoS 1 from a client of its own; return when the broker has every one."""
    sender = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"sender-{time.monotonic_ns()}")
    sender.max_inflight_messages_set(100)
    sender.connect(broker.host, broker.port)
    sender.loop_start()
    infos = [sender.publish(topic, payload, qos=1) for payload in payloads]
    infos[-1].wait_for_publish(30)
    assert all(info.is_published() for info in infos)
    sender.loop_stop()
    sender.disconnect()


def link_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "room_controller.infrastructure.mqtt" and "MQTT: " in r.msg]


@pytest.mark.slow
def test_a_flood_of_bad_input_is_one_short_line_per_topic_and_the_next_line_counts_the_rest(broker, caplog):
    caplog.set_level(logging.INFO)
    listener = Listener(broker, ["flood/deep", "flood/nan"], lambda topic, payload: json.loads(payload))
    flood(broker, "flood/deep", [DEEP] * 2000)
    flood(broker, "flood/nan", [b"not json"] * 10)
    wait(lambda: listener.seen == 2010, "every message handled")
    lines = [r.getMessage() for r in link_lines(caplog)]
    assert lines == ["MQTT: ignored a bad message on flood/deep: nested too deeply",
                     "MQTT: ignored a bad message on flood/nan: Expecting value: line 1 column 1 (char 0)"]
    assert not any(r.exc_info for r in caplog.records)

    listener.clock.advance(COMPLAIN_EVERY)   # the next bad message is logged, with the count of the unsaid
    flood(broker, "flood/deep", [DEEP])
    wait(lambda: listener.seen == 2011, "the next one handled")
    assert link_lines(caplog)[-1].getMessage() == \
        "MQTT: ignored a bad message on flood/deep: nested too deeply (1999 more since the last line)"
    listener.link.stop()


@pytest.mark.slow
def test_a_handlers_bug_keeps_one_traceback_per_topic_and_the_link_carries_on(broker, caplog):
    caplog.set_level(logging.INFO)
    taken: list[bytes] = []

    def handle(topic: str, payload: bytes) -> None:
        if payload == b"bug":
            raise KeyError("a bug in the handler")
        taken.append(payload)

    listener = Listener(broker, ["bug/topic"], handle)
    flood(broker, "bug/topic", [b"bug"] * 500 + [b"fine"])
    wait(lambda: taken == [b"fine"], "the message after the bugs taken")
    lines = link_lines(caplog)
    assert [r.getMessage() for r in lines] == ["MQTT: error handling a message on bug/topic"]
    assert lines[0].exc_info is not None and lines[0].exc_info[0] is KeyError
    listener.link.stop()


def test_a_publish_from_another_thread_is_written_before_publish_returns(broker):
    """paho writes on the publishing thread only while no thread of paho's own runs its loop; were that to
    change, a packet would wait in paho's queue for its loop's next turn (up to a second)."""
    capture = Capture(broker, "written/#", qos=0)
    link = MqttLink(broker.host, broker.port, f"writer-{time.monotonic_ns()}")
    link.start()
    wait(lambda: link.connected, "connected")
    waiting: list[bool] = []

    def core() -> None:
        for n in range(12):
            assert link.publish(MqttMessage(f"written/{n}", b"{}"))
            waiting.append(link._client.want_write())

    thread = threading.Thread(target=core)
    thread.start()
    thread.join()
    assert waiting == [False] * 12   # nothing left in paho's queue for its thread
    assert sorted(int(s.topic.split("/")[1]) for s in capture.take(12)) == list(range(12))
    link.stop()
    assert not link._thread.is_alive()   # loop_forever returned on disconnect


def corked(link: MqttLink) -> bool:
    return link._client.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK) == 1


def test_a_burst_leaves_together_when_it_ends_and_bursts_nest(broker):
    """Calm's commands to every light are held while the core works out the next one and leave together
    (MqttLink.burst: TCP_CORK on the link's socket); the outermost burst ends the hold, and every message
    arrives, in order."""
    capture = Capture(broker, "burst/#", qos=0)
    link = MqttLink(broker.host, broker.port, f"burst-{time.monotonic_ns()}")
    link.start()
    wait(lambda: link.connected, "connected")
    with link.burst():
        assert corked(link)
        for n in range(6):
            assert link.publish(MqttMessage(f"burst/{n}", b"{}"))
        with link.burst():
            assert link.publish(MqttMessage("burst/6", b"{}"))
        assert corked(link)   # an inner burst leaves the hold to the outer one
    assert not corked(link)
    assert [s.topic for s in capture.take(7)] == [f"burst/{n}" for n in range(7)]
    link.stop()
    with link.burst():   # disconnected: no socket to hold, and publishing says so
        assert not link.publish(MqttMessage("burst/7", b"{}"))


@pytest.fixture
def pulse_room(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, [{"id": "ceiling", "profile": "zigbee2mqtt",
                                                          "device": "Ceiling lamp"}],
                             web={"host": "127.0.0.1", "port": 0, "api_token": TOKEN},
                             vitals={"pulse_topic": PULSE_TOPIC, "pulse_path": ""})
    app = App(config, catalogue, audio=False).start()
    wait(lambda: app.room.mqtt_connected, "the room connected")
    yield app, f"http://127.0.0.1:{app.web.port}"
    app.stop()


@pytest.mark.slow
def test_2000_deeply_nested_pulses_are_a_bounded_log_and_the_room_carries_on(pulse_room, broker, caplog):
    app, base = pulse_room
    caplog.set_level(logging.INFO)
    lamp = Capture(broker, "zigbee2mqtt/Ceiling lamp/set")
    flood(broker, PULSE_TOPIC, [DEEP] * 1000 + [b'{"hr": ' * 1000] * 1000 + [b"72.0"])

    def pulse() -> float | None:
        app.loop.call(app.room.touch)
        return (app.room.snapshot()["vitals"]["pulse"] or {}).get("bpm")
    wait(lambda: pulse() == 72.0, "the good pulse after the flood")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if PULSE_TOPIC in r.getMessage()] == \
        [f"ignored a bad payload on {PULSE_TOPIC} (1 so far): the payload is nested too deeply"]
    assert not any(r.exc_info for r in caplog.records) and len(text) < 2000

    r = requests.post(f"{base}/api/presets/calm", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert r.status_code == 200
    assert lamp.next().payload.startswith('{"state":"ON"')
