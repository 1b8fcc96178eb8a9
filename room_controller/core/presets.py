"""Presets (calm, emergency, ...): pressed from the panel, a button or the command topic, and released.

A preset holds the lights (the preset layer, core/layers.py) and, if it names music, the music, until it is
released or another preset replaces it. Pressing the active preset again keeps it, and brings back its own
setting where the therapist changed a light meanwhile: a second tap on calm is still calm, never a toggle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from room_controller.config import LightScene, Preset
from room_controller.core.errors import Conflict, NotFound

if TYPE_CHECKING:
    from room_controller.core.room import Room


class Presets:
    def __init__(self, room: Room) -> None:
        self.room = room

    def activate(self, name: str) -> dict:
        room, layers = self.room, self.room.layers
        preset = room.config.presets.get(name)
        if preset is None:
            raise NotFound(f"there is no preset {name!r}; presets: {', '.join(room.config.presets)}")
        if layers.preset is not None and layers.preset.name == name:   # a second tap on calm keeps calm
            adjusted = layers.reapply_preset()   # and brings back calm's own setting if it was changed meanwhile
            if adjusted:
                room.emit("preset_reapplied", preset=name, lights=adjusted)
            return {"preset": name}
        layers.end_preview()   # calm always wins over a scene being tried out
        previous = layers.hold_preset(name, preset.lights or LightScene())
        if room.music is not None and preset.music is not None:
            room.music.hold(preset.music, reason=f"preset {name}")
        room.emit("preset_on", preset=name, replaced=previous.name if previous else None)
        return {"preset": name}

    def release(self) -> dict:
        room = self.room
        if room.layers.preset is None:
            raise Conflict("no preset is active")
        name = room.layers.drop_preset().name
        if room.music is not None:
            room.music.release(reason=f"preset {name} released")
        room.emit("preset_off", preset=name)
        return {"preset": None}

    def replace(self, presets: dict[str, Preset], changed: str, deleted: bool = False) -> None:
        """The preset editor saved: the next activation uses the new definitions, and Home Assistant's select
        the new names. An active preset holds on as it began (its changes were worked out then) until
        released, so an edit never changes the room under the therapist."""
        room = self.room
        room.reconfigure(room.config.model_copy(update={"presets": presets}))
        room.emit("preset_deleted" if deleted else "preset_saved", preset=changed)
