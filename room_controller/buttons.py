"""Physical buttons: an MQTT message (a Zigbee2MQTT remote's `{"action": "single"}`, a Tasmota button's
`{"Button1": {"Action": "SINGLE"}}`) mapped to a preset or a session control, so a bedside or wall button
calms the room without the tablet.

A mapping names the topic, what the message must hold (`match`, dotted keys reach into nested objects; an
empty match takes every message) and what to do, written like a payload of the room's command topic.
Matching is pure. A message that does not match is no press (a remote also reports its battery); one that
is not JSON where a match needs JSON is a bad payload, logged and ignored by the core.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from room_controller.commands import SESSION_CONTROLS, Command, CommandError, parse_command
from room_controller.files.yamlfile import Model

Scalar = str | int | float | bool | None


class ButtonMapping(Model):
    topic: str = Field(min_length=1, pattern=r"^[^#+]+$", description="the button's own topic (no wildcards)")
    match: dict[str, Scalar] = Field(default_factory=dict, description='e.g. {action: single}')
    do: dict[str, Any] = Field(description="a command: {preset: calm}, {preset: null}, {session: pause}, "
                                           "{extend: 15m}")

    @field_validator("do")
    @classmethod
    def _a_command(cls, do: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_command(json.dumps(do).encode())
        except CommandError as exc:
            raise ValueError(f"{exc}; give one of {{preset: NAME}}, {{preset: null}}, "
                             f"{{session: {'|'.join(SESSION_CONTROLS)}}}, {{extend: 15m}}, {{music: play|pause|next}}, "
                             "{lights: {...}}") from None
        return do

    @property
    def command(self) -> Command:
        return parse_command(json.dumps(self.do).encode())

    def matches(self, body: Any) -> bool:
        return all(_lookup(body, key) == value for key, value in self.match.items())


_MISSING = object()


def _lookup(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict) or part not in body:
            return _MISSING
        body = body[part]
    return body


def pressed(mappings: list[ButtonMapping], topic: str, payload: bytes) -> list[Command]:
    """The commands a message on `topic` triggers (none for a message that is not a press)."""
    candidates = [m for m in mappings if m.topic == topic]
    if not candidates:
        return []
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        if any(m.match for m in candidates):
            raise CommandError(f"a button message that is not JSON: {payload[:80]!r}") from None
        body = None   # a plain payload: only a mapping with no `match` takes it
    return [m.command for m in candidates if m.matches(body)]
