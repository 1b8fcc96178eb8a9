"""The MQTT link: the only module that imports paho.

Connects in the background (a broker that is down at start-up is not an error), retries every second
at most, sets TCP_NODELAY so a preset's burst of small commands is not held back by Nagle's algorithm,
keeps the controller's retained `status` with a last will, and subscribes again on every connect (a broker
restarted without persistence forgets subscriptions). Callbacks run on paho's network thread and must
only hand work on; this module calls the owner's callbacks and nothing else.

Why it is not connected is never left at "connecting": `last_error` says whether the broker refused the login
(not authorised: a wrong password or user), refused for another reason, or could not be reached, and each
new reason is logged once and handed to `on_error` (the room shows it on the panel and in health), however
many times paho retries.

paho's thread reads as fast as the broker delivers, even in a flood: resting it would leave the broker to
drop what waits, from every source alike (a test flooding three sources at once lost the command source's
every message under load), where the room itself keeps the latest of each source (core/intake.py).

A message its handler cannot take is one short line per topic per minute, with how many more there were,
never a traceback per message (2,000 deeply nested messages were 3.5 MB of log): bad input (a ValueError,
or nesting too deep for the parser) says what was wrong; any other error is a bug and keeps its traceback,
once per topic per minute.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from room_controller.lighting.state import MqttMessage
from room_controller.pace import Budget

log = logging.getLogger(__name__)

MAX_QUEUED = 200  # QoS>0 messages paho may hold while disconnected; lights are re-asserted instead
# CONNACK reason codes of a refused login: MQTT 5 "Bad user name or password" (0x86), "Not authorized" (0x87);
# paho maps MQTT 3.1.1's return codes 4 and 5 to these (paho.mqtt.reasoncodes, convert_connack_rc_to_reason_code)
NOT_AUTHORISED = (0x86, 0x87)
COMPLAIN_EVERY = 60.0   # seconds: at most one line per topic about messages its handler could not take
CORK = getattr(socket, "TCP_CORK", None)   # Linux: hold written data until uncorked, then send it at once


class _WhileAway(logging.Filter):
    """paho logs an ERROR at every reconnect attempt, once a second for as long as the broker is away (7,200
    lines for a two-hour outage, found by the broker-outage benchmark); the link says it once, as a warning
    and in health, so paho's errors are dropped while disconnected."""

    def __init__(self, link: MqttLink) -> None:
        super().__init__()
        self._link = link

    def filter(self, record: logging.LogRecord) -> bool:
        return self._link.connected or record.levelno < logging.ERROR


class _Client(paho.Client):
    """paho's client on a network thread of the link's own, so a message published from another thread is
    written to the socket by that thread.

    With `loop_start`, paho's `publish` from another thread only queues the packet and wakes paho's thread
    through a socket pair to write it: a preset's 12 commands were 12 wake-ups and 12 handovers of the
    interpreter between the room's core and paho's thread while the core was still publishing. When no thread
    of paho's own runs the loop, paho writes at once, on the publishing thread (paho 2.2, `Client._packet_queue`
    calls `loop_write()`), so the link runs `loop_forever` on a thread it starts itself. Both threads
    then write, under one lock, so packets never interleave and none is left behind: what one writer misses,
    the other writes. Public API only. (Measured side by side with Node-RED: bench/peer.py.)
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock = threading.RLock()

    def loop_write(self):
        with self._write_lock:
            return super().loop_write()


def _cork(sock: socket.socket, on: int) -> None:
    assert CORK is not None   # burst() corks only where there is TCP_CORK
    try:
        sock.setsockopt(socket.IPPROTO_TCP, CORK, on)
    except OSError:   # closed meanwhile (a disconnect): nothing is held on a closed socket
        pass


def what_was_wrong(exc: BaseException) -> str | None:
    """Bad input in a few words; None for an error that is not about the input (a bug)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, ValueError):
        return str(exc)[:200] or type(exc).__name__
    return None


class MqttLink:
    def __init__(self, host: str, port: int, client_id: str, *, username: str | None = None,
                 password: str | None = None, keepalive: int = 15, reconnect_max: float = 1.0,
                 status_topic: str | None = None,
                 on_connect: Callable[[], object] = lambda: None,
                 on_disconnect: Callable[[str], object] = lambda reason: None,
                 on_message: Callable[[str, bytes, bool], None] = lambda topic, payload, retained: None,
                 on_error: Callable[[str], object] = lambda text: None, complain_every: float = COMPLAIN_EVERY,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.host, self.port, self.keepalive, self.client_id = host, port, keepalive, client_id
        self.status_topic = status_topic
        self._on_connect, self._on_disconnect, self._on_message = on_connect, on_disconnect, on_message
        self._on_error = on_error
        self._topics: set[str] = set()
        self._lock = threading.Lock()
        self.connected = False
        self._stopping = False
        self.last_error: str | None = None
        self._complain_every, self._monotonic = complain_every, monotonic
        self._complaints: dict[str, Budget] = {}   # per topic: one line per complain_every
        self._thread: threading.Thread | None = None
        self._bursts = 0   # bursts under way (one thread, the core's, makes them)
        client = _Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self._paho_log, self._quiet = logging.getLogger(f"paho.{client_id}"), _WhileAway(self)
        self._paho_log.addFilter(self._quiet)
        client.enable_logger(self._paho_log)
        if username:
            client.username_pw_set(username, password)
        # paho annotates whole seconds; its _reconnect_wait (paho/mqtt/client.py) doubles and sleeps on any number
        client.reconnect_delay_set(min_delay=min(0.25, reconnect_max), max_delay=reconnect_max)  # type: ignore[arg-type]
        client.max_queued_messages_set(MAX_QUEUED)
        if status_topic:
            client.will_set(status_topic, "offline", qos=1, retain=True)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client.on_connect_fail = self._connect_failed
        self._client = client

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, self.keepalive)
        self._thread = threading.Thread(target=self._client.loop_forever, kwargs={"retry_first_connection": True},
                                        name=f"paho-mqtt-client-{self.client_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A clean stop: say `offline` ourselves (the will is only for crashes), then disconnect."""
        self._stopping = True
        if self.connected and self.status_topic:
            info = self._client.publish(self.status_topic, "offline", qos=1, retain=True)
            try:
                info.wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                pass
        self._client.disconnect()   # loop_forever returns
        if self._thread is not None:
            self._thread.join(5)
        self.connected = False
        self._paho_log.removeFilter(self._quiet)

    def subscribe(self, topics: list[str]) -> None:
        """Follow these topics now and after every reconnect."""
        with self._lock:
            new = [t for t in topics if t not in self._topics]
            self._topics.update(new)
        if new and self.connected:
            self._client.subscribe([(t, 0) for t in new])

    def unsubscribe(self, topics: list[str]) -> None:
        with self._lock:
            gone = [t for t in topics if t in self._topics]
            self._topics.difference_update(gone)
        if gone and self.connected:
            self._client.unsubscribe(gone)

    @contextmanager
    def burst(self) -> Iterator[None]:
        """Commands published meanwhile leave together when the burst ends (TCP_CORK), not one packet each.

        Each packet written alone wakes the broker, which then competes with the room for the processor while
        the room is still working out the next light's command: in the room's own process the link's share of a
        press fell from 77 to 45 µs a light (bench/calm_lights.py; docs/calm-lane.md). The
        first light hears a moment later, the last one sooner, and every light is calm when the last is. Nested
        bursts end with the outermost; without TCP_CORK (not Linux) or a socket, packets go as they come."""
        found = self._client.socket()
        sock = found if self._bursts == 0 and CORK is not None and isinstance(found, socket.socket) else None
        self._bursts += 1
        try:
            if sock is not None:
                _cork(sock, 1)
            yield
        finally:
            self._bursts -= 1
            if sock is not None:
                _cork(sock, 0)

    def publish(self, message: MqttMessage) -> bool:
        """Send now if connected; False otherwise (the caller re-asserts state on reconnect instead)."""
        if not self.connected:
            return False
        info = self._client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)
        return info.rc == paho.MQTT_ERR_SUCCESS

    # -- paho's network thread ---------------------------------------------------------------------------------

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            if reason_code.value in NOT_AUTHORISED:
                self._failed(f"the MQTT broker at {self.host}:{self.port} refused the login: not authorised "
                             f"({reason_code}); check mqtt.username and mqtt.password", logging.ERROR)
            else:
                self._failed(f"the MQTT broker at {self.host}:{self.port} refused the connection: {reason_code}",
                             logging.ERROR)
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            topics = sorted(self._topics)
        if topics:
            client.subscribe([(t, 0) for t in topics])
        if self.status_topic:
            client.publish(self.status_topic, "online", qos=1, retain=True)
        self.connected = True
        self.last_error = None
        log.info("MQTT connected to %s:%s", self.host, self.port)
        self._on_connect()

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected
        self.connected = False
        reason = str(reason_code)
        if was and not self._stopping:
            log.warning("MQTT disconnected from %s:%s (%s); retrying", self.host, self.port, reason)
            self.last_error = f"disconnected: {reason}"
            self._on_disconnect(reason)

    def _connect_failed(self, client, userdata) -> None:
        self._failed(f"the MQTT broker at {self.host}:{self.port} is unreachable: lights cannot be changed",
                     logging.WARNING)

    def _failed(self, text: str, level: int) -> None:
        """A reason for not being connected: logged and handed on when it is new, not at every retry."""
        if text == self.last_error:
            return
        self.last_error = text
        log.log(level, "MQTT: %s", text)
        self._on_error(text)

    def _message(self, client, userdata, message) -> None:
        try:
            self._on_message(message.topic, message.payload, bool(message.retain))
        except Exception as exc:  # a bad message must never stop the network thread
            self._complain(message.topic, exc)

    def _complain(self, topic: str, exc: Exception) -> None:
        budget = self._complaints.setdefault(topic, Budget(1, self._complain_every))
        if not budget.take(self._monotonic()):
            return
        more = f" ({budget.passed_over} more since the last line)" if budget.passed_over else ""
        budget.passed_over = 0
        wrong = what_was_wrong(exc)
        if wrong is not None:
            log.warning("MQTT: ignored a bad message on %s: %s%s", topic, wrong, more)
        else:
            log.error("MQTT: error handling a message on %s%s", topic, more, exc_info=exc)
