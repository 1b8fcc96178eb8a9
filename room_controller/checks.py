"""`room-controller check`: every kind of file the room (and the clinic overview) reads, validated the way the
service reads it."""

from __future__ import annotations

from pathlib import Path

from room_controller import yamlfile
from room_controller.yamlfile import ConfigError, Problem


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
        from room_controller.config import load_room
        from room_controller.session.profiles import load_profiles
        load_profiles(load_room(path)[0])  # the room's session profiles are checked against the room
        return []
    if "phases" in data:
        from room_controller.session.profiles import load_profile
        load_profile(path)
        return []
    if "command" in data and "capabilities" in data:
        from room_controller.lighting.profiles import Catalogue
        Catalogue.load(path.parent)
        return []
    if "mqtt" in data or "web" in data:   # no `room:`: the clinic overview's broker and page
        from room_controller.overview import load_clinic
        load_clinic(path)
        return []
    return [doc.problem((), "not a file the room reads: expected a room configuration (with `room:`), "
                            "a session profile (with `phases:`), a device profile (with `capabilities:`) "
                            "or the clinic overview's (with `mqtt:` and `web:`)")]
