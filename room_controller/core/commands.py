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

from room_controller.units import parse_duration

MAX_COMMAND = 4096


class CommandError(ValueError):
    pass


@dataclass(frozen=True)
class PresetCommand:
    name: str | None  # None releases the active preset
    kind = "preset"

    def run(self, room: Any) -> Any:
        if self.name is None:
            return room.release_preset()
        return room.activate_preset(self.name)


SESSION_CONTROLS = ("pause", "resume", "next", "previous", "stop")


@dataclass(frozen=True)
class SessionCommand:
    control: str

    @property
    def kind(self) -> str:
        return {"resume": "pause", "previous": "next"}.get(self.control, self.control)

    def run(self, room: Any) -> Any:
        return getattr(room.session, self.control)()


@dataclass(frozen=True)
class ExtendCommand:
    seconds: float
    kind = "extend"

    def run(self, room: Any) -> Any:
        return room.session.extend(self.seconds)


Command = PresetCommand | SessionCommand | ExtendCommand


def parse_command(payload: bytes) -> Command:
    """`{"preset": "calm"}`, `{"preset": null}`, `{"session": "pause"}` (resume, next, previous, stop),
    `{"extend": "15m"}`."""
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
    raise CommandError(f"unknown command {str(body)[:80]}")
