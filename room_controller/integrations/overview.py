"""The clinic overview: every room on the clinic broker on one read-only page, live.

It only listens: to each room's retained `<base_topic>/<room>/state` (session, phase, preset, problems) and
`status` (online, or offline by the room's last will). It sends nothing to any room, so a room keeps working
whether the overview runs or not, and a room that goes down shows as offline while the others carry on.
The collected rooms offer the same two calls as the room core (`wait_for_change`, `snapshot_json`), so the
panel's event streams (webapp.events) serve the overview unchanged. It reads every room's labels, phases and
problems, so it is guarded as the panel is: only its own names (web.allowed_hosts), the same headers.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from pydantic import Field

from room_controller.config import MqttSettings, WebSettings
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Model
from room_controller.infrastructure.mqtt import MqttLink
from room_controller.webapp.auth import host_allowed
from room_controller.webapp.http import create_overview_app
from room_controller.webapp.server import WebServer

log = logging.getLogger(__name__)


class OverviewWeb(Model):
    host: str = "127.0.0.1"
    port: int = Field(8090, ge=0, le=65535)
    allowed_hosts: list[str] = Field(default_factory=list, description="names the overview is reached by besides "
                                     "IP addresses, localhost and this computer's name (the panel's Host check)")
    threads: int = Field(16, ge=4, le=256)
    max_event_streams: int = Field(8, ge=1, le=200)


class ClinicConfig(Model):
    """`CLINIC.yaml`: the broker the rooms share, and where the overview page listens."""

    mqtt: MqttSettings = MqttSettings()
    web: OverviewWeb = OverviewWeb()


def load_clinic(path: str | Path) -> ClinicConfig:
    doc = yamlfile.load(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "a clinic configuration is a mapping with `mqtt:` and `web:`")])
    return yamlfile.validate(ClinicConfig, doc)


class Rooms:
    """The rooms as last heard of, updated from paho's network thread, read by the web threads."""

    def __init__(self, base_topic: str) -> None:
        self.base = base_topic + "/"
        self.subscriptions = [f"{base_topic}/+/state", f"{base_topic}/+/status"]
        self.broker = "connecting"
        self._rooms: dict[str, dict] = {}
        self.version = 0
        self._json, self._json_version = b"{}", -1
        self.changed = threading.Condition()

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if not topic.startswith(self.base) or topic.count("/") != self.base.count("/") + 1:
            return
        room_id, leaf = topic[len(self.base):].split("/")
        with self.changed:
            room = self._rooms.setdefault(room_id, {"id": room_id, "status": "unknown", "state": None, "heard": None})
            if leaf == "status":
                room["status"] = payload.decode("utf-8", "replace")[:20] or "unknown"
            elif not payload:
                room["state"] = None   # a room taken out of service cleared its retained state
            else:
                try:
                    state = json.loads(payload.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    log.warning("ignored a state on %s that is not JSON", topic)
                    return
                if not isinstance(state, dict):
                    log.warning("ignored a state on %s that is not a JSON object", topic)
                    return
                room["state"] = state
            room["heard"] = time.time()
            self._bump()

    def on_broker(self, status: str) -> None:
        with self.changed:
            self.broker = status
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        self.changed.notify_all()

    def snapshot(self) -> dict:
        with self.changed:
            return {"broker": self.broker, "rooms": [dict(r) for _, r in sorted(self._rooms.items())]}

    def snapshot_json(self) -> bytes:
        with self.changed:
            if self._json_version != self.version:
                self._json = json.dumps(self.snapshot(), separators=(",", ":")).encode()
                self._json_version = self.version
            return self._json

    def wait_for_change(self, version: int, timeout: float) -> tuple[int, dict]:
        with self.changed:
            self.changed.wait_for(lambda: self.version != version, timeout)
            return self.version, {}


class Overview:
    """The overview service: an MQTT listener and the page, started and stopped together."""

    def __init__(self, config: ClinicConfig) -> None:
        mqtt = config.mqtt
        self.rooms = Rooms(mqtt.base_topic)
        self.link = MqttLink(
            mqtt.host, mqtt.port, f"room-overview-{os.getpid()}-{id(self):x}",
            username=mqtt.username, password=mqtt.password.get_secret_value() if mqtt.password else None,
            keepalive=mqtt.keepalive, reconnect_max=mqtt.reconnect_max,
            on_connect=lambda: self.rooms.on_broker("connected"),
            on_disconnect=lambda reason: self.rooms.on_broker("disconnected"),
            on_message=self.rooms.on_message)
        self.link.subscribe(self.rooms.subscriptions)
        names = WebSettings.model_construct(host=config.web.host, allowed_hosts=config.web.allowed_hosts)
        app = create_overview_app(self.rooms, config.web.max_event_streams, config.web.threads,
                                  lambda host: host_allowed(host, names))
        self.web = WebServer(app, config.web.host, config.web.port, config.web.threads)

    def start(self) -> Overview:
        self.link.start()
        self.web.start()
        return self

    def stop(self) -> None:
        self.web.stop()
        self.link.stop()
