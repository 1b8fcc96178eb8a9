"""Session profiles: the phases of a kind of session, as files in the clinic's `profiles_dir`.

Each phase has a length (or `open`: until the therapist moves on), a light scene reached by a fade of its
own, music, and reminders for the therapist. The models check each file alone; `load_profiles` then checks
them against the room (lights, groups, playlists), so `check` and `serve` refuse the same mistakes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from room_controller import units
from room_controller.audio import playlists
from room_controller.audio.settings import MusicSpec
from room_controller.config import ALL_PARTS, LightScene, RoomConfig, hint
from room_controller.fields import Duration, Identifier
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Model, Problem
from room_controller.i18n.said import Said
from room_controller.vitals.model import Limits as VitalsLimits
from room_controller.vitals.model import Schedule as VitalsSchedule


class Reminder(Model):
    """A prompt for the therapist: once `at` a time, or `every` so often (from `start`, optionally)."""

    text: str = Field(min_length=1, max_length=200)
    at: Duration | None = None
    every: Duration | None = Field(None, gt=0)
    start: Duration = 0.0

    @model_validator(mode="after")
    def _when(self) -> Reminder:
        if (self.at is None) == (self.every is None):
            raise ValueError("give either `at` (once) or `every` (repeating)")
        if self.every is not None and self.every < 60:
            raise ValueError("repeat at most once a minute")
        return self

    def times(self, length: float) -> list[float]:
        """Offsets within [0, length] at which this reminder comes due."""
        if self.at is not None:
            return [self.at] if self.at <= length else []
        out, t = [], self.start + self.every  # type: ignore[operator]
        while t <= length:
            out.append(t)
            t += self.every  # type: ignore[operator]
        return out


class Phase(Model):
    name: str = Field(min_length=1, max_length=60)
    duration: Duration | Literal["open"]
    lights: LightScene | None = None
    music: MusicSpec | None = None
    reminders: list[Reminder] = Field(default_factory=list)
    guidance: str = Field("", max_length=500, description="what the therapist should know about this phase")

    @model_validator(mode="after")
    def _reminders_inside(self) -> Phase:
        if self.duration != "open":
            if self.duration <= 0:
                raise ValueError("a phase lasts longer than 0 s (or is `open`)")
            for reminder in self.reminders:
                if reminder.at is not None and reminder.at > self.duration:
                    raise ValueError(f"reminder {reminder.text!r} at {units.format_duration(reminder.at)} "
                                     f"comes after the phase ends ({units.format_duration(self.duration)})")
        return self

    @property
    def seconds(self) -> float | None:
        return None if self.duration == "open" else float(self.duration)


class SessionProfile(Model):
    id: Identifier
    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    kind: Literal["psilocybin", "mdma", "ketamine", "preparation", "integration", "other"] = "other"
    phases: list[Phase] = Field(min_length=1, max_length=50)
    reminders: list[Reminder] = Field(default_factory=list, description="at session times")
    vitals: VitalsSchedule | None = Field(None, description="when to measure: every, from, until, at")
    vitals_limits: VitalsLimits | None = Field(None, description="the protocol's limits, over the room's")

    @model_validator(mode="after")
    def _session_reminders_inside(self) -> SessionProfile:
        total = self.planned_seconds
        for reminder in self.reminders:
            if total is not None and reminder.at is not None and reminder.at > total:
                raise ValueError(f"reminder {reminder.text!r} at {units.format_duration(reminder.at)} comes "
                                 f"after the session's planned end ({units.format_duration(total)})")
        return self

    @property
    def planned_seconds(self) -> float | None:
        lengths = [p.seconds for p in self.phases]
        return None if None in lengths else float(sum(lengths))  # type: ignore[arg-type]

    def summary(self) -> dict:
        return {"id": self.id, "name": self.name, "description": self.description, "kind": self.kind,
                "planned_s": self.planned_seconds,
                "phases": [{"name": p.name, "duration_s": p.seconds} for p in self.phases]}


def load_profile(path: Path) -> tuple[SessionProfile, yamlfile.Document]:
    doc = yamlfile.load(path)
    return yamlfile.validate(SessionProfile, doc), doc


def load_profiles(room: RoomConfig, whole: frozenset[str] = ALL_PARTS) -> dict[str, SessionProfile]:
    """Every profile in the room's `profiles_dir`, checked against the room; ConfigError lists all problems,
    a profile's playlists even when the rest of it is wrong (so one run of `check` shows every mistake).
    `whole`: the parts of a partly loaded room to check against (config.read_room)."""
    profiles: dict[str, SessionProfile] = {}
    problems: list[Problem] = []
    folder = Path(room.profiles_dir)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            doc = yamlfile.load(path)
        except ConfigError as exc:
            problems += exc.problems
            continue
        try:
            profile = yamlfile.validate(SessionProfile, doc)
        except ConfigError as exc:
            problems += sorted(exc.problems + check_against_room(None, doc, room, whole), key=lambda p: p.line)
            continue
        if profile.id in profiles:
            problems.append(doc.problem(("id",), Said.of("check.profile_id_taken", id=repr(profile.id))))
            continue
        problems += check_against_room(profile, doc, room, whole)
        profiles[profile.id] = profile
    if problems:
        raise ConfigError(problems)
    return profiles


def check_against_room(profile: SessionProfile | None, doc: yamlfile.Document, room: RoomConfig,
                       whole: frozenset[str] = ALL_PARTS) -> list[Problem]:
    """A phase naming a light, group or playlist the room does not have is an error. Read from the data as
    written, so a profile its model refused (`profile` None) is checked too: one run of `check` shows all.
    Lights and playlists are checked only when the room's `lights` and `playlists_dir` loaded `whole`."""
    ids = {light.id for light in room.lights}
    problems = []
    for i, phase in enumerate(_items(_get(doc.data, "phases"))):
        where = ("phases", i)
        lights = _get(phase, "lights") if "lights" in whole else None
        for light_id in _keys(_get(lights, "per_light")):
            if light_id not in ids:
                problems.append(doc.problem(where + ("lights", "per_light", light_id), Said.of(
                    "check.room_no_light", id=repr(light_id), hint=hint(str(light_id), ids))))
        for group in _keys(_get(lights, "per_group")):
            if group not in room.groups:
                problems.append(doc.problem(where + ("lights", "per_group", group), Said.of(
                    "check.no_group", group=repr(group), hint=hint(str(group), room.groups))))
        playlist = _get(_get(phase, "music"), "playlist") if "playlists_dir" in whole else None
        if isinstance(playlist, str) and playlist:
            problems += [doc.problem(where + ("music", "playlist"), p.said or p.message)
                         for p in playlists.check(playlist, Path(room.playlists_dir))]
    return problems


def _get(data: object, key: str) -> object:
    return data.get(key) if isinstance(data, dict) else None


def _keys(data: object) -> list:
    return list(data) if isinstance(data, dict) else []


def _items(data: object) -> list:
    return data if isinstance(data, list) else []
