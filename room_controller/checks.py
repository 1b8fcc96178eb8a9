"""`room-controller check`: every kind of file the room (and the clinic overview) reads, validated the way the
service reads it, every problem in one run: a room file's own mistakes, its folders and playlists, and its
session profiles (each checked alone when the room file itself is wrong). Advice that is no error (a short
PIN) is logged as a warning."""

from __future__ import annotations

import logging
from pathlib import Path

from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Problem

log = logging.getLogger(__name__)

MIN_PIN_DIGITS = 6   # a new room's PIN; 4 digits fall to a patient guesser even at the room-wide try limit


def check_paths(paths: list[Path]) -> list[Problem]:
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            problems += check_paths(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
            continue
        try:
            problems += _check_file(path)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def _check_file(path: Path) -> list[Problem]:
    if not path.exists():
        return [Problem(str(path), 1, "", "no such file")]
    doc = yamlfile.load(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    if "room" in data:
        return _check_room(path, doc)
    if "phases" in data:
        from room_controller.session.profiles import load_profile
        load_profile(path)
        return []
    if "command" in data and "capabilities" in data:
        from room_controller.lighting.profiles import Catalogue
        Catalogue.load(path.parent)
        return []
    if "mqtt" in data or "web" in data:   # no `room:`: the clinic overview's broker and page
        from room_controller.integrations.overview import load_clinic
        load_clinic(path)
        return []
    return [doc.problem((), "not a file the room reads: expected a room configuration (with `room:`), "
                            "a session profile (with `phases:`), a device profile (with `capabilities:`) "
                            "or the clinic overview's (with `mqtt:` and `web:`)")]


def _check_room(path: Path, doc: yamlfile.Document) -> list[Problem]:
    from room_controller.config import load_room
    from room_controller.session.profiles import load_profiles
    try:
        config = load_room(path)[0]
    except ConfigError as exc:
        return exc.problems + _profiles_alone(path, doc)
    problems = _folders(config, doc) + _preset_playlists(config, doc)
    _pin_advice(config, doc)
    try:
        load_profiles(config)   # the room's session profiles are checked against the room
    except ConfigError as exc:
        problems += exc.problems
    return problems


def _folders(config, doc: yamlfile.Document) -> list[Problem]:
    """The folders a room reads from must be there (`serve` would start with no profiles or no music)."""
    return [doc.problem((key,), f"no such folder: {folder}") for key, folder in
            (("profiles_dir", config.profiles_dir), ("playlists_dir", config.playlists_dir))
            if not Path(folder).is_dir()]


def _preset_playlists(config, doc: yamlfile.Document) -> list[Problem]:
    from room_controller.audio import playlists
    from room_controller.audio.settings import MusicPlay
    if not Path(config.playlists_dir).is_dir():
        return []
    return [doc.problem(("presets", name, "music", "playlist"), p.message)
            for name, preset in config.presets.items() if isinstance(preset.music, MusicPlay)
            for p in playlists.check(preset.music.playlist, Path(config.playlists_dir))]


def _profiles_alone(path: Path, doc: yamlfile.Document) -> list[Problem]:
    """When the room file is wrong, its profiles can still be checked each alone (without the room)."""
    from room_controller.session.profiles import load_profile
    data = doc.data if isinstance(doc.data, dict) else {}
    folder = data.get("profiles_dir", "profiles")
    folder = path.resolve().parent / folder if isinstance(folder, str) else None
    problems: list[Problem] = []
    for profile in sorted(folder.glob("*.yaml")) if folder is not None and folder.is_dir() else []:
        try:
            load_profile(profile)
        except ConfigError as exc:
            problems += exc.problems
    return problems


def _pin_advice(config, doc: yamlfile.Document) -> None:
    pin = config.web.pin
    if pin is not None and len(pin.get_secret_value()) < MIN_PIN_DIGITS:
        log.warning("%s:%d: web.pin: shorter than %d characters; choose a longer one for this room (a short PIN "
                    "falls to patient guessing)", doc.file, doc.line_of(("web", "pin")), MIN_PIN_DIGITS)
