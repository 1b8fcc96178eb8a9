"""The preset editor's file: the room file's `presets:` mapping, changed from the clinic tools.

A preset from the panel is checked by the same model and room checks as the file (its lights and groups
exist) and its playlist like a phase's, every problem with its dotted path; nothing is written then. A save
rewrites only the text of `presets:`, so the rest of the room file keeps its comments and layout (comments
inside `presets:` survive only in the backup), and the new file must load the way `serve` loads it before
it replaces the old one: a save never leaves a room that would not start. A built-in preset is written with
`null` for what the built-in sets and the edit leaves out, so the file says exactly what was saved.

Why not ruamel.yaml's comment-keeping round trip: it would keep the comments inside `presets:` too, but it
is a second YAML parser beside PyYAML with YAML 1.2 rules of its own (yamlfile's booleans, alias budget and
line map would have to be kept twice), and its dump re-indents and re-quotes the block it rewrites. Since
only `presets:` is rewritten, a splice of its text (yamlfile.replace_key) keeps every other byte, comments
included, and the whole old file is in backups/. The file's mode and owner are kept (savefile).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from room_controller import units
from room_controller.audio import playlists
from room_controller.audio.settings import MusicPlay
from room_controller.config import BUILTIN_PRESETS, Preset, RoomConfig, load_room, preset_problems
from room_controller.errors import Conflict, Invalid, NotFound
from room_controller.fields import Identifier
from room_controller.files import savefile, yamlfile
from room_controller.files.yamlfile import ConfigError, Model
from room_controller.session.editor import as_data

LOCK = threading.Lock()   # one save at a time: the file and the room's presets change together


class _Name(Model):
    name: Identifier


def validate(name: str, data: Any, room: RoomConfig) -> Preset:
    """The preset, or `Invalid` with one `{path, message}` per problem (`name`, `lights.kelvin`, ...)."""
    problems = []
    try:
        yamlfile.validate(_Name, yamlfile.Document("preset", {"name": name}))
    except ConfigError as exc:
        problems += exc.problems
    doc = yamlfile.Document("preset", data)
    try:
        preset = yamlfile.validate(Preset, doc)
        problems += preset_problems(preset, room, doc, ())
        if isinstance(preset.music, MusicPlay):
            problems += [doc.problem(("music", "playlist"), p.message)
                         for p in playlists.check(preset.music.playlist, Path(room.playlists_dir))]
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise Invalid("the preset is not valid: " + "; ".join(f"{p.path}: {p.message}" for p in problems),
                      [{"path": p.path, "message": p.message} for p in problems])
    return preset


def preset_data(preset: Preset) -> dict:
    """The preset as a person writes it, its fade always said (so a built-in's own never shows through)."""
    data = as_data(preset)
    if preset.lights is not None:
        data["lights"] = {**data.get("lights", {}), "transition": units.format_duration(preset.lights.transition)}
    return data


def file_entry(name: str, preset: Preset) -> dict:
    data = preset_data(preset)
    return _cancel(BUILTIN_PRESETS[name], data) if name in BUILTIN_PRESETS else data


def _cancel(builtin: dict, data: dict) -> dict:
    """`null` for each key the built-in has and `data` does not: the loader merges the file over the built-in."""
    out = dict(data)
    for key, value in builtin.items():
        if key not in out:
            out[key] = None
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _cancel(value, out[key])
    return out


class RoomFile:
    """The room file the service was started with (callers hold `LOCK`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def save(self, name: str, preset: Preset) -> RoomConfig:
        entries = self._entries()
        entries[name] = file_entry(name, preset)
        return self._write(entries)

    def delete(self, name: str) -> RoomConfig:
        if name in BUILTIN_PRESETS:
            raise Conflict(f"{name!r} is built in: it can be changed but not deleted")
        entries = self._entries()
        if name not in entries:
            raise NotFound(f"there is no preset {name!r} in {self.path.name}")
        del entries[name]
        return self._write(entries)

    def _entries(self) -> dict:
        try:
            data = yamlfile.load(self.path).data
        except ConfigError as exc:
            raise Conflict(f"the room file cannot be read: {exc}") from None
        entries = (data.get("presets") if isinstance(data, dict) else None) or {}
        if not isinstance(entries, dict):
            raise Conflict(f"`presets:` in {self.path.name} is not a mapping; correct it by hand")
        return entries

    def _write(self, entries: dict) -> RoomConfig:
        """The new file in place of the old (kept in backups/), and the room it describes."""
        try:
            text = yamlfile.replace_key(self.path.read_text(encoding="utf-8"), "presets", entries)
            tmp = savefile.temporary(self.path, text)
        except (OSError, ValueError) as exc:
            raise Conflict(f"the presets cannot be written to {self.path}: {getattr(exc, 'strerror', None) or exc}") \
                from None
        try:
            config, _ = load_room(tmp)
        except ConfigError as exc:
            tmp.unlink()
            raise Conflict(f"{self.path.name} would not load after this change, so it is unchanged: " + "; ".join(
                f"{p.path}: {p.message}" for p in exc.problems)) from None
        try:
            savefile.replace(tmp, self.path)
        except OSError as exc:
            raise Conflict(f"the presets cannot be written to {self.path}: {exc.strerror or exc}") from None
        return config
