"""The clinic overview: the floor's screen. Every room on the clinic broker on one page, live, with the rooms'
alerts at the top until someone acknowledges them.

It listens to each room's retained `<base_topic>/<room>/state` (session, phase, preset, problems) and `status`
(online, or offline by the room's last will), to each alert as it is raised (`<room>/alert`) and to the room's
retained list of alerts nobody has acknowledged yet (`<room>/alerts`): an overview that connects late or
reconnects takes that list as the truth, so it catches up with what it missed. It follows each room's retained
day (`<room>/day`, overview_day) too: the room's next booking, and every room's plan as one list by start time
with the plans' problems, so a booking that cannot be prepared shows before the day starts. Its one write is
the acknowledgement (`<room>/alert/ack`, named by `overview.name`), behind the overview's PIN; the room
journals it and drops the alert from its list, and only then does the alert leave this screen. An
acknowledgement that found no room to hear it goes again when the room's list still holds the alert. A room
keeps working whether the overview runs or not. What anyone allowed to publish under the base topic could grow
is bounded: at most MAX_ROOMS rooms, MAX_ALERTS live alerts each.

The collected rooms offer the same two calls as the room core (`wait_for_change`, `snapshot_json`), so the
panel's event streams (webapp.events) serve the overview unchanged. It is guarded as the panel is: only its
own names (web.allowed_hosts), the same headers, a PIN login with a CSRF token for the acknowledgement.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from room_controller.alert_kinds import URGENT
from room_controller.config import MqttSettings, WebSettings
from room_controller.fields import Duration
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Model
from room_controller.infrastructure.mqtt import MqttLink
from room_controller.integrations.overview_day import floor_plan, room_name, take_day
from room_controller.integrations.received import moment, optional_text, text
from room_controller.lighting.state import MqttMessage
from room_controller.session.dayfile import DaySettings
from room_controller.webapp.auth import Auth, host_allowed
from room_controller.webapp.http import create_overview_app
from room_controller.webapp.server import WebServer

log = logging.getLogger(__name__)

MAX_ROOMS = 200     # rooms followed: anyone allowed to publish under the base topic can name a new one
MAX_ALERTS = 50     # live alerts per room, as many as a room's retained list holds
RESEND_AFTER = 5.0  # seconds: an acknowledgement the room's list still shows after this goes again
KIND = re.compile(r"[a-z][a-z_]{0,39}")   # a kind this overview does not know yet still shows, by its `what`


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OverviewWeb(Model):
    host: str = "127.0.0.1"
    port: int = Field(8090, ge=0, le=65535)
    allowed_hosts: list[str] = Field(default_factory=list, description="names the overview is reached by besides "
                                     "IP addresses, localhost and this computer's name (the panel's Host check)")
    threads: int = Field(16, ge=4, le=256)
    max_event_streams: int = Field(8, ge=1, le=200)
    pin: SecretStr | None = Field(None, description="the front desk's PIN to acknowledge alerts; needed when the "
                                  "page is served beyond this computer")
    idle_logout: Duration = Field(7200.0, ge=60, le=7 * 86400, description="a login unused this long ends (the "
                                  "front desk's own screen, marked at login, never)")

    @model_validator(mode="after")
    def _pin_off_loopback(self) -> OverviewWeb:
        if self.pin is not None and not (4 <= len(self.pin.get_secret_value()) <= 12):
            raise ValueError("pin must be 4 to 12 characters")
        if self.pin is None and not _loopback(self.host):
            raise ValueError(f"listening on {self.host} (beyond this computer) needs a pin: whoever reaches the page "
                             "could acknowledge the rooms' alerts")
        return self


class FrontDesk(Model):
    name: str = Field("front desk", min_length=1, max_length=60, description="who acknowledges from this overview: "
                      "the room journals it and its panel says 'Seen by <name>'")
    data_dir: Path | None = Field(None, description="where the overview keeps its login secret and logins (owner-"
                                  "only), relative to the clinic file; unset: logins end when the overview stops")


class ClinicConfig(Model):
    """`CLINIC.yaml`: the broker the rooms share, where the overview page listens, and who acknowledges there."""

    mqtt: MqttSettings = MqttSettings()
    web: OverviewWeb = OverviewWeb()
    overview: FrontDesk = FrontDesk()
    day: DaySettings | None = Field(None, description="the rooms' bookings (docs/day.md); each room that names "
                                    "this file reads its own")


def load_clinic(path: str | Path) -> ClinicConfig:
    doc = yamlfile.load(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "a clinic configuration is a mapping with `mqtt:` and `web:`")])
    config = yamlfile.validate(ClinicConfig, doc)
    if config.overview.data_dir is None:
        return config
    data_dir = Path(path).resolve().parent / config.overview.data_dir   # an absolute path stays as it is
    return config.model_copy(update={"overview": config.overview.model_copy(update={"data_dir": data_dir})})


def parse_alert(data: object, room_id: str) -> dict:
    """One alert of the contract (docs/interface.md, Alerts) as the screen shows it, or ValueError saying what is
    wrong. Only what the screen shows is kept: a kind's `detail` stays with the room."""
    if not isinstance(data, dict):
        raise ValueError("an alert is a JSON object")
    alert_id, kind, urgent = data.get("id"), data.get("kind"), data.get("urgent")
    if not isinstance(alert_id, str) or len(alert_id) > 200 or not alert_id.startswith(f"{room_id}-") or \
            not alert_id[len(room_id) + 1:].isdigit():
        raise ValueError(f"an alert's id is '{room_id}-<n>', the room's own")
    if data.get("room") != room_id:
        raise ValueError("the alert's room is not the topic's")
    if not isinstance(kind, str) or not KIND.fullmatch(kind):
        raise ValueError("an alert's kind is a short word such as emergency_on")
    if not isinstance(urgent, bool):
        raise ValueError("an alert's urgent is true or false")
    t = moment(data, "at", "an alert's")
    session_s = data.get("session_s")
    if session_s is not None and (isinstance(session_s, bool) or not isinstance(session_s, int | float)
                                  or not math.isfinite(session_s) or session_s < 0):
        raise ValueError("an alert's session_s is seconds or null")
    whose = "an alert's"
    return {"id": alert_id, "room": room_id, "room_name": optional_text(data, "room_name", 100, whose),
            "kind": kind, "urgent": urgent or kind in URGENT, "phase": optional_text(data, "phase", 100, whose),
            "session_s": session_s, "at": data["at"], "t": t, "n": int(alert_id[len(room_id) + 1:]),
            "what": text(data, "what", 300, whose)}


def alert_order(alert: dict) -> tuple:
    """Urgent first, then the newest (in one second, the room's later one)."""
    return (not alert["urgent"], -alert["t"], -alert["n"], alert["room"])


@dataclass
class Ack:
    room: str
    message: MqttMessage
    by: str
    at: str
    sent_at: float | None = None   # monotonic; None: not on the wire yet (the broker was away)


class Rooms:
    """The rooms as last heard of, updated from paho's network thread, read by the web threads; the
    acknowledgements asked for on the page, until each room's list no longer holds the alert."""

    def __init__(self, base_topic: str, name: str = "front desk",
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone()) -> None:
        self.base = base_topic + "/"
        self.subscriptions = [f"{base_topic}/+/{leaf}" for leaf in ("state", "status", "alert", "alerts", "day")]
        self.name, self._now = name, now
        self.send: Callable[[MqttMessage], bool] = lambda message: False   # the link's publish, once there is one
        self.broker = "connecting"
        self._rooms: dict[str, dict] = {}
        self._acks: dict[str, Ack] = {}
        self.turned_away = 0   # messages of rooms beyond MAX_ROOMS
        self.version = 0
        self._json, self._json_version = b"{}", -1
        self._plan: dict | None = None   # every room's plan merged, made again when a day or a room's name changes
        self.changed = threading.Condition()

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        """A ValueError is bad input: the link logs it, one line per topic per minute."""
        if not topic.startswith(self.base) or topic.count("/") != self.base.count("/") + 1:
            return
        room_id, leaf = topic[len(self.base):].split("/")
        resend, bad = [], None
        with self.changed:
            room = self._room(room_id)
            if room is None:
                return
            if leaf == "status":
                room["status"] = payload.decode("utf-8", "replace")[:20] or "unknown"
            elif leaf == "state":
                named = room_name(room)
                room["state"] = _state(topic, payload)
                if room_name(room) != named and room["day"]:
                    self._plan = None
            elif leaf == "day":
                room["day"], bad = take_day(payload, room_id)
                self._plan = None
            elif leaf == "alert":
                alert = parse_alert(_json(payload), room_id)
                room["alerts"][alert["id"]] = alert
                _bound(room["alerts"])
            else:
                bad = self._take_list(room, payload)
                resend = self._due(room["id"])
            room["heard"] = time.time()
            self._bump()
        self._send(resend)
        if bad:
            raise ValueError(bad)

    def _room(self, room_id: str) -> dict | None:
        room = self._rooms.get(room_id)
        if room is None:
            if len(self._rooms) >= MAX_ROOMS:
                self.turned_away += 1
                if self.turned_away == 1:
                    log.warning("the overview follows at most %d rooms: ignored %s and any further new room",
                                MAX_ROOMS, room_id[:60])
                    self._bump()
                return None
            room = self._rooms[room_id] = {"id": room_id, "status": "unknown", "state": None, "heard": None,
                                           "alerts": {}, "day": None}
        return room

    def _take_list(self, room: dict, payload: bytes) -> str | None:
        """The room's retained list replaces what was live (an empty payload: the room cleared it); bad entries
        are left out and said."""
        items = _json(payload) if payload else []
        if not isinstance(items, list):
            raise ValueError("a room's alerts are a JSON array")
        alerts, bad = {}, 0
        for item in items[-MAX_ALERTS:]:
            try:
                alert = parse_alert(item, room["id"])
            except ValueError:
                bad += 1
                continue
            alerts[alert["id"]] = alert
        room["alerts"] = alerts
        for alert_id in [a for a, ack in self._acks.items() if ack.room == room["id"] and a not in alerts]:
            del self._acks[alert_id]   # the room has it: journaled, and gone from its list
        return f"left out {bad} of {len(items)} alerts in the list that were not alerts" if bad else None

    def _due(self, room_id: str) -> list[str]:
        """Acknowledgements the room's list still shows, unsent or sent a while ago: to go again."""
        now = time.monotonic()
        return [a for a, ack in self._acks.items() if ack.room == room_id and
                (ack.sent_at is None or now - ack.sent_at > RESEND_AFTER)]

    def acknowledge(self, alert_id: str) -> dict | None:
        """Someone at the overview has seen this alert: the room is told (None: no live alert has this id)."""
        with self.changed:
            room = next((r for r in self._rooms.values() if alert_id in r["alerts"]), None)
            if room is None:
                return None
            ack = self._acks.get(alert_id)
            if ack is None:
                at = self._now().isoformat(timespec="seconds")
                body = json.dumps({"id": alert_id, "by": self.name, "at": at}, separators=(",", ":"))
                ack = self._acks[alert_id] = Ack(room["id"], MqttMessage(f"{self.base}{room['id']}/alert/ack",
                                                                         body, qos=1), self.name, at)
                log.info("alert %s acknowledged by %s", alert_id[:200], self.name)
            self._bump()
        sent = self._send([alert_id])
        return {"id": alert_id, "by": ack.by, "at": ack.at, "sent": sent}

    def _send(self, alert_ids: list[str]) -> bool:
        """Publish these acknowledgements (outside the lock: paho may write on this thread); all sent?"""
        sent = True
        for alert_id in alert_ids:
            with self.changed:
                ack = self._acks.get(alert_id)
            if ack is None:
                continue
            if self.send(ack.message):
                ack.sent_at = time.monotonic()
            else:
                sent = False
        return sent

    def on_broker(self, status: str) -> None:
        with self.changed:
            self.broker = status
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        self.changed.notify_all()

    def snapshot(self) -> dict:
        with self.changed:
            alerts = sorted((a for r in self._rooms.values() for a in r["alerts"].values()), key=alert_order)
            acks = self._acks
            if self._plan is None:
                self._plan = floor_plan(self._rooms.values())
            return {"broker": self.broker, "name": self.name, "turned_away": self.turned_away,
                    "alerts": [{**a, "seen": {"by": acks[a["id"]].by, "at": acks[a["id"]].at}
                                if a["id"] in acks else None} for a in alerts],
                    "rooms": [{k: v for k, v in r.items() if k not in ("alerts", "day")} |
                              {"alerts": len(r["alerts"]), "next": r["day"] and r["day"]["next"]}
                              for _, r in sorted(self._rooms.items())],
                    "plan": self._plan}

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


def _json(payload: bytes) -> object:
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("not JSON") from None


def _state(topic: str, payload: bytes) -> dict | None:
    if not payload:
        return None   # a room taken out of service cleared its retained state
    state = _json(payload)
    if not isinstance(state, dict):
        raise ValueError("a room's state is a JSON object")
    return state


def _bound(alerts: dict[str, dict]) -> None:
    """At most MAX_ALERTS: the oldest that is not urgent goes first, then the oldest."""
    while len(alerts) > MAX_ALERTS:
        calm = [a for a in alerts.values() if not a["urgent"]] or list(alerts.values())
        del alerts[min(calm, key=lambda a: (a["t"], a["n"]))["id"]]


class Overview:
    """The overview service: an MQTT listener and the page, started and stopped together."""

    def __init__(self, config: ClinicConfig) -> None:
        mqtt, web = config.mqtt, config.web
        self.rooms = Rooms(mqtt.base_topic, config.overview.name)
        self.link = MqttLink(
            mqtt.host, mqtt.port, f"room-overview-{os.getpid()}-{id(self):x}",
            username=mqtt.username, password=mqtt.password.get_secret_value() if mqtt.password else None,
            keepalive=mqtt.keepalive, reconnect_max=mqtt.reconnect_max,
            on_connect=lambda: self.rooms.on_broker("connected"),
            on_disconnect=lambda reason: self.rooms.on_broker("disconnected"),
            on_message=self.rooms.on_message)
        self.rooms.send = self.link.publish
        self.link.subscribe(self.rooms.subscriptions)
        names = WebSettings.model_construct(host=web.host, allowed_hosts=web.allowed_hosts, pin=web.pin,
                                            idle_logout=web.idle_logout)
        self._scratch: tempfile.TemporaryDirectory | None = None
        data_dir = config.overview.data_dir
        if data_dir is None:   # logins for this run only
            self._scratch = tempfile.TemporaryDirectory(prefix="room-overview-")
            data_dir = Path(self._scratch.name)
        auth = Auth(names, data_dir)
        app = create_overview_app(self.rooms, web.max_event_streams, web.threads,
                                  lambda host: host_allowed(host, names), auth, self.rooms.acknowledge)
        self.web = WebServer(app, web.host, web.port, web.threads)

    def start(self) -> Overview:
        self.link.start()
        self.web.start()
        return self

    def stop(self) -> None:
        self.web.stop()
        self.link.stop()
        if self._scratch is not None:
            self._scratch.cleanup()
