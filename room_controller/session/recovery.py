"""What recovery rebuilds of a running session, as a fold over its journal's events, and the checkpoints of it.

`Record` takes the events that change what recovery rebuilds (RECOVERY_KINDS), one at a time and in order:
the timeline (each move, and its undo, carries a copy), the label, the reminders shown and acknowledged, the sound dose, the preset on, the volume the
therapist chose and the light adjustments still held. The runner keeps one for the running session as its
events are journaled and writes it to the journal every few seconds when it changed (`Journal.save_recovery`,
which notes the id of the session's last row with it). After a restart `load` starts from that checkpoint and
takes only the events after that id, so recovery reads a few seconds of the journal however long the session
ran; a journal without one (from before checkpoints, or one that cannot be read) is replayed from the
session's start by the same fold, with the same result.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from room_controller.journal.store import Reader, Row
from room_controller.lighting.state import LightChange
from room_controller.session import timeline as tl

log = logging.getLogger(__name__)

VERSION = 1   # of the checkpoint's JSON; another version is not read (the session is replayed instead)

# The events that change what recovery rebuilds, and no others, so a session whose journal also holds hours of
# device chatter and floods resumes as fast as a quiet one
RECOVERY_KINDS = ("session_started", "label_changed", "phase_extended", "phase_moved", "phase_undone",
                  "reminder_shown", "reminder_acknowledged", "preset_on", "preset_off", "dose_step", "music_changed",
                  "manual_change", "follow_phase")


@dataclass
class Record:
    timeline: dict | None = None                    # as journaled (durations, anchor_index, anchor_at)
    label: str = ""
    reminders: dict[int, list] = field(default_factory=dict)   # id -> [text, due_s, phase] as shown
    acknowledged: set[int] = field(default_factory=set)
    dose: float | None = None                       # the highest dose step
    preset_on: bool = False
    preset: str | None = None                       # the preset the last preset event left on
    volume: float | None = None                     # the therapist's choice (None: the room follows the phase)
    under_preset: bool = False                      # `volume` was chosen under the preset still on
    held: dict[str, LightChange] = field(default_factory=dict)  # each light's adjustment still held

    def add(self, kind: str, data: dict[str, Any]) -> None:
        """Take the next event of RECOVERY_KINDS."""
        if "timeline" in data:
            timeline = data["timeline"]
            self.timeline = {"durations": list(timeline["durations"]), "anchor_index": timeline["anchor_index"],
                             "anchor_at": timeline["anchor_at"]}
        if kind in ("session_started", "label_changed"):
            self.label = data.get("label", "")
        elif kind == "reminder_shown":
            self.reminders[data["reminder"]] = [data["text"], data["due_s"], data.get("phase", "")]
        elif kind == "reminder_acknowledged":
            self.acknowledged.add(data["reminder"])
        elif kind == "dose_step":
            self.dose = data["dose"] if self.dose is None else max(self.dose, data["dose"])
        elif kind in ("preset_on", "preset_off"):
            self.preset_on, self.under_preset = kind == "preset_on", False
            self.preset = data["preset"] if self.preset_on else None
        elif kind == "music_changed" and data.get("follow_phase"):
            self.volume, self.under_preset = None, False
        elif kind == "music_changed" and data.get("volume") is not None:
            self.volume, self.under_preset = data["volume"], self.preset_on
        elif kind == "manual_change" and not data.get("during_preset"):
            self._adjust(data)
        elif kind == "follow_phase":
            for light_id in data.get("lights", ()):
                self.held.pop(light_id, None)

    def _adjust(self, data: dict[str, Any]) -> None:
        """An adjustment outlives phase changes, so it must outlive a restart too (one made under a preset
        went with it, and is not taken)."""
        lights = set(data.get("lights", ()))
        if not lights:
            return
        change = dict(data.get("change", {}))
        if change.get("rgb") is not None:
            change["rgb"] = tuple(change["rgb"])
        adjustment = LightChange(**change)
        for light_id in lights:
            self.held[light_id] = adjustment.merged_over(self.held.get(light_id, LightChange()))

    # -- what recovery uses -------------------------------------------------------------------------------

    def timeline_or(self, planned: tl.Timeline) -> tl.Timeline:
        if self.timeline is None:
            return planned
        return tl.Timeline(tuple(self.timeline["durations"]), self.timeline["anchor_index"], self.timeline["anchor_at"])

    def pending(self) -> list[tuple[int, str, float, str]]:
        """The reminders shown and not acknowledged, by id: (id, text, due_s, phase)."""
        return [(i, *self.reminders[i]) for i in sorted(self.reminders) if i not in self.acknowledged]

    def held_adjustments(self, lights: set[str]) -> dict[str, LightChange]:
        """The adjustments still holding, of the room's lights."""
        return {light_id: change for light_id, change in self.held.items() if light_id in lights}

    @property
    def chosen_volume(self) -> tuple[float | None, bool]:
        """The volume the therapist chose and still holds (None: the room follows the phase), and whether it
        was chosen under the preset still on (so it is that preset's level too, as audio.volume's rules say)."""
        return self.volume, self.under_preset

    # -- the checkpoint ------------------------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps({
            "version": VERSION, "timeline": self.timeline, "label": self.label,
            "reminders": [[i, *shown] for i, shown in sorted(self.reminders.items())],
            "acknowledged": sorted(self.acknowledged), "dose": self.dose, "preset_on": self.preset_on,
            "preset": self.preset, "volume": self.volume, "under_preset": self.under_preset,
            "held": {light_id: {k: v for k, v in vars(change).items() if v is not None}
                     for light_id, change in sorted(self.held.items())},
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Record:
        """ValueError (or KeyError, TypeError) for a checkpoint this version cannot read."""
        doc = json.loads(text)
        if doc.get("version") != VERSION:
            raise ValueError(f"a checkpoint of version {doc.get('version')!r}")
        held = {}
        for light_id, change in doc["held"].items():
            if change.get("rgb") is not None:
                change["rgb"] = tuple(change["rgb"])
            held[light_id] = LightChange(**change)
        return cls(timeline=doc["timeline"], label=doc["label"],
                   reminders={r[0]: list(r[1:]) for r in doc["reminders"]}, acknowledged=set(doc["acknowledged"]),
                   dose=doc["dose"], preset_on=doc["preset_on"], preset=doc["preset"], volume=doc["volume"],
                   under_preset=doc["under_preset"], held=held)


def replay(rows: list[Row], record: Record | None = None) -> Record:
    """`rows` taken in order, after `record` (by default from the session's start)."""
    record = record or Record()
    for row in rows:
        record.add(row.kind, row.data)
    return record


def load(reader: Reader, session_id: int) -> Record:
    """The session's record: its newest checkpoint and the events after it, else every event of it."""
    record, upto = Record(), 0
    saved = reader.recovery_point(session_id)
    if saved is not None:
        try:
            record, upto = Record.from_json(saved[1]), saved[0]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("session %d's recovery checkpoint cannot be read (%s): its events are replayed", session_id, exc)
    return replay(list(reader.each_event(session_id, RECOVERY_KINDS, after=upto)), record)
