"""Home Assistant MQTT discovery: the room appears in the clinic's Home Assistant as one device.

Its entities (entities.py) are available while the controller's retained `status` says `online`. Payloads
follow Home Assistant's single-component discovery: retained JSON on
`<prefix>/<component>/<node_id>/<object_id>/config`; an empty retained payload removes an entity. The phase
sensor's options are the running profile's phases, so its config is sent again when a session starts or ends.

The topics last published are remembered in `data_dir`, so a room whose id changed, or whose discovery was
turned off, removes exactly what it published before — never another room's entities.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from room_controller.config import RoomConfig
from room_controller.integrations.homeassistant.entities import REMINDER, entities, reminder_topic
from room_controller.lighting.state import MqttMessage

log = logging.getLogger(__name__)

RECORD = "homeassistant-topics.json"


def status_topic(config: RoomConfig) -> str:
    """Home Assistant announces itself here (`online`) after a restart: then discovery is sent again."""
    return f"{config.homeassistant.prefix}/status"


class Discovery:
    """What to publish on connect and when Home Assistant restarts; remembers it for a clean removal."""

    def __init__(self, config: RoomConfig) -> None:
        self.enabled = config.homeassistant.discovery
        self.status_topic = status_topic(config) if self.enabled else None
        self._config = config
        self._phases: tuple[str, ...] = ()
        self._entities = entities(config) if self.enabled else {}
        self._record = Path(config.data_dir) / RECORD

    def announce(self) -> list[MqttMessage]:
        """Every entity's config (retained)."""
        return [_config(topic, payload) for topic, payload in self._entities.items()]

    def follow(self, session: dict | None) -> list[MqttMessage]:
        """The configs that change with the session (a snapshot's `session`): the phase sensor's options."""
        phases = tuple(phase["name"] for phase in session["phases"]) if session else ()
        if not self.enabled or phases == self._phases:
            return []
        self._phases = phases
        before, self._entities = self._entities, entities(self._config, phases)
        return [_config(topic, payload) for topic, payload in self._entities.items() if before.get(topic) != payload]

    def stale(self) -> list[MqttMessage]:
        """Empty retained payloads for what was published before and is no longer wanted."""
        return [MqttMessage(topic, "", qos=1, retain=True) for topic in self._remembered() if topic not in self._entities]

    def remember(self) -> None:
        """Record what is published now (after it was sent), so a later change can remove it."""
        if not self._entities:
            self._record.unlink(missing_ok=True)
            return
        tmp = self._record.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(self._entities)))
        os.replace(tmp, self._record)

    def _remembered(self) -> list[str]:
        try:
            topics = json.loads(self._record.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s (%s): old Home Assistant entities may stay", self._record, exc)
            return []
        return [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []


def _config(topic: str, payload: dict) -> MqttMessage:
    return MqttMessage(topic, json.dumps(payload, separators=(",", ":")), qos=1, retain=True)


def reminder_event(config: RoomConfig, reminder: dict) -> MqttMessage:
    """A reminder coming due (its journal row's data), as Home Assistant's MQTT event reads it: not retained,
    so a Home Assistant that starts later does not notify staff of an old one."""
    body = {"event_type": REMINDER, "text": reminder["text"], "phase": reminder.get("phase") or None}
    return MqttMessage(reminder_topic(config), json.dumps(body, separators=(",", ":")), qos=1, retain=False)
