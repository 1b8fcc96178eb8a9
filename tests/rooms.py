"""Rooms for tests: a config file written like a clinic would write it, loaded the way `serve` loads it."""

from __future__ import annotations

from pathlib import Path

import yaml

from room_controller.config import load_room

MIXED_LIGHTS = [
    {"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp", "groups": ["overhead"]},
    {"id": "floor", "profile": "tasmota", "device": "floorlamp"},
    {"id": "strip", "profile": "wled", "device": "strip1"},
    {"id": "shelf", "profile": "shelly-rgbw2", "device": "shellyrgbw2-1"},
    {"id": "dimmer", "profile": "shelly-gen2", "device": "shellyplusdimmer-1", "groups": ["overhead"]},
    {"id": "reading", "profile": "homeassistant-json", "device": "esp/reading"},
    {"id": "odd", "profile": "template-per-topic", "device": "odd/lamp"},
]


def write_room(tmp_path: Path, broker, room_id: str, lights=None, **sections) -> Path:
    data = {
        "room": {"id": room_id, "name": "Test room"},
        "mqtt": {"host": broker.host, "port": broker.port, "base_topic": "therapy-room"},
        "web": {"host": "127.0.0.1", "port": 0, "api_token": "test-token-0123456789"},
        "audio": {"vlc_args": ["--aout=dummy"], "max_volume": 80},
        "lights": MIXED_LIGHTS if lights is None else lights,
        "data_dir": str(tmp_path / "data"),
    }
    data.update(sections)
    path = tmp_path / f"{room_id}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load(tmp_path: Path, broker, room_id: str, lights=None, **sections):
    return load_room(write_room(tmp_path, broker, room_id, lights, **sections))
