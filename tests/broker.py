"""Real MQTT for tests: the private broker, and a client that captures what a device would receive."""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from room_controller.infrastructure.broker import Broker, free_port  # noqa: F401 - tests import them from here
from room_controller.lighting.state import MqttMessage

MARK = "test/mark"   # subscribe a Capture to it to use sent_until_now


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: str
    qos: int
    retain: bool
    at: float


class Capture:
    """A separate MQTT client that records what arrives, exactly as a device would receive it."""

    def __init__(self, broker: Broker, *topics: str, qos: int = 2, username: str | None = None,
                 password: str | None = None) -> None:
        self.messages: queue.Queue[Seen] = queue.Queue()
        self.all: list[Seen] = []
        self._lock = threading.Lock()
        ready = threading.Event()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"capture-{id(self)}")
        client.on_connect = lambda c, u, f, rc, p: (c.subscribe([(t, qos) for t in topics]), None)
        client.on_subscribe = lambda c, u, mid, rcs, p: ready.set()
        client.on_message = self._on_message
        if username:
            client.username_pw_set(username, password)
        client.connect(broker.host, broker.port)
        client.loop_start()
        self.client = client
        if not ready.wait(5):
            raise RuntimeError("capture client could not subscribe")

    def _on_message(self, client, userdata, msg) -> None:
        seen = Seen(msg.topic, msg.payload.decode("utf-8", "replace"), msg.qos, bool(msg.retain), time.monotonic())
        with self._lock:
            self.all.append(seen)
        self.messages.put(seen)

    def next(self, timeout: float = 5.0) -> Seen:
        return self.messages.get(timeout=timeout)

    def take(self, count: int, timeout: float = 5.0) -> list[Seen]:
        return [self.next(timeout) for _ in range(count)]

    def wait_for(self, predicate, timeout: float = 5.0) -> Seen:
        return self._through(predicate, timeout)[1]

    def before(self, predicate, timeout: float = 5.0) -> list[Seen]:
        """What arrived before the first message that matches `predicate`. A publisher's messages arrive in the
        order it sent them, so a later message of the room's (its state, say) proves what it did not send in
        between, without waiting for silence."""
        return self._through(predicate, timeout)[0]

    def _through(self, predicate, timeout: float) -> tuple[list[Seen], Seen]:
        deadline, passed = time.monotonic() + timeout, []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching message arrived")
            try:
                seen = self.messages.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError("no matching message arrived") from None
            if predicate(seen):
                return passed, seen
            passed.append(seen)

    def drain(self, settle: float = 0.2) -> list[Seen]:
        out = []
        while True:
            try:
                out.append(self.messages.get(timeout=settle))
            except queue.Empty:
                return out

    def retained(self, mark: str) -> list[Seen]:
        """The retained messages the broker holds for this capture's subscription: it sends them on subscribing,
        so all arrive before a message this capture publishes after on `mark` (a topic it is subscribed to that
        nothing else uses)."""
        self.publish(mark, "mark", qos=1)
        return self.before(lambda m: m.topic == mark)

    def sent_until_now(self, app, mark: str = MARK) -> list[Seen]:
        """What arrived from `app` up to now: its core finishes what is due, then a mark goes out through the
        room's own MQTT client and arrives after all it sent before (one client's messages keep their order).
        `mark`: a topic this capture hears and the room may publish (a broker's ACL may allow only its own)."""
        app.loop.settle()
        assert app.link.publish(MqttMessage(mark, "mark", qos=1))
        return self.before(lambda m: m.topic == mark)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False, qos: int = 0) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
