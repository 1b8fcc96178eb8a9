"""The room core: the only writer of the room's state.

What each light should show is built from layers, most specific last: the scene (the phase's, or the
room's idle scene once a session has ended), the therapist's manual adjustments (they hold across phase
changes until the therapist chooses to follow the phase again), and an active preset (with any adjustment
made while it holds). Releasing a preset drops its layer and every light is commanded to what the layers
below say; where they say nothing, the light goes back to where it was before the preset or, never heard
from, to the idle scene: a release never leaves a light at the preset's level. Everything here runs on the
core loop; other threads use the thread-safe methods at the bottom, which submit work and wait for it.

Every change is journaled as it happens (`emit`); live panels and the retained MQTT state follow the
snapshot published after each batch of work.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from room_controller.config import LightScene, Preset, RoomConfig
from room_controller.core.errors import Conflict, NotFound
from room_controller.core.inbox import Inbox
from room_controller.core.intake import Intake
from room_controller.core.lights import Light
from room_controller.core.loop import Loop, Timer
from room_controller.integrations.homeassistant import Discovery, reminder_event, state_extras
from room_controller.journal.store import Journal, JournalError
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import LightChange, LightState, MqttMessage
from room_controller.session.profiles import SessionProfile
from room_controller.session.runner import SessionRunner
from room_controller.vitals.desk import Desk as VitalsDesk

if TYPE_CHECKING:
    from room_controller.infrastructure.housekeeping import Housekeeping

log = logging.getLogger(__name__)

MANUAL_TRANSITION = 1.0   # a slider released: a short, smooth change
RETURN_TRANSITION = 5.0   # back from a preset, or back to following the phase: gently
PREVIEW_LIMIT = 600.0     # a scene previewed from the profile editor ends by itself if the editor goes away


@dataclass
class ActivePreset:
    name: str
    changes: dict[str, LightChange]
    before: dict[str, LightState | None]  # each light's target when the preset began: what release returns to
    adjust: dict[str, LightChange] = field(default_factory=dict)


class Room:
    def __init__(self, config: RoomConfig, catalogue: Catalogue, loop: Loop,
                 publish: Callable[[MqttMessage], bool], journal: Journal,
                 profiles: dict[str, SessionProfile], *, music: Any = None, config_file: Path | None = None) -> None:
        self.config = config
        self.config_file = config_file   # where the preset editor saves; None: presets cannot be edited
        self.loop = loop
        self.clock = loop.clock
        self._publish = publish
        self.music = music
        client_id = f"{config.mqtt.base_topic}-{config.room.id}".replace("/", "-")
        self.lights: dict[str, Light] = {}
        for lc in config.lights:
            device = Device(lc.id, lc.device, catalogue.resolve(lc.profile, lc.capabilities, lc.quirks), client_id)
            self.lights[lc.id] = Light(device, loop, publish, max_rate=config.lighting.max_rate,
                                       min_toggle_interval=config.lighting.min_toggle_interval)
        self.light_configs = {lc.id: lc for lc in config.lights}
        self.state_topic = f"{config.topic_prefix}/state"
        self.scene: dict[str, LightChange] = {}
        self.idle = config.idle.changes(config.lights)
        self.manual: dict[str, LightChange] = {}
        self.preset: ActivePreset | None = None
        self.preview: ActivePreset | None = None   # a scene shown from the profile editor, over everything
        self._preview_timer: Timer | None = None
        self.mqtt_connected = False
        self.problems: dict[str, str] = {}
        self.housekeeping: Housekeeping | None = None   # set by app.App: the nightly jobs, listed in /api/health
        self._dirty = True
        self._fading = False
        self._snapshot: dict = {}
        self._published_state = ""
        self.version = 0
        self._json, self._json_version = b"{}", -1
        self.changed = threading.Condition()
        self.intake = Intake(loop)   # the gate to the core for MQTT messages and the HTTP API's presets
        self.inbox = Inbox(self)
        self.journal = journal
        if journal.problem:
            self.problems["journal"] = journal.problem
        self.session = SessionRunner(self, journal, profiles)
        self.vitals = VitalsDesk(self)   # health data: in the snapshot (behind auth), never in _publish_state
        self.discovery = Discovery(config)

    # -- events and snapshots (core loop) --------------------------------------------------------------------

    def emit(self, kind: str, **data: Any) -> bool:
        """Journal a change, before the request that made it is answered; a journal that cannot be
        written is a problem shown in `health`, never a reason to refuse the change. True if journaled."""
        log.info("%s %s", kind, json.dumps(data, default=str) if data else "")
        if kind == "reminder_shown" and self.mqtt_connected:   # for Home Assistant's reminder event
            self._publish(reminder_event(self.config, data))
        info = self.session.session_info()
        try:
            self.journal.append(kind, data, wall=self.clock.wall(), mono=self.clock.monotonic(),
                                session_id=info[0] if info else None, session_s=info[1] if info else None)
            if self.journal.problem is None:
                self.problems.pop("journal", None)
        except JournalError:
            self.problems["journal"] = self.journal.problem or "the journal cannot be written"
            self._dirty = True
            return False
        self._dirty = True
        return True

    def touch(self) -> None:
        self._dirty = True

    def after_batch(self) -> None:
        """Called by the loop after each batch of work: publish one new snapshot if anything changed."""
        fading = any(light.fading for light in self.lights.values())
        if fading or self._fading:   # the batch that ends the last fade publishes that it ended
            self._dirty = True
        self._fading = fading
        if not self._dirty:
            return
        self._dirty = False
        snapshot = self._build_snapshot()
        with self.changed:
            self._snapshot = snapshot
            self.version += 1
            self.changed.notify_all()
        self._publish_state(snapshot)

    def _build_snapshot(self) -> dict:
        music = self.music.snapshot() if self.music else {"playing": False, "track": None, "volume": 0}
        return {
            "room": {"id": self.config.room.id, "name": self.config.room.name, "language": self.config.room.language},
            "session": self.session.snapshot(),
            "preset": self.preset.name if self.preset else None,
            "follow_phase": {"lights": not self.manual, "volume": music.get("volume_source", "phase") == "phase"},
            "presets": [{"name": name, "label": p.label or name} for name, p in self.config.presets.items()],
            "lights": [dict(light.as_dict(), name=self.light_configs[light.id].label,
                            groups=self.light_configs[light.id].groups) for light in self.lights.values()],
            "audio": music,
            "mqtt": "connected" if self.mqtt_connected else "disconnected",
            "problems": sorted(self.problems.values()),
            "problem_keys": sorted(self.problems, key=lambda key: self.problems[key]),   # `problems`' keys, in its order
            "vitals": self.vitals.snapshot(),
        }

    def _publish_state(self, snapshot: dict) -> None:
        summary = json.dumps({
            "room": snapshot["room"], "session": snapshot["session"], "preset": snapshot["preset"],
            "problems": snapshot["problems"],
            "lights_offline": [light["id"] for light in snapshot["lights"] if light["online"] is False],
            **state_extras(snapshot),   # the music and the room's light, for Home Assistant's entities
        }, separators=(",", ":"))
        if summary != self._published_state and self.mqtt_connected:
            for message in self.discovery.follow(snapshot["session"]):   # the phase sensor's options first
                self._publish(message)
            if self._publish(MqttMessage(self.state_topic, summary, qos=1, retain=True)):
                self._published_state = summary

    # -- layers ----------------------------------------------------------------------------------------------

    def _target(self, light: Light, base: LightState | None = None) -> LightState | None:
        """The layers over `base` (by default the light's current target)."""
        change = LightChange()
        for layer in (self.scene, self.manual) + ((self.preset.changes, self.preset.adjust) if self.preset else ()) \
                + ((self.preview.changes,) if self.preview else ()):
            if light.id in layer:
                change = layer[light.id].merged_over(change)
        base = base or light.target
        if change.empty:
            return base
        return change.apply(base or light.known_state() or self._idle_state(light))

    def _idle_state(self, light: Light) -> LightState:
        """The idle scene's setting for a light (`check` makes sure it names a brightness for each)."""
        return self.idle.get(light.id, LightChange(brightness=0)).apply(LightState(on=False, brightness=0.0))

    def _retarget(self, transition: float, ids: list[str] | None = None) -> None:
        for light_id in ids or list(self.lights):
            light = self.lights[light_id]
            target = self._target(light)
            if target is not None and (target != light.target or light.fading):
                light.fade_to(target, transition)
        self._dirty = True

    def _target_without_preset(self, light: Light, before: LightState | None) -> LightState:
        """Where a light goes when a preset lets go of it: never 'unknown, so nothing'. With no session the
        idle scene is the scene, whatever the lights showed before."""
        scene = self.scene if self.session.session is not None else self.idle
        change = LightChange()
        for layer in (scene, self.manual):
            if light.id in layer:
                change = layer[light.id].merged_over(change)
        base = before or self._idle_state(light)
        return base if change.empty else change.apply(base)

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
        self.emit("follow_phase", lights=adjusted)
        return {"follow_phase": True, "lights": adjusted}

    # -- presets ---------------------------------------------------------------------------------------------

    def activate_preset(self, name: str) -> dict:
        preset = self.config.presets.get(name)
        if preset is None:
            raise NotFound(f"there is no preset {name!r}; presets: {', '.join(self.config.presets)}")
        if self.preset is not None and self.preset.name == name:   # a second tap on calm keeps calm
            if self.preset.adjust:   # and brings back calm's own setting if it was changed meanwhile
                adjusted, self.preset.adjust = sorted(self.preset.adjust), {}
                self._retarget(MANUAL_TRANSITION, adjusted)
                self.emit("preset_reapplied", preset=name, lights=adjusted)
            return {"preset": name}
        self.end_preview()   # calm always wins over a scene being tried out
        previous = self.preset
        before = previous.before if previous else {
            light.id: light.target or light.known_state() for light in self.lights.values()}
        scene = preset.lights or LightScene()
        self.preset = ActivePreset(name, scene.changes(self.config.lights), before)
        if previous:  # lights the new preset leaves alone go back to where they were before any preset
            for light_id in set(previous.changes) - set(self.preset.changes):
                self.lights[light_id].fade_to(self._target_without_preset(self.lights[light_id], before[light_id]),
                                              scene.transition)
        self._retarget(scene.transition, list(self.preset.changes))
        if self.music is not None and preset.music is not None:
            self.music.hold(preset.music, reason=f"preset {name}")
        self.emit("preset_on", preset=name, replaced=previous.name if previous else None)
        return {"preset": name}

    def release_preset(self) -> dict:
        if self.preset is None:
            raise Conflict("no preset is active")
        name, before = self.preset.name, self.preset.before
        self.preset = None
        for light in self.lights.values():
            light.fade_to(self._target_without_preset(light, before[light.id]), RETURN_TRANSITION)
        if self.music is not None:
            self.music.release(reason=f"preset {name} released")
        self.emit("preset_off", preset=name)
        return {"preset": None}

    def replace_presets(self, presets: dict[str, Preset], changed: str, deleted: bool = False) -> None:
        """The preset editor saved: the next activation uses the new definitions, and Home Assistant's select
        the new names. An active preset holds on as it began (its changes were worked out then) until
        released, so an edit never changes the room under the therapist."""
        self.config = self.config.model_copy(update={"presets": presets})
        self.discovery = Discovery(self.config)
        if self.mqtt_connected:
            self.announce_discovery()
        self.emit("preset_deleted" if deleted else "preset_saved", preset=changed)

    # -- preview of a scene (the profile editor) -------------------------------------------------------------

    def preview_scene(self, scene: LightScene) -> dict:
        """Show a scene being edited until the editor ends it (or PREVIEW_LIMIT passes without a new one)."""
        if self.session.session is not None:
            raise Conflict("a session is running in this room: preview scenes when the room is free")
        if self.preset is not None:
            raise Conflict(f"the preset {self.preset.name!r} holds the room: release it to preview a scene")
        before = self.preview.before if self.preview else {
            light.id: light.target or light.known_state() for light in self.lights.values()}
        self.preview = ActivePreset("preview", scene.changes(self.config.lights), before)
        self._retarget(scene.transition, list(self.preview.changes))
        if self._preview_timer:
            self._preview_timer.cancel()
        self._preview_timer = self.loop.call_later(PREVIEW_LIMIT, self.end_preview)
        self.emit("preview_on", lights=sorted(self.preview.changes))
        return {"preview": True}

    def end_preview(self) -> dict:
        if self.preview is not None:
            before, self.preview = self.preview.before, None
            assert self._preview_timer is not None   # started with the preview
            self._preview_timer.cancel()
            for light in self.lights.values():
                target = self._target(light, before[light.id])
                if target is not None:
                    light.fade_to(target, MANUAL_TRANSITION)
            self.emit("preview_off")
        return {"preview": False}

    # -- manual adjustments ----------------------------------------------------------------------------------

    def adjust_lights(self, ids: list[str] | None, change: LightChange, transition: float | None) -> dict:
        self._known(ids)
        targets = ids or list(self.lights)
        layer = self.preset.adjust if self.preset else self.manual
        for light_id in targets:
            layer[light_id] = change.merged_over(layer.get(light_id, LightChange()))
        self._retarget(MANUAL_TRANSITION if transition is None else transition, targets)
        self.emit("manual_change", lights=targets, change={k: v for k, v in vars(change).items() if v is not None},
                  during_preset=self.preset.name if self.preset else None)
        return {"lights": targets}

    def _known(self, ids: list[str] | None) -> None:
        for light_id in ids or []:
            if light_id not in self.lights:
                raise NotFound(f"there is no light {light_id!r}; lights: {', '.join(self.lights)}")

    # -- notes and music ---------------------------------------------------------------------------------------

    def add_note(self, text: str) -> dict:
        if not self.emit("note", text=text):   # a note lives only in the journal: never acknowledge a lost one
            raise JournalError(self.problems["journal"])
        return {"note": text}

    def adjust_music(self, volume: float | None, playing: bool | None, next_track: bool = False,
                     follow_phase: bool = False) -> dict:
        """`volume` is the therapist's choice, kept across phases until `follow_phase` gives it up."""
        if self.music is None:
            raise Conflict("this room plays no music")
        if volume is not None:
            self.music.set_volume(volume)
        if follow_phase:
            self.music.follow_phase()
        if playing is True:
            self.music.resume()
        elif playing is False:
            self.music.pause()
        if next_track:
            self.music.next()
        self.emit("music_changed", **{k: v for k, v in (("volume", volume), ("follow_phase", follow_phase or None),
                                                        ("playing", playing), ("next", next_track or None))
                                      if v is not None})
        return {"audio": self.music.snapshot()}

    # -- MQTT (core loop) -----------------------------------------------------------------------------------

    def broker_connected(self) -> None:
        self.mqtt_connected = True
        self.problems.pop("mqtt", None)
        self.emit("mqtt_connected")
        self._published_state = ""
        for light in self.lights.values():
            light.send_raw([MqttMessage(light.device.topic(m.topic), m.payload) for m in light.device.profile.query])
            light.reassert(self.config.lighting.reassert_transition)
        self.announce_discovery(clean=True)

    def announce_discovery(self, clean: bool = False) -> None:
        """Home Assistant's entities (and, on connect, the removal of ones published before and gone now)."""
        messages = (self.discovery.stale() if clean else []) + self.discovery.announce()
        if all([self._publish(m) for m in messages]) and clean:
            self.discovery.remember()

    def broker_disconnected(self, reason: str) -> None:
        self.mqtt_connected = False
        self.problems["mqtt"] = "the MQTT broker is not reachable: lights cannot be changed"
        self.emit("mqtt_disconnected", reason=reason)

    # -- called from other threads ------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        with self.changed:
            return self._snapshot

    def snapshot_json(self) -> bytes:
        """The snapshot serialised once per version, however many panels read it."""
        with self.changed:
            if self._json_version != self.version:
                self._json = json.dumps(self._snapshot, separators=(",", ":")).encode()
                self._json_version = self.version
            return self._json

    def wait_for_change(self, version: int, timeout: float) -> tuple[int, dict]:
        with self.changed:
            self.changed.wait_for(lambda: self.version != version, timeout)
            return self.version, self._snapshot
