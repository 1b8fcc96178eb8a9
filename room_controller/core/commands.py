"""Commands that arrive as MQTT payloads on `<base_topic>/<room>/command` (buttons, clinic systems).

Parsing is pure and strict: anything but a known command is a `CommandError`, logged and ignored by the
caller. A parsed command runs on the core loop like any other request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_COMMAND = 4096


class CommandError(ValueError):
    pass


@dataclass(frozen=True)
class PresetCommand:
    name: str | None  # None releases the active preset

    def run(self, room: Any) -> Any:
        if self.name is None:
            return room.release_preset()
        return room.activate_preset(self.name)


def parse_command(payload: bytes) -> PresetCommand:
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
    raise CommandError(f"unknown command {str(body)[:80]}")
