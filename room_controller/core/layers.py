"""What each light should show, built from layers, most specific last, and the lights commanded to it.

The layers: the scene (the phase's, or the room's idle scene once a session has ended), the therapist's
manual adjustments (they hold across phase changes until the therapist chooses to follow the phase again),
an active preset (with any adjustment made while it holds), and over everything a scene previewed from the
profile editor. Releasing a preset drops its layer and every light is commanded to what the layers below
say; where they say nothing, the light goes back to where it was before the preset or, never heard from, to
the idle scene: a release never leaves a light at the preset's level. Runs on the core loop.

Calm's fade for each light is worked out ahead (`prepared`, core/prepared.py): its press takes what is ready.

It is given only what it uses (core/room.py wires it): the room's lights, the room's configuration as it is now
(its lights, presets and idle scene), the core loop (the preview's time limit), the running session and the
presets' sources (each through a callable: the runner and the presets are made after the layers), and the
room's `emit` (journal an event, tell the followers) and `touch` (a new snapshot).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from room_controller.config import LightScene
from room_controller.core.prepared import Prepared
from room_controller.core.presets import EMERGENCY, EmergencyOn
from room_controller.core.sources import PANEL
from room_controller.errors import Conflict, NotFound
from room_controller.lighting.state import LightChange, LightState

if TYPE_CHECKING:
    from room_controller.config import RoomConfig
    from room_controller.core.lights import Light
    from room_controller.core.loop import Loop, Timer
    from room_controller.core.session import Session
    from room_controller.core.sources import Sources

MANUAL_TRANSITION = 1.0   # a slider released: a short, smooth change
RETURN_TRANSITION = 5.0   # back from a preset, or back to following the phase: gently
PREVIEW_LIMIT = 600.0     # a scene previewed from the profile editor ends by itself if the editor goes away


@dataclass
class ActivePreset:
    """A scene held over the layers below it: a preset, or a preview."""
    name: str
    changes: dict[str, LightChange]
    before: dict[str, LightState | None]  # each light's target when the preset began: what release returns to
    adjust: dict[str, LightChange] = field(default_factory=dict)


class Layers:
    def __init__(self, lights: dict[str, Light], *, config: Callable[[], RoomConfig], loop: Loop,
                 session: Callable[[], Session | None], sources: Callable[[], Sources],
                 emit: Callable[..., object], touch: Callable[[], object],
                 burst: Callable[[], AbstractContextManager] = nullcontext) -> None:
        """`config`: the room's configuration as it is now (the preset editor replaces it); `session`: the running
        session, None without one; `sources`: the presets' sources, which name who a refusal was for; `burst`:
        the MQTT link's, so that what many lights are told at once leaves together (MqttLink.burst)."""
        self.lights = lights
        self._config, self._loop, self._session, self._sources = config, loop, session, sources
        self._emit, self._touch, self._burst = emit, touch, burst
        self.scene: dict[str, LightChange] = {}
        self.arrival = False   # the scene is a booked session's arrival scene (core/day.py), before its session
        first = config()
        self.idle = first.idle.changes(first.lights)
        self.manual: dict[str, LightChange] = {}
        self.preset: ActivePreset | None = None
        self.preview: ActivePreset | None = None   # a scene shown from the profile editor, over everything
        self._preview_timer: Timer | None = None
        self.prepared = Prepared(self, loop, config, "calm", never_over=(EMERGENCY,))

    # -- targets -----------------------------------------------------------------------------------------------

    def _target(self, light: Light, base: LightState | None = None) -> LightState | None:
        """The layers over `base` (by default the light's current target)."""
        return self._over(light, (self.scene, self.manual) + ((self.preset.changes, self.preset.adjust)
                                                               if self.preset else ())
                          + ((self.preview.changes,) if self.preview else ()), base)

    def target_under(self, light: Light, preset: dict[str, LightChange]) -> LightState | None:
        """The light's target once `preset`'s changes hold over the scene and the adjustments (as a press sets)."""
        return self._over(light, (self.scene, self.manual, preset))

    def _over(self, light: Light, layers: tuple[dict[str, LightChange], ...],
              base: LightState | None = None) -> LightState | None:
        change = LightChange()
        for layer in layers:
            if light.id in layer:
                change = layer[light.id].merged_over(change)
        base = base or light.target
        if change.empty:
            return base
        return change.apply(base or light.known_state() or self._idle_state(light))

    def _idle_state(self, light: Light) -> LightState:
        """The idle scene's setting for a light (`check` makes sure it names a brightness for each)."""
        return self.idle.get(light.id, LightChange(brightness=0)).apply(LightState(on=False, brightness=0.0))

    def _retarget(self, transition: float, ids: list[str] | None = None, prepared: Prepared | None = None) -> None:
        """Every light (or these) to what the layers say; `prepared`: the held preset's plans, taken where ready."""
        with self._burst():
            for light_id in ids or list(self.lights):
                light = self.lights[light_id]
                plan = prepared.take(light) if prepared is not None else None
                target = plan.target if plan is not None else self._target(light)
                if target is not None and (target != light.target or light.fading):
                    light.fade_to(target, transition, plan.ready if plan is not None else None)
        self._touch()
        self.prepared.soon()

    def _target_without_preset(self, light: Light, before: LightState | None) -> LightState:
        """Where a light goes when a preset lets go of it: never 'unknown, so nothing'. With no session the
        idle scene is the scene, whatever the lights showed before, unless a booking's arrival scene is on."""
        scene = self.scene if self._session() is not None or self.arrival else self.idle
        change = LightChange()
        for layer in (scene, self.manual):
            if light.id in layer:
                change = layer[light.id].merged_over(change)
        base = before or self._idle_state(light)
        return base if change.empty else change.apply(base)

    def _before(self) -> dict[str, LightState | None]:
        """Where each light is heading now: what letting go of a scene held over the layers returns to."""
        return {light.id: light.target or light.known_state() for light in self.lights.values()}

    # -- the scene and the therapist's adjustments -------------------------------------------------------------

    def set_scene(self, changes: dict[str, LightChange], transition: float) -> None:
        """A new phase (or the idle scene after a session): the base layer. The therapist's adjustments stay
        over it until `follow_phase`."""
        self.scene = dict(changes)
        self._retarget(transition)

    def follow_phase(self, ids: list[str] | None = None) -> dict:
        """Drop the therapist's adjustments (of these lights, or all): back to the scene, gently."""
        self._known(ids)
        adjusted = sorted(set(self.manual) & set(ids or self.manual))
        for light_id in adjusted:
            del self.manual[light_id]
        if adjusted:
            self._retarget(RETURN_TRANSITION, adjusted)
        self._emit("follow_phase", lights=adjusted)
        return {"follow_phase": True, "lights": adjusted}

    def adjust_lights(self, ids: list[str] | None, change: LightChange, transition: float | None,
                      source: str = PANEL) -> dict:
        """The therapist's change. It holds across phases; one made under a preset ends with the preset, or when
        the preset is pressed again. From an automated `source` (the command topic, a button) it is refused while
        the emergency light is on: an automation must not dim full light someone needs. The panel's sliders (a
        person in the room: a paramedic asking for less glare) still act."""
        self._known(ids)
        if source != PANEL and self.preset is not None and self.preset.name == EMERGENCY:
            sources = self._sources()
            self._emit("lights_refused", change={k: v for k, v in vars(change).items() if v is not None},
                           source=source, via=sources.kind(source), reason=EMERGENCY)
            label = self._config().presets[EMERGENCY].label or EMERGENCY
            raise EmergencyOn(f"{label} is on: only the panel changes the lights until it is released")
        targets = ids or list(self.lights)
        layer = self.preset.adjust if self.preset else self.manual
        for light_id in targets:
            layer[light_id] = change.merged_over(layer.get(light_id, LightChange()))
        self._retarget(MANUAL_TRANSITION if transition is None else transition, targets)
        self._emit("manual_change", lights=targets,
                       change={k: v for k, v in vars(change).items() if v is not None},
                       during_preset=self.preset.name if self.preset else None)
        return {"lights": targets}

    def _known(self, ids: list[str] | None) -> None:
        for light_id in ids or []:
            if light_id not in self.lights:
                raise NotFound(f"there is no light {light_id!r}; lights: {', '.join(self.lights)}")

    # -- the preset layer --------------------------------------------------------------------------------------

    def hold_preset(self, name: str, scene: LightScene) -> ActivePreset | None:
        """The preset's scene over the layers; a preset it replaces is let go. Returns the replaced one."""
        previous = self.preset
        before = previous.before if previous else self._before()
        prepared = self.prepared if name == self.prepared.name and self.preview is None else None
        changes = prepared.changes_for(scene) if prepared is not None else None
        self.preset = ActivePreset(name, scene.changes(self._config().lights) if changes is None else dict(changes),
                                   before)
        with self._burst():
            if previous:  # lights the new preset leaves alone go back to where they were before any preset
                for light_id in set(previous.changes) - set(self.preset.changes):
                    self.lights[light_id].fade_to(
                        self._target_without_preset(self.lights[light_id], before[light_id]), scene.transition)
            self._retarget(scene.transition, list(self.preset.changes), prepared if changes is not None else None)
        return previous

    def reapply_preset(self) -> list[str]:
        """The active preset's own setting again, without the adjustments made under it: the lights that had any."""
        assert self.preset is not None
        adjusted, self.preset.adjust = sorted(self.preset.adjust), {}
        if adjusted:
            self._retarget(MANUAL_TRANSITION, adjusted)
        return adjusted

    def drop_preset(self) -> ActivePreset:
        """Let go of the active preset: every light to what the layers below say, gently."""
        assert self.preset is not None
        dropped, self.preset = self.preset, None
        with self._burst():
            for light in self.lights.values():
                light.fade_to(self._target_without_preset(light, dropped.before[light.id]), RETURN_TRANSITION)
        return dropped

    # -- a scene previewed from the profile editor -------------------------------------------------------------

    def preview_scene(self, scene: LightScene) -> dict:
        """Show a scene being edited until the editor ends it (or PREVIEW_LIMIT passes without a new one)."""
        if self._session() is not None:
            raise Conflict("a session is running in this room: preview scenes when the room is free")
        if self.preset is not None:
            raise Conflict(f"the preset {self.preset.name!r} holds the room: release it to preview a scene")
        before = self.preview.before if self.preview else self._before()
        self.preview = ActivePreset("preview", scene.changes(self._config().lights), before)
        self._retarget(scene.transition, list(self.preview.changes))
        if self._preview_timer:
            self._preview_timer.cancel()
        self._preview_timer = self._loop.call_later(PREVIEW_LIMIT, self.end_preview)
        self._emit("preview_on", lights=sorted(self.preview.changes))
        return {"preview": True}

    def end_preview(self) -> dict:
        if self.preview is not None:
            before, self.preview = self.preview.before, None
            assert self._preview_timer is not None   # started with the preview
            self._preview_timer.cancel()
            with self._burst():
                for light in self.lights.values():
                    target = self._target(light, before[light.id])
                    if target is not None:
                        light.fade_to(target, MANUAL_TRANSITION)
            self._emit("preview_off")
        return {"preview": False}
