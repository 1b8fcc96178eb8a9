"""Calm worked out ahead, so that a press mostly publishes.

Calm's target for each light is known from the room's file; what the light needs to get there (its fade from
where it is, its commands in its device's words) depends only on the light's state and the layers under the
preset. So each light keeps a plan for calm, made on the core loop whenever the light or the layers change
(at once, or GAP after the last time; a few lights per piece of work, so an urgent press waits for one piece
only; not while calm, or a preset calm cannot replace, holds the room or a scene is previewed), and the press
takes the plan of every light whose inputs are still those the plan was made from: its target, its fade and
its first commands, with nothing to compute but the comparison. A light whose inputs changed since (a report,
a step of a fade, a slider, a new scene) is worked out at the press as before, and so is every light when a
preview or another preset would change what calm means (docs/calm-lane.md, "Calm made ahead").

Where the inputs are equal the outputs are: the target is the layers' own function of them, and the fade and
the commands are compared once more by `Light.fade_to` against where the light is at the press. The safety
rules (toggles, the flash budget) judge each command as it goes out, as for any other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from room_controller.core.lights import Ready
from room_controller.errors import Busy

if TYPE_CHECKING:
    from room_controller.config import LightScene, RoomConfig
    from room_controller.core.layers import Layers
    from room_controller.core.lights import Light
    from room_controller.core.loop import Loop, Timer
    from room_controller.lighting.state import LightChange, LightState

GAP = 0.1     # seconds: plans are brought up to date at most this often (reports and fades change lights often)
CHUNK = 16    # lights planned in one piece of work on the core loop (about 2 ms on a busy Xeon)


@dataclass(frozen=True)
class Plan:
    """One light's calm, and what it was worked out from."""
    key: tuple
    target: LightState | None
    ready: Ready | None   # None: the light was where calm wants it, and still


class Prepared:
    """The plans of one preset (calm) for every light it sets, kept up to date on the core loop."""

    def __init__(self, layers: Layers, loop: Loop, config: Callable[[], RoomConfig], name: str,
                 never_over: tuple[str, ...]) -> None:
        """`config`: the room's configuration as it is now (the preset editor replaces it); `never_over`: presets
        the press of `name` cannot replace (emergency), so nothing is planned under them."""
        self.layers, self.loop, self.config, self.name, self.never_over = layers, loop, config, name, never_over
        self.scene: LightScene | None = None   # the preset's scene the plans are for
        self._lights_config: object = None     # and the room's lights it was spread over
        self.changes: dict[str, LightChange] = {}
        self.plans: dict[str, Plan] = {}
        self._timer: Timer | None = None
        self._working = self._again = False
        self._last = -math.inf
        self.taken = self.missed = 0   # lights a press took the plan of, and those it worked out itself
        for light in layers.lights.values():
            light.changed = self.soon
        self.soon()   # the first plans, once the loop runs

    # -- the press ---------------------------------------------------------------------------------------------

    def changes_for(self, scene: LightScene) -> dict[str, LightChange] | None:
        """The scene's change per light, if the plans are for this very scene over today's lights."""
        if scene is self.scene and self.config().lights is self._lights_config:
            return self.changes
        return None

    def take(self, light: Light) -> Plan | None:
        """The light's plan, if what it was made from is what the press would work from."""
        plan = self.plans.get(light.id)
        if plan is not None and plan.key == self._key(light):
            self.taken += 1
            return plan
        self.missed += 1
        return None

    def _key(self, light: Light) -> tuple:
        """Everything the light's target under the preset is worked out from (Layers._target)."""
        layers = self.layers
        return (layers.scene.get(light.id), layers.manual.get(light.id), light.target, light.reported,
                light.commanded, light.device.profile)

    # -- keeping the plans -------------------------------------------------------------------------------------

    def soon(self) -> None:
        """Something changed: bring the plans up to date after the work at hand, GAP after the last time."""
        if self._working:
            self._again = True
        elif self._timer is None and self._wanted():
            self._timer = self.loop.call_at(max(self.loop.clock.monotonic(), self._last + GAP), self._start)

    def _wanted(self) -> bool:
        """Could the preset be pressed over the layers as they are? Not while it, or a preset it cannot
        replace, holds the room, nor during a preview (the press then changes more than its lights)."""
        layers = self.layers
        held = layers.preset.name if layers.preset is not None else None
        return layers.preview is None and held != self.name and held not in self.never_over

    def _start(self) -> None:
        self._timer, self._last = None, self.loop.clock.monotonic()
        self._working, self._again = True, False
        self._plan(self._stale())

    def _stale(self) -> list[Light]:
        """The lights whose plan is missing or out of date (none when the preset is not wanted)."""
        layers, config = self.layers, self.config()
        preset = config.presets.get(self.name)
        scene = preset.lights if preset is not None else None
        if scene is None:
            self.scene, self.changes, self.plans = None, {}, {}
            return []
        if scene is not self.scene or config.lights is not self._lights_config:
            self.scene, self._lights_config = scene, config.lights
            self.changes, self.plans = scene.changes(config.lights), {}
        if not self._wanted():
            return []
        stale = []
        for light_id in self.changes:
            light = layers.lights[light_id]
            if light.fading and _steps_on_its_own(light):
                continue
            plan = self.plans.get(light_id)
            if plan is None or plan.key != self._key(light):
                stale.append(light)
        return stale

    def _plan(self, lights: list[Light]) -> None:
        """Plan a CHUNK of `lights`, the rest as the next piece of ordinary work (urgent work goes first)."""
        try:
            scene = self.scene
            for light in lights[:CHUNK]:
                if scene is None:   # calm was deleted meanwhile
                    break
                key = self._key(light)
                target = self.layers.target_under(light, self.changes)
                moves = target is not None and (target != light.target or light.fading)
                ready = light.prepare(target, scene.transition) if target is not None and moves else None
                self.plans[light.id] = Plan(key, target, ready)
        finally:
            self._go_on(lights[CHUNK:])

    def _go_on(self, rest: list[Light]) -> None:
        if rest:
            try:
                self.loop.submit(self._plan, rest)
                return
            except Busy:   # the room is flooded: try again later
                self._again = True
        self._working = False
        if self._again:
            self.soon()


def _steps_on_its_own(light: Light) -> bool:
    """A light whose fade is steps the room sends (no native fade, or one property at a time): while it fades,
    its first step at a press depends on the moment, so it is planned when its fade ends."""
    profile = light.device.profile
    return profile.capabilities.transition is None or profile.quirks.fade_one_property
