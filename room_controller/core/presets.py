"""Presets (calm, emergency, ...): pressed from the panel, a button or the command topic, and released.

A preset holds the lights (the preset layer, core/layers.py) and, if it names music, the music, until it is
released or another preset replaces it. Pressing the active preset again keeps it, and brings back its own
setting where the therapist changed a light meanwhile: a second tap on calm is still calm, never a toggle.

The emergency light holds until it is released: while it is on, no other preset (calm included, from any
source) changes the room, and a second press of emergency keeps it. Someone who needs full light (a fall, a
medical emergency, paramedics in the room) must not lose it to a stray tap on Calm beside it
(docs/safety.md). Automated sources (the command topic, buttons) are further checked by core/sources.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from room_controller.config import LightScene, Preset
from room_controller.core.sources import PANEL, RECOVERY, Sources
from room_controller.errors import Conflict, NotFound

if TYPE_CHECKING:
    from room_controller.core.room import Room

EMERGENCY = "emergency"
CALM = "calm"
# What an automated source may always ask for, even moments after a press on the panel: the room made calm, or
# full light for someone who needs it. Held back, a bedside button's calm would be refused for a minute after
# the therapist released calm on the panel, just when a client may need it again.
SAFE = (CALM, EMERGENCY)


class EmergencyOn(Conflict):
    """A preset other than emergency asked for while the emergency light holds (HTTP 409, code emergency_on)."""

    code = "emergency_on"


class Presets:
    def __init__(self, room: Room) -> None:
        self.room = room
        self.sources = Sources(room)

    def activate(self, name: str, source: str = PANEL) -> dict:
        room, layers = self.room, self.room.layers
        preset = room.config.presets.get(name)
        if preset is None:
            raise NotFound(f"there is no preset {name!r}; presets: {', '.join(room.config.presets)}")
        active = layers.preset
        if active is not None and active.name == EMERGENCY and name != EMERGENCY:
            label = room.config.presets[EMERGENCY].label or EMERGENCY
            room.emit("preset_refused", preset=name, source=source, via=self.sources.kind(source), reason=EMERGENCY)
            raise EmergencyOn(f"{label} is on: release it first (Release {label.lower()}), then press {name}")
        if source == PANEL:
            self.sources.panel_pressed()
        if active is not None and active.name == name:   # a second tap on calm keeps calm, emergency emergency
            adjusted = layers.reapply_preset()   # and brings back the preset's own setting if it was changed meanwhile
            if adjusted:
                room.emit("preset_reapplied", preset=name, lights=adjusted)
            return {"preset": name}
        layers.end_preview()   # calm always wins over a scene being tried out
        previous = layers.hold_preset(name, preset.lights or LightScene())
        if room.music is not None and preset.music is not None:
            room.music.hold(preset.music, reason=f"preset {name}")
        room.emit("preset_on", preset=name, replaced=previous.name if previous else None)
        return {"preset": name}

    def restore(self, name: str) -> dict:
        """The preset that stood before a restart, put back by the room itself: nobody's press."""
        return self.activate(name, RECOVERY)

    def release(self, source: str = PANEL) -> dict:
        """The only way out of a preset, emergency included."""
        room = self.room
        if room.layers.preset is None:
            raise Conflict("no preset is active")
        if source == PANEL:
            self.sources.panel_pressed()
        name = room.layers.drop_preset().name
        if room.music is not None:
            room.music.release(reason=f"preset {name} released")
        room.emit("preset_off", preset=name)
        return {"preset": None}

    def command(self, name: str | None, source: str) -> dict | None:
        """A preset command from an automated source (`source`: the command topic or a button's topic), or a
        release (`name` None). None: ignored, its source is held off for flipping presets (core/sources.py)."""
        room, sources = self.room, self.sources
        if name != EMERGENCY and sources.ignored(source):   # full light for someone who needs it is never held
            return None
        if name is not None and name not in room.config.presets:
            raise NotFound(f"there is no preset {name!r}; presets: {', '.join(room.config.presets)}")
        active = room.layers.preset.name if room.layers.preset else None
        if name != active and (name is not None or active is not None):   # a change, asked for
            if not sources.ask(source):
                return None
            if sources.panel_holds() and name not in SAFE and (name is None or active != EMERGENCY):
                room.emit("preset_refused", preset=name, source=source, via=sources.kind(source), reason=PANEL)
                raise Conflict(f"the panel chose {active or 'no preset'} moments ago: it holds against "
                               f"{sources.label(source)} for now")
        return self.activate(name, source) if name is not None else self.release(source)

    def replace(self, presets: dict[str, Preset], changed: str, deleted: bool = False) -> None:
        """The preset editor saved: the next activation uses the new definitions, and Home Assistant's select
        the new names. An active preset holds on as it began (its changes were worked out then) until
        released, so an edit never changes the room under the therapist."""
        room = self.room
        room.reconfigure(room.config.model_copy(update={"presets": presets}))
        room.layers.prepared.soon()   # calm made ahead follows its new definition
        room.emit("preset_deleted" if deleted else "preset_saved", preset=changed)
