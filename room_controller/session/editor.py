"""The profile editor's files: validate a profile the way `check` and `serve` do, and write it back safely.

A profile from the panel is checked by the same models and room checks as a file, and every problem comes
back with its dotted path, so the panel shows it next to its field; nothing is written then. A save writes
a temporary file and renames it over the old one (a crash leaves the old file or the new, never half of
one), after copying the old version into `backups/` beside the profiles. Files written here lose their
comments (the backup keeps them): the editor is for the clinic's own profiles.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from room_controller import units
from room_controller.config import RoomConfig
from room_controller.errors import Conflict, Invalid, NotFound
from room_controller.files import savefile, yamlfile
from room_controller.files.yamlfile import ConfigError, Model
from room_controller.session.profiles import SessionProfile, check_against_room

DURATIONS = {"duration", "transition", "at", "every", "start"}
LOCK = threading.Lock()   # one save at a time: a file and the room's profiles change together


def validate(data: Any, room: RoomConfig) -> SessionProfile:
    """The profile, or `Invalid` with one `{path, message}` per problem."""
    doc = yamlfile.Document("profile", data)
    try:
        profile = yamlfile.validate(SessionProfile, doc)
        problems = check_against_room(profile, doc, room)
    except ConfigError as exc:
        problems = exc.problems
    if problems:
        raise Invalid("the profile is not valid: " + "; ".join(f"{p.path}: {p.message}" for p in problems),
                      [{"path": p.path, "message": p.message} for p in problems])
    return profile


def as_data(model: Model) -> dict:
    """What a person would write: defaults left out, durations as `10m`, `1h30m` (profiles and presets)."""
    return _durations(model.model_dump(mode="json", exclude_defaults=True))


def _durations(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _durations(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_durations(v) for v in value]
    if key in DURATIONS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return units.format_duration(value)
    return value


class ProfileFiles:
    """The profile files in the room's `profiles_dir` (callers hold `LOCK`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def save(self, profile: SessionProfile, *, new: bool) -> Path:
        path = self.path_of(profile.id)
        if new and path is not None:
            raise Conflict(f"a profile with the id {profile.id!r} exists already ({path.name})")
        if not new and path is None:
            raise NotFound(f"there is no profile file with the id {profile.id!r}")
        path = path or self.folder / f"{profile.id}.yaml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            savefile.replace(savefile.temporary(path, (
                f"# Written by the profile editor on {time.strftime('%Y-%m-%d %H:%M')}; "
                f"earlier versions are in {savefile.BACKUPS}/.\n" + yamlfile.dump(as_data(profile)))), path)
        except OSError as exc:
            raise Conflict(f"the profile cannot be written to {path}: {exc.strerror or exc}") from None
        return path

    def delete(self, profile_id: str) -> Path:
        """Move the file into the backups: a deleted profile can be put back by hand."""
        path = self.path_of(profile_id)
        if path is None:
            raise NotFound(f"there is no profile file with the id {profile_id!r}")
        try:
            return savefile.back_up(path, move=True)
        except OSError as exc:
            raise Conflict(f"the profile cannot be removed from {path}: {exc.strerror or exc}") from None

    def path_of(self, profile_id: str) -> Path | None:
        """The file that holds this id (file names need not match ids)."""
        for path in sorted(self.folder.glob("*.yaml")) if self.folder.is_dir() else []:
            try:
                data = yamlfile.load(path).data
            except ConfigError:
                continue
            if isinstance(data, dict) and data.get("id") == profile_id:
                return path
        return None
