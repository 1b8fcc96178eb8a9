"""The room core: the only writer of the room's state, and the parts that act on it.

`Room` holds what every part shares (the configuration, the lights, the problems the panel shows, the link
to the broker, the journal) and wires the parts, each with one concern:
- `layers` (core/layers.py): what each light should show (scene, manual adjustments, preset, preview);
- `presets` (core/presets.py): a preset pressed, pressed again, released, or edited;
- `inbox` (core/inbox.py): what arrives from the broker;
- `session` (core/session.py) and `vitals` (core/vitals.py).
Everything runs on the core loop (core/loop.py); other threads submit work to it and read the snapshot
through the thread-safe methods at the bottom.

Every change is journaled as it happens (`emit`); live panels, the retained MQTT state and Home Assistant's
entities follow the snapshot published after each batch of work. Parts that follow the room from outside its
core (`followers`, wired by app.App: the alerts) are told every event and look at each new snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from room_controller.config import RoomConfig
from room_controller.core.inbox import Inbox
from room_controller.core.intake import Intake
from room_controller.core.layers import Layers
from room_controller.core.lights import Light
from room_controller.core.loop import Loop
from room_controller.core.presets import Presets
from room_controller.core.session import SessionRunner
from room_controller.core.sources import Sources
from room_controller.core.vitals import Desk as VitalsDesk
from room_controller.errors import Conflict
from room_controller.integrations.homeassistant import Discovery, reminder_event, state_extras
from room_controller.journal.store import Journal, JournalError
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import MqttMessage
from room_controller.session.profiles import SessionProfile

if TYPE_CHECKING:
    from room_controller.core.day import Day
    from room_controller.core.housekeeping import Housekeeping

log = logging.getLogger(__name__)


class Follower(Protocol):
    """A part that follows the room (core loop): told each event as it is journaled (the vitals' rows too, with
    their values: a follower keeps them to itself), and shown each new snapshot, to which it adds its keys."""

    def event(self, kind: str, data: dict) -> None: ...

    def review(self, snapshot: dict) -> dict: ...


class Room:
    def __init__(self, config: RoomConfig, catalogue: Catalogue, loop: Loop,
                 publish: Callable[[MqttMessage], bool], journal: Journal,
                 profiles: dict[str, SessionProfile], *, music: Any = None, config_file: Path | None = None,
                 burst: Callable[[], AbstractContextManager] = nullcontext) -> None:
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
        self.layers = Layers(self.lights, config=lambda: self.config, loop=loop, session=lambda: self.session.session,
                             sources=lambda: self.presets.sources, emit=self.emit, touch=self.touch, burst=burst)
        self.problems: dict[str, str] = {}
        self.presets = Presets(
            config=lambda: self.config, layers=self.layers, music=music, emit=self.emit, reconfigure=self.reconfigure,
            sources=Sources(clock=self.clock, problems=self.problems, emit=self.emit,
                            command_topic=lambda: self.inbox.command_topic))   # the inbox comes later
        self.mqtt_connected = False
        self.housekeeping: Housekeeping | None = None   # set by app.App: the nightly jobs, listed in /api/health
        self.day: Day | None = None   # set by app.App: the clinic's day plan (core/day.py)
        self._dirty = True
        self._fading = False
        self._snapshot: dict = {}
        self._published_state = ""
        self.version = 0
        self._json, self._json_version = b"{}", -1
        self.changed = threading.Condition()
        self.intake = Intake(loop)   # the gate to the core for MQTT messages and the HTTP API's presets
        self.inbox = Inbox(   # what arrives from the broker (only what it uses; the vitals desk comes later)
            config=lambda: self.config, lights=self.lights, light_configs=self.light_configs, loop=loop,
            clock=self.clock, intake=self.intake, problems=self.problems, emit=self.emit, touch=self.touch,
            run_command=lambda command, source: command.run(self, source),
            announce_discovery=self.announce_discovery, discovery_topic=lambda: self.discovery.status_topic,
            pulse_topic=lambda: self.vitals.pulse_topic,
            offer_pulse=lambda payload, bad: self.vitals.offer_pulse(payload, bad))
        self.journal = journal
        if journal.problem:
            self.problems["journal"] = journal.problem
        self.session = SessionRunner(journal, profiles, config=lambda: self.config, loop=loop, layers=self.layers,
                                     presets=self.presets, music=music, problems=self.problems, emit=self.emit,
                                     touch=self.touch)
        self.vitals = VitalsDesk(   # health data: in the snapshot (behind auth), never in _publish_state
            config.vitals, loop=loop, clock=self.clock, journal=journal, runner=self.session, intake=self.intake,
            problems=self.problems, touch=self.touch, tell=self.tell, emit=self.emit)
        self.discovery = Discovery(config)
        self.followers: list[Follower] = []

    # -- events and snapshots (core loop) --------------------------------------------------------------------

    def emit(self, kind: str, /, **data: Any) -> bool:
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
            self.tell(kind, data)
            return False
        self._dirty = True
        self.tell(kind, data)
        return True

    def tell(self, kind: str, data: dict) -> None:
        """An event, journaled (or not), to the parts that follow the room. A follower's fault is logged and
        never undoes what the event says was done (the emergency light is on, whatever an alert's fate)."""
        for follower in self.followers:
            try:
                follower.event(kind, data)
            except Exception:
                log.exception("%s could not follow %s; the room carries on", type(follower).__name__, kind)

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
        for follower in self.followers:
            snapshot.update(follower.review(snapshot))
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
            "preset": self.layers.preset.name if self.layers.preset else None,
            "follow_phase": {"lights": not self.layers.manual, "volume": music.get("volume_source", "phase") == "phase"},
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

    # -- notes and music ---------------------------------------------------------------------------------------

    def add_note(self, text: str) -> dict:
        if not self.emit("note", text=text):   # a note lives only in the journal: never acknowledge a lost one
            raise JournalError(self.problems["journal"])
        return {"note": text}

    def adjust_music(self, volume: float | None, playing: bool | None, next_track: bool = False,
                     follow_phase: bool = False) -> dict:
        """`volume` is the therapist's choice, kept across phases until `follow_phase` gives it up; the journal
        keeps it beside what the room plays (`played`, at most max_volume), so the record says both."""
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
        played = None if volume is None else min(volume, self.config.audio.max_volume)   # what the room plays
        self.emit("music_changed", **{k: v for k, v in (("volume", volume), ("played", played),
                                                        ("follow_phase", follow_phase or None),
                                                        ("playing", playing), ("next", next_track or None))
                                      if v is not None})
        return {"audio": self.music.snapshot()}

    # -- the broker, and the room as Home Assistant sees it ----------------------------------------------------

    def broker_connected(self) -> None:
        self.mqtt_connected = True
        self.problems.pop("mqtt", None)
        self.emit("mqtt_connected")
        self._published_state = ""
        for light in self.lights.values():
            light.send_raw([MqttMessage(light.device.topic(m.topic), m.payload) for m in light.device.profile.query])
            light.reassert(self.config.lighting.reassert_transition)
        self.announce_discovery(clean=True)

    def broker_disconnected(self, reason: str) -> None:
        self.mqtt_connected = False
        self.problems["mqtt"] = "the MQTT broker is not reachable: lights cannot be changed"
        self.emit("mqtt_disconnected", reason=reason)

    def announce_discovery(self, clean: bool = False) -> None:
        """Home Assistant's entities (and, on connect, the removal of ones published before and gone now)."""
        messages = (self.discovery.stale() if clean else []) + self.discovery.announce()
        if all([self._publish(m) for m in messages]) and clean:
            self.discovery.remember()

    def reconfigure(self, config: RoomConfig) -> None:
        """The room file changed under a running room (the preset editor saved): Home Assistant's entities follow."""
        self.config = config
        self.discovery = Discovery(config)
        if self.mqtt_connected:
            self.announce_discovery()

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
