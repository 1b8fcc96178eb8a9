"""Real MQTT for tests: a mosquitto child process on a free loopback port, and a capturing client."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto on 127.0.0.1; `restart()` keeps the port, like a broker a technician restarts."""

    def __init__(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError("mosquitto is not installed: apt-get install mosquitto")
        self.binary = binary
        self.port = free_port()
        self.host = "127.0.0.1"
        self._dir = tempfile.TemporaryDirectory(prefix="broker-")
        self.conf = Path(self._dir.name) / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                             "log_type error\nlog_type warning\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Broker":
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.host, self.port), 0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read().decode()}")
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: str
    qos: int
    retain: bool
    at: float


class Capture:
    """A separate MQTT client that records what arrives, exactly as a device would receive it."""

    def __init__(self, broker: Broker, *topics: str, qos: int = 2) -> None:
        self.messages: "queue.Queue[Seen]" = queue.Queue()
        self.all: list[Seen] = []
        self._lock = threading.Lock()
        ready = threading.Event()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"capture-{id(self)}")
        client.on_connect = lambda c, u, f, rc, p: (c.subscribe([(t, qos) for t in topics]), None)
        client.on_subscribe = lambda c, u, mid, rcs, p: ready.set()
        client.on_message = self._on_message
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
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching message arrived")
            try:
                seen = self.messages.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError("no matching message arrived") from None
            if predicate(seen):
                return seen

    def drain(self, settle: float = 0.2) -> list[Seen]:
        out = []
        while True:
            try:
                out.append(self.messages.get(timeout=settle))
            except queue.Empty:
                return out

    def publish(self, topic: str, payload: str | bytes, retain: bool = False, qos: int = 0) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
