"""The HTTP API as data: each route's method, path, body model and handler.

Handlers are plain functions of the room and the validated request; they know nothing of Flask, so the
same table drives the Flask app (webapp.http) and the OpenAPI description (webapp.openapi). Every change
goes through `room.loop.call`, i.e. it runs on the core thread that owns the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import Field, model_validator

from room_controller.core.room import Room
from room_controller.fields import Colour, Duration, Kelvin, Percent
from room_controller.lighting.state import LightChange
from room_controller.yamlfile import Model


class Body(Model):
    """Request bodies: like the config models, an unknown key is refused with a suggestion."""


class LightsPatch(Body):
    on: bool | None = None
    brightness: Percent | None = None
    kelvin: Kelvin | None = None
    color: Colour | None = Field(None, description="#RRGGBB")
    transition: Duration | None = Field(None, le=7200, description="fade length, e.g. 5s or 10m (at most 2h)")

    @model_validator(mode="after")
    def _something(self) -> "LightsPatch":
        if self.on is None and self.brightness is None and self.kelvin is None and self.color is None:
            raise ValueError("give at least one of on, brightness, kelvin, color")
        if self.kelvin is not None and self.color is not None:
            raise ValueError("give kelvin (a white) or color, not both")
        return self

    def change(self) -> LightChange:
        return LightChange(on=self.on, brightness=self.brightness, kelvin=self.kelvin, rgb=self.color)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[..., Any]
    summary: str
    body: type[Body] | None = None
    auth: bool = True
    status: int = 200


def health(room: Room) -> dict:
    snap = room.snapshot()
    audio = snap.get("audio", {}).get("health", "ok")
    mqtt = "connected" if room.mqtt_connected else "disconnected"
    return {"status": "ok" if mqtt == "connected" and audio == "ok" else "degraded", "mqtt": mqtt,
            "audio": audio, "problems": snap.get("problems", [])}


def state(room: Room) -> bytes:
    return room.snapshot_json()


def activate_preset(room: Room, name: str) -> dict:
    return room.loop.call(room.activate_preset, name)


def release_preset(room: Room) -> dict:
    return room.loop.call(room.release_preset)


def patch_lights(room: Room, body: LightsPatch) -> dict:
    return room.loop.call(room.adjust_lights, None, body.change(), body.transition)


def patch_light(room: Room, body: LightsPatch, light_id: str) -> dict:
    return room.loop.call(room.adjust_lights, [light_id], body.change(), body.transition)


ROUTES: list[Route] = [
    Route("GET", "/api/health", health, "Is the room working: MQTT and audio", auth=False),
    Route("GET", "/api/state", state, "The whole room: session, preset, lights, audio"),
    Route("POST", "/api/presets/<name>", activate_preset, "Activate a preset at once (calm, emergency, ...)"),
    Route("DELETE", "/api/presets/active", release_preset, "Release the preset: back to the phase's setting"),
    Route("PATCH", "/api/lights", patch_lights, "Adjust every light", body=LightsPatch),
    Route("PATCH", "/api/lights/<light_id>", patch_light, "Adjust one light", body=LightsPatch),
]
