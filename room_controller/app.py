"""The composition root: builds the room's parts, starts them in order and stops them in reverse.

journal -> core loop -> room (and a session left running, recovered; the alerts and the day's plan that follow
it) -> MQTT link -> music -> web.
Nothing else constructs these; tests build an `App` with a test clock and a real broker, the CLI builds one
from a config file.
"""

from __future__ import annotations

import logging
from pathlib import Path

from room_controller.audio.music import Music
from room_controller.config import RoomConfig
from room_controller.core.alerts import Alerts
from room_controller.core.day import Day
from room_controller.core.housekeeping import Housekeeping
from room_controller.core.loop import Loop
from room_controller.core.room import Room
from room_controller.infrastructure.clock import Clock, SystemClock
from room_controller.infrastructure.mqtt import MqttLink
from room_controller.journal.store import Journal
from room_controller.lighting.profiles import Catalogue
from room_controller.session.profiles import SessionProfile, load_profiles
from room_controller.webapp.http import create_app
from room_controller.webapp.routes import Route
from room_controller.webapp.server import WebServer

log = logging.getLogger(__name__)


class App:
    def __init__(self, config: RoomConfig, catalogue: Catalogue, *, clock: Clock | None = None,
                 audio: bool = True, web: bool = True, profiles: dict[str, SessionProfile] | None = None,
                 routes: tuple[Route, ...] = (), config_file: Path | None = None) -> None:
        """`config_file`: the file `config` was loaded from, where the clinic tools save the room's presets."""
        self.config = config
        self.clock = clock or SystemClock()
        self.journal = Journal(config.data_dir)
        self.loop = Loop(self.clock, after_batch=lambda: self.room.after_batch())
        mqtt = config.mqtt
        self.link = MqttLink(
            mqtt.host, mqtt.port, f"room-controller-{config.room.id}",
            username=mqtt.username, password=mqtt.password.get_secret_value() if mqtt.password else None,
            keepalive=mqtt.keepalive, reconnect_max=mqtt.reconnect_max,
            status_topic=f"{config.topic_prefix}/status",
            on_connect=lambda: self.loop.submit(self.room.broker_connected),
            on_disconnect=lambda reason: self.loop.submit(self.room.broker_disconnected, reason),
            on_message=self._mqtt_message,
            on_error=lambda text: self.loop.submit(self._problem, "mqtt", text),
        )
        self.loop.on_error = lambda text: self._problem("core", f"an error in the room core (see the log): {text}")
        # urgent: never refused for a full queue, and rare (a write failed, or wrote again after failing)
        self.journal.on_problem = lambda: self.loop.submit(self._journal_problem, urgent=True)
        self.music = Music(config.audio, config.playlists_dir, self.clock, self._music_event,
                           on_change=lambda: self.loop.submit(self.room.touch)) if audio else None
        self.room = Room(config, catalogue, self.loop, self.link.publish, self.journal,
                         load_profiles(config) if profiles is None else profiles, music=self.music,
                         config_file=config_file, burst=self.link.burst)
        room = self.room   # rooms that call for help: the clinic floor hears (only what the alerts use)
        self.alerts = Alerts(lambda: room.config, self.journal, self.clock, room.intake, session=room.session.snapshot,
                             emit=room.emit, touch=room.touch, publish=self.link.publish)
        self.room.followers.append(self.alerts)
        self.room.day = self.day = Day(   # the clinic's day plan (only what it uses)
            config.clinic, config=lambda: room.config, loop=room.loop, clock=room.clock, journal=room.journal,
            session=room.session, layers=room.layers, music=room.music, emit=room.emit, touch=room.touch,
            mqtt_connected=lambda: room.mqtt_connected, publish=self.link.publish)
        self.room.followers.append(self.day)
        self.room.housekeeping = self.housekeeping = Housekeeping(   # the nightly jobs (only what they use)
            config.retention_days, journal=room.journal, loop=room.loop, clock=room.clock, problems=room.problems,
            emit=room.emit, touch=room.touch)
        self.flask = create_app(self.room, config.web, routes)
        self.web = WebServer(self.flask, config.web.host, config.web.port, config.web.threads) if web else None
        self._started: list = []

    def _mqtt_message(self, topic: str, payload: bytes, retained: bool) -> None:
        """paho's thread: an alert's acknowledgement to the alerts, anything else to the room's inbox; not while
        calm's work is under way (Loop.yield_to_urgent)."""
        self.loop.yield_to_urgent()
        if topic == self.alerts.ack_topic:
            self.alerts.offer_ack(payload, retained)
        else:
            self.room.inbox.on_mqtt_message(topic, payload, retained)

    def _music_event(self, kind: str, data: dict) -> None:
        """The music thread's news (track started, file skipped, output failing), journaled by the core."""
        self.loop.submit(lambda: self.room.emit(kind, **data))

    def _problem(self, key: str, text: str) -> None:
        """On the core loop: a fault the panel's banner and /api/health show (room.problems)."""
        self.room.problems[key] = text
        self.room.touch()

    def _journal_problem(self) -> None:
        """On the core loop: the journal's writer found that rows cannot be written, or can be again."""
        if self.journal.problem is None:
            self.room.problems.pop("journal", None)
        else:
            self.room.problems["journal"] = self.journal.problem
        self.room.touch()

    def start(self) -> App:
        self._started.append(self.journal.close)
        self.loop.start()
        self._started.append(self.loop.stop)
        self.room.problems["mqtt"] = "connecting to the MQTT broker"
        self.loop.call(self.alerts.restore)   # before the first connect publishes their list
        self.link.subscribe([*self.room.inbox.subscriptions, self.alerts.ack_topic])
        self.link.start()
        self._started.append(self.link.stop)
        if self.music is not None:
            self.music.start()
            self._started.append(self.music.stop)
        self.loop.call(self.room.session.recover)
        self.day.start()   # after the recovered session, which a booking's preparation must see
        self._started.append(self.day.stop)
        self.room.touch()
        self.loop.call(self.room.after_batch)   # the first snapshot exists before any client can ask for it
        self._started.append(self.housekeeping.start().stop)
        if self.web is not None:
            self.web.start()
            self._started.append(self.web.stop)
        return self

    def stop(self) -> None:
        while self._started:
            stop = self._started.pop()
            try:
                stop()
            except Exception:
                log.exception("error while stopping %s", stop)

    def __enter__(self) -> App:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
