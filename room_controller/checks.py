"""`room-controller check`: every kind of file the room (and the clinic overview) reads, validated the way the
service reads it, every problem in one run: a room file's own mistakes, its folders and playlists, and its
session profiles, the checks across files run on whatever parts of the room loaded (each profile alone when
not even the room's `room:` did). Advice that is no error (a short PIN) is logged as a warning. A room's
problems are said in its language (`room.language`), English when the file cannot be read that far; the
file, line and dotted path stay as they are. `serve` refuses to start with the same list.
"""

from __future__ import annotations

import logging
from pathlib import Path

from room_controller import i18n
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Problem
from room_controller.i18n.said import Said
from room_controller.vitals.model import EXAMPLE

log = logging.getLogger(__name__)

MIN_PIN_DIGITS = 6   # a new room's PIN; 4 digits fall to a patient guesser even at the room-wide try limit


def check_paths(paths: list[Path]) -> list[Problem]:
    """Every problem of the files and folders named. A `.json` among them is a device list saved from
    Zigbee2MQTT (its retained bridge/devices), against which the rooms' lights on a bridge are checked."""
    lists, problems = _device_lists([p for p in paths if p.suffix == ".json"])
    return problems + _check_paths([p for p in paths if p.suffix != ".json"], lists)


def _check_paths(paths: list[Path], lists: DeviceLists) -> list[Problem]:
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            problems += _check_paths(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")), lists)
            continue
        try:
            problems += _check_file(path, lists)
        except ConfigError as exc:
            problems += exc.problems
    return problems


DeviceLists = list[tuple[str, dict]]   # (file, what lighting.bridge.parse_devices read from it)


def _device_lists(paths: list[Path]) -> tuple[DeviceLists, list[Problem]]:
    from room_controller.lighting import bridge
    lists: DeviceLists = []
    problems: list[Problem] = []
    for path in paths:
        try:
            lists.append((str(path), bridge.parse_devices(path.read_bytes())))
        except OSError:
            problems.append(yamlfile.said(str(path), 1, "", Said.of("check.no_such_file")))
        except bridge.BridgeError as exc:
            problems.append(yamlfile.said(str(path), 1, "", Said.of("check.zigbee_list", reason=str(exc))))
    return lists, problems


def _check_file(path: Path, lists: DeviceLists) -> list[Problem]:
    if not path.exists():
        return [yamlfile.said(str(path), 1, "", Said.of("check.no_such_file"))]
    doc = yamlfile.load(path)
    data = doc.data if isinstance(doc.data, dict) else {}
    if "room" in data:
        return _check_room(path, doc, lists)
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
    return [doc.problem((), Said.of("check.not_room_file"))]


def _check_room(path: Path, doc: yamlfile.Document, lists: DeviceLists) -> list[Problem]:
    from room_controller.config import read_room
    from room_controller.session.profiles import load_profiles
    room = read_room(path)
    language = language_of(doc)
    problems = sorted(room.problems, key=lambda p: (p.file != doc.file, p.line))
    config = room.config
    if config is None:
        problems += _profiles_alone(path, doc)
    else:
        problems += _folders(config, doc, room.whole) + _preset_playlists(config, doc, room.whole)
        problems += _not_lights(config, room.catalogue, doc, lists) + _clinic(config, doc)
        _pin_advice(config, doc, language)
        if "profiles_dir" in room.whole:
            try:
                profiles = load_profiles(config, room.whole)   # the room's session profiles, against the room
            except ConfigError as exc:
                problems += exc.problems
            else:
                _example_limits_advice(config, doc, profiles, language)
    return [p.in_language(language) for p in problems]


def language_of(doc: yamlfile.Document) -> str:
    """The room's language as its file says it, when the file can be read that far; English otherwise."""
    room = doc.data.get("room") if isinstance(doc.data, dict) else None
    tag = room.get("language") if isinstance(room, dict) else None
    try:
        return i18n.check_tag(tag) if isinstance(tag, str) else i18n.DEFAULT
    except ValueError:
        return i18n.DEFAULT


def all_clear(paths: list[Path]) -> str:
    """The line saying the files are right, in the rooms' language when they all share one."""
    languages = set()
    for path in paths:
        try:
            doc = yamlfile.load(path) if path.is_file() else None
        except ConfigError:
            doc = None
        if doc is not None and isinstance(doc.data, dict) and "room" in doc.data:
            languages.add(language_of(doc))
    language = languages.pop() if len(languages) == 1 else i18n.DEFAULT
    return str(Said.of("check.all_clear", count=len(paths)).in_language(language))


def _folders(config, doc: yamlfile.Document, whole: frozenset[str]) -> list[Problem]:
    """The folders a room reads from must be there (`serve` would start with no profiles or no music)."""
    return [doc.problem((key,), Said.of("check.no_such_folder", folder=str(folder))) for key, folder in
            (("profiles_dir", config.profiles_dir), ("playlists_dir", config.playlists_dir))
            if key in whole and not Path(folder).is_dir()]


def _preset_playlists(config, doc: yamlfile.Document, whole: frozenset[str]) -> list[Problem]:
    from room_controller.audio import playlists
    from room_controller.audio.settings import MusicPlay
    if "playlists_dir" not in whole or not Path(config.playlists_dir).is_dir():
        return []
    return [doc.problem(("presets", name, "music", "playlist"), p.said or p.message)
            for name, preset in config.presets.items() if isinstance(preset.music, MusicPlay)
            for p in playlists.check(preset.music.playlist, Path(config.playlists_dir))]


def _clinic(config, doc: yamlfile.Document) -> list[Problem]:
    """The clinic file the room reads its bookings from: there, and its `day:` right (its own file and line)."""
    from room_controller.session.dayfile import read_day
    if config.clinic is None:
        return []
    if not Path(config.clinic).is_file():
        return [doc.problem(("clinic",), Said.of("check.no_such_file"))]
    try:
        read_day(config.clinic)
    except ConfigError as exc:
        return exc.problems
    return []


def _not_lights(config, catalogue, doc: yamlfile.Document, lists: DeviceLists) -> list[Problem]:
    """A light on a bridge's device that the bridge's saved device list says is no light (a sensor, a plug):
    the room would send it light commands and see nothing happen."""
    out = []
    for i, light in enumerate(config.lights):
        profile = catalogue.profiles.get(light.profile) if catalogue is not None else None
        if profile is None or profile.bridge is None:
            continue
        for file, learned in lists:
            found = learned.get(light.device)
            if found is not None and not found.light:
                out.append(doc.problem(("lights", i, "device"), Said.of(
                    "check.zigbee_not_light", device=light.device, model=found.what, file=file)))
    return out


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


def _example_limits_advice(config, doc: yamlfile.Document, profiles: dict, language: str) -> None:
    """Vitals limits still the shipped examples: not an error (the panel marks them), but the clinic's to set."""
    advice = Said.of("check.example_limits").in_language(language)
    if config.vitals.limits is not None and config.vitals.limits.source == EXAMPLE:
        log.warning("%s:%d: vitals.limits: %s", doc.file, doc.line_of(("vitals", "limits")), advice)
    for profile in profiles.values():
        if profile.vitals_limits is not None and profile.vitals_limits.source == EXAMPLE:
            log.warning("%s: profile %s: vitals_limits: %s", config.profiles_dir, profile.id, advice)


def _pin_advice(config, doc: yamlfile.Document, language: str) -> None:
    pin = config.web.pin
    if pin is not None and len(pin.get_secret_value()) < MIN_PIN_DIGITS:
        advice = Said.of("check.short_pin", digits=MIN_PIN_DIGITS).in_language(language)
        log.warning("%s:%d: web.pin: %s", doc.file, doc.line_of(("web", "pin")), advice)
