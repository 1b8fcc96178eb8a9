"""Rooms for tests: a config file written like a clinic would write it, loaded the way `serve` loads it."""

from __future__ import annotations

import wave
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
    for folder in ("profiles", "playlists"):   # the defaults, beside the file: `serve` checks they are there
        (tmp_path / folder).mkdir(exist_ok=True)
    calm = tmp_path / "playlists" / "calm.m3u"   # the built-in calm preset's music, checked by `serve` too
    if not calm.exists():
        with wave.open(str(tmp_path / "playlists" / "silence.wav"), "wb") as track:   # a second of silence
            track.setnchannels(1)
            track.setsampwidth(2)
            track.setframerate(8000)
            track.writeframes(bytes(16000))
        calm.write_text("#EXTM3U\nsilence.wav\n")
    path = tmp_path / f"{room_id}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def load(tmp_path: Path, broker, room_id: str, lights=None, **sections):
    return load_room(write_room(tmp_path, broker, room_id, lights, **sections))
