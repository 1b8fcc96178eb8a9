"""Home Assistant MQTT discovery: the room appears in the clinic's Home Assistant as one device.

A select for the preset, buttons for calm and release, sensors for the phase and the session time, all
available while the controller's retained `status` says `online`. The entities act through the room's own
command topic and read its retained `state`, so Home Assistant needs nothing the room does not already
publish. Payloads follow Home Assistant's documented single-component discovery: retained JSON on
`<prefix>/<component>/<node_id>/<object_id>/config`; an empty retained payload removes an entity.

The topics last published are remembered in `data_dir`, so a room whose id changed, or whose discovery was
turned off, removes exactly what it published before — never another room's entities.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from room_controller import __version__
from room_controller.config import RoomConfig
from room_controller.lighting.state import MqttMessage

log = logging.getLogger(__name__)

RECORD = "homeassistant-topics.json"
NO_PRESET = "none"


def node_id(config: RoomConfig) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{config.mqtt.base_topic}_{config.room.id}")


def entities(config: RoomConfig) -> dict[str, dict]:
    """Each entity's discovery topic and config payload."""
    node = node_id(config)
    prefix = config.homeassistant.prefix
    command, state, status = (f"{config.topic_prefix}/{leaf}" for leaf in ("command", "state", "status"))
    common = {
        "availability_topic": status, "payload_available": "online", "payload_not_available": "offline",
        "device": {"identifiers": [node], "name": config.room.name or config.room.id,
                   "manufacturer": "room-controller", "model": "Therapy room controller",
                   "sw_version": __version__},
    }
    found = {
        ("select", "preset"): {
            "name": "Preset", "icon": "mdi:lightbulb-group", "command_topic": command,
            "command_template": f'{{% if value == "{NO_PRESET}" %}}{{"preset": null}}'
                                '{% else %}{"preset": {{ value | tojson }}}{% endif %}',
            "options": [NO_PRESET, *config.presets], "state_topic": state,
            "value_template": f"{{{{ value_json.preset or '{NO_PRESET}' }}}}"},
        ("button", "calm"): {"name": "Calm", "icon": "mdi:weather-night", "command_topic": command,
                             "payload_press": '{"preset": "calm"}'},
        ("button", "release"): {"name": "Release preset", "icon": "mdi:undo", "command_topic": command,
                                "payload_press": '{"preset": null}'},
        ("sensor", "phase"): {"name": "Phase", "icon": "mdi:timeline-clock", "state_topic": state,
                              "value_template": "{{ value_json.session.phase.name if value_json.session "
                                                "else 'No session' }}"},
        ("sensor", "session_time"): {"name": "Session time", "state_topic": state, "device_class": "duration",
                                     "state_class": "measurement", "unit_of_measurement": "min",
                                     "value_template": "{{ (value_json.session.elapsed_s / 60) | round(0) | int "
                                                       "if value_json.session else 0 }}"},
    }
    return {f"{prefix}/{component}/{node}/{obj}/config": {**payload, "unique_id": f"{node}_{obj}", **common}
            for (component, obj), payload in found.items()}


def status_topic(config: RoomConfig) -> str:
    """Home Assistant announces itself here (`online`) after a restart: then discovery is sent again."""
    return f"{config.homeassistant.prefix}/status"


class Discovery:
    """What to publish on connect and when Home Assistant restarts; remembers it for a clean removal."""

    def __init__(self, config: RoomConfig) -> None:
        self.enabled = config.homeassistant.discovery
        self.status_topic = status_topic(config) if self.enabled else None
        self._entities = entities(config) if self.enabled else {}
        self._record = Path(config.data_dir) / RECORD

    def announce(self) -> list[MqttMessage]:
        """Every entity's config (retained)."""
        return [MqttMessage(topic, json.dumps(payload, separators=(",", ":")), qos=1, retain=True)
                for topic, payload in self._entities.items()]

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
