"""Commands that arrive as MQTT payloads on `<base_topic>/<room>/command` (buttons, clinic systems).

Parsing is pure and strict: anything but a known command is a `CommandError`, logged and ignored by the
caller. A parsed command runs on the core loop like any other request. Commands of one `kind` from one
source supersede each other (a newer preset replaces a preset still waiting; resume replaces pause), so a
flood of them costs the room only the latest (core/intake.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from room_controller.lighting.state import LightChange
from room_controller.units import KELVIN_MAX, KELVIN_MIN, parse_duration

MAX_COMMAND = 4096


class CommandError(ValueError):
    pass


@dataclass(frozen=True)
class PresetCommand:
    name: str | None  # None releases the active preset
    kind = "preset"

    def run(self, room: Any, source: str) -> Any:
        """`source`: the topic it came on; each is checked on its own (core/sources.py)."""
        return room.presets.command(self.name, source)


SESSION_CONTROLS = ("pause", "resume", "next", "previous", "undo", "stop")


@dataclass(frozen=True)
class SessionCommand:
    control: str

    @property
    def kind(self) -> str:
        return {"resume": "pause", "previous": "next"}.get(self.control, self.control)

    def run(self, room: Any, source: str) -> Any:
        return getattr(room.session, self.control)()


@dataclass(frozen=True)
class ExtendCommand:
    seconds: float
    kind = "extend"

    def run(self, room: Any, source: str) -> Any:
        return room.session.extend(self.seconds)


MUSIC_CONTROLS = {"play": "playing", "pause": "playing", "next": "next"}   # control: its kind


@dataclass(frozen=True)
class MusicCommand:
    """`play`/`pause` (one kind: the latest wins), `next`, or the therapist's `volume` (0-100)."""
    control: str
    volume: float | None = None

    @property
    def kind(self) -> str:
        return "volume" if self.control == "volume" else MUSIC_CONTROLS[self.control]

    def run(self, room: Any, source: str) -> Any:
        if self.control == "volume":
            return room.adjust_music(self.volume, None)
        if self.control == "next":
            return room.adjust_music(None, None, next_track=True)
        return room.adjust_music(None, self.control == "play")


@dataclass(frozen=True)
class LightsCommand:
    """A manual adjustment of every light (the panel's room slider): it holds across phases, like the panel's.
    It comes from an automated source, so it is refused while the emergency light is on (core/layers.py)."""
    on: bool | None = None
    brightness: float | None = None
    kelvin: float | None = None
    transition: float | None = None
    kind = "lights"

    def run(self, room: Any, source: str) -> Any:
        """`source`: the topic it came on (the command topic, Home Assistant's included, or a button's)."""
        return room.layers.adjust_lights(None, LightChange(on=self.on, brightness=self.brightness, kelvin=self.kelvin),
                                         self.transition, source)


Command = PresetCommand | SessionCommand | ExtendCommand | MusicCommand | LightsCommand
LIGHT_RANGES = {"brightness": (0, 100), "kelvin": (KELVIN_MIN, KELVIN_MAX), "transition": (0, 3600)}


def parse_command(payload: bytes) -> Command:
    """`{"preset": "calm"}`, `{"preset": null}`, `{"session": "pause"}` (resume, next, previous, stop),
    `{"extend": "15m"}`, `{"music": "play"}` (pause, next), `{"music": {"volume": 40}}`,
    `{"lights": {"on": true, "brightness": 40, "kelvin": 2700, "transition": 2}}` (any of them)."""
    if len(payload) > MAX_COMMAND:
        raise CommandError(f"a command of {len(payload)} bytes is too large")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CommandError(f"not JSON: {payload[:80]!r}") from None
    if not isinstance(body, dict) or len(body) != 1:
        raise CommandError(f"expected one key such as {{\"preset\": \"calm\"}}, got {str(body)[:80]}")
    (key, value), = body.items()
    if key == "preset" and (value is None or (isinstance(value, str) and 0 < len(value) <= 64)):
        return PresetCommand(value)
    if key == "session" and value in SESSION_CONTROLS:
        return SessionCommand(value)
    if key == "extend" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if 0 < seconds <= 4 * 3600:
            return ExtendCommand(seconds)
    if key == "music":
        if isinstance(value, str) and value in MUSIC_CONTROLS:
            return MusicCommand(value)
        if isinstance(value, dict) and set(value) == {"volume"} and _number(value["volume"], 0, 100):
            return MusicCommand("volume", float(value["volume"]))
    if key == "lights" and isinstance(value, dict) and set(value) - {"transition"} \
            and set(value) <= {"on", *LIGHT_RANGES} and isinstance(value.get("on", True), bool) \
            and all(_number(v, *LIGHT_RANGES[k]) for k, v in value.items() if k != "on"):
        fields: dict[str, Any] = {k: v if k == "on" else float(v) for k, v in value.items()}
        return LightsCommand(**fields)
    raise CommandError(f"unknown command {str(body)[:80]}")


def _number(value: Any, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
