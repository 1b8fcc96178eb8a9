"""Presets (calm, emergency, ...): pressed from the panel, a button or the command topic, and released.

A preset holds the lights (the preset layer, core/layers.py) and, if it names music, the music, until it is
released or another preset replaces it. Pressing the active preset again keeps it, and brings back its own
setting where the therapist changed a light meanwhile: a second tap on calm is still calm, never a toggle.

The emergency light holds until it is released: while it is on, no other preset (calm included, from any
source) changes the room, and a second press of emergency keeps it. Someone who needs full light (a fall, a
medical emergency, paramedics in the room) must not lose it to a stray tap on Calm beside it
(docs/safety.md). Automated sources (the command topic, buttons) are further checked by core/sources.py.

It is given only what it uses (core/room.py wires it): the room's configuration as it is now (its presets), the
layers that hold a preset's lights, the music (None: a room without audio), the sources that may press (who may
change the preset), the room's `emit` (journal an event, tell the followers) and `reconfigure` (the preset
editor's new definitions, for Home Assistant's entities too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from room_controller.config import LightScene, Preset
from room_controller.core.sources import PANEL, RECOVERY
from room_controller.errors import Conflict, NotFound

if TYPE_CHECKING:
    from room_controller.audio.music import Music
    from room_controller.config import RoomConfig
    from room_controller.core.layers import Layers
    from room_controller.core.sources import Sources

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
    def __init__(self, *, config: Callable[[], RoomConfig], layers: Layers, music: Music | None, sources: Sources,
                 emit: Callable[..., object], reconfigure: Callable[[RoomConfig], object]) -> None:
        self._config, self.layers, self.music, self.sources = config, layers, music, sources
        self.emit, self.reconfigure = emit, reconfigure

    def activate(self, name: str, source: str = PANEL) -> dict:
        layers, presets = self.layers, self._config().presets
        preset = presets.get(name)
        if preset is None:
            raise NotFound(f"there is no preset {name!r}; presets: {', '.join(presets)}")
        active = layers.preset
        if active is not None and active.name == EMERGENCY and name != EMERGENCY:
            label = presets[EMERGENCY].label or EMERGENCY
            self.emit("preset_refused", preset=name, source=source, via=self.sources.kind(source), reason=EMERGENCY)
            raise EmergencyOn(f"{label} is on: release it first (Release {label.lower()}), then press {name}")
        if source == PANEL:
            self.sources.panel_pressed()
        if active is not None and active.name == name:   # a second tap on calm keeps calm, emergency emergency
            adjusted = layers.reapply_preset()   # and brings back the preset's own setting if it was changed meanwhile
            if adjusted:
                self.emit("preset_reapplied", preset=name, lights=adjusted)
            return {"preset": name}
        layers.end_preview()   # calm always wins over a scene being tried out
        previous = layers.hold_preset(name, preset.lights or LightScene())
        if self.music is not None and preset.music is not None:
            self.music.hold(preset.music, reason=f"preset {name}")
        self.emit("preset_on", preset=name, replaced=previous.name if previous else None)
        return {"preset": name}

    def restore(self, name: str) -> dict:
        """The preset that stood before a restart, put back by the room itself: nobody's press."""
        return self.activate(name, RECOVERY)

    def release(self, source: str = PANEL) -> dict:
        """The only way out of a preset, emergency included."""
        if self.layers.preset is None:
            raise Conflict("no preset is active")
        if source == PANEL:
            self.sources.panel_pressed()
        name = self.layers.drop_preset().name
        if self.music is not None:
            self.music.release(reason=f"preset {name} released")
        self.emit("preset_off", preset=name)
        return {"preset": None}

    def command(self, name: str | None, source: str) -> dict | None:
        """A preset command from an automated source (`source`: the command topic or a button's topic), or a
        release (`name` None). None: ignored, its source is held off for flipping presets (core/sources.py)."""
        sources, presets = self.sources, self._config().presets
        if name != EMERGENCY and sources.ignored(source):   # full light for someone who needs it is never held
            return None
        if name is not None and name not in presets:
            raise NotFound(f"there is no preset {name!r}; presets: {', '.join(presets)}")
        active = self.layers.preset.name if self.layers.preset else None
        if name != active and (name is not None or active is not None):   # a change, asked for
            if not sources.ask(source):
                return None
            if sources.panel_holds() and name not in SAFE and (name is None or active != EMERGENCY):
                self.emit("preset_refused", preset=name, source=source, via=sources.kind(source), reason=PANEL)
                raise Conflict(f"the panel chose {active or 'no preset'} moments ago: it holds against "
                               f"{sources.label(source)} for now")
        return self.activate(name, source) if name is not None else self.release(source)

    def replace(self, presets: dict[str, Preset], changed: str, deleted: bool = False) -> None:
        """The preset editor saved: the next activation uses the new definitions, and Home Assistant's select
        the new names. An active preset holds on as it began (its changes were worked out then) until
        released, so an edit never changes the room under the therapist."""
        self.reconfigure(self._config().model_copy(update={"presets": presets}))
        self.layers.prepared.soon()   # calm made ahead follows its new definition
        self.emit("preset_deleted" if deleted else "preset_saved", preset=changed)
