"""`room-controller check` names every mistake of a room in one run, in the room's language: the room file's
own, its playlists and its session profiles, found on whatever parts of the room loaded; `serve` refuses
with the same list."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from room_controller import units
from room_controller.audio import playlists
from room_controller.cli import main

ROOM = """\
room:
  id: r1
  language: {language}
lights:
  - id: ceiling
    profile: zigbee2mqtt
    groups: [overhead]
    devise: Ceiling
presets:
  reading:
    lights: {{brightness: 60, per_group: {{overhead: {{brightness: 80}}}}}}
    music: {{playlist: missing.m3u}}
"""
PROFILE = """\
id: p
name: P
phases:
  - name: One
    duration: -3s
"""


def three_mistakes(tmp_path: Path, language: str) -> tuple[Path, Path]:
    """A misspelt key, a negative phase length and a preset naming a missing playlist, in one room."""
    (tmp_path / "playlists").mkdir()
    (tmp_path / "playlists" / "calm.ogg").write_bytes(b"x")
    (tmp_path / "playlists" / "calm.m3u").write_text("calm.ogg\n")
    (tmp_path / "profiles").mkdir()
    profile = tmp_path / "profiles" / "p.yaml"
    profile.write_text(PROFILE)
    room = tmp_path / "room.yaml"
    room.write_text(ROOM.format(language=language))
    return room, profile


def check(capsys, *paths: Path) -> tuple[int, list[str]]:
    code = main(["check", *map(str, paths)])
    return code, capsys.readouterr().out.splitlines()


EXPECTED = {
    "en": ["unknown key 'devise'; did you mean 'device'?",
           "cannot read the playlist {missing}: there is no such file",
           "a duration cannot be negative: '-3s'"],
    "de": ["unbekannter Schlüssel 'devise'; meinten Sie 'device'?",
           "die Playlist {missing} kann nicht gelesen werden: diese Datei gibt es nicht",
           "eine Dauer kann nicht negativ sein: '-3s'"],
    "nl": ["onbekende sleutel 'devise'; bedoelde u 'device'?",
           "de afspeellijst {missing} kan niet worden gelezen: dat bestand bestaat niet",
           "een duur kan niet negatief zijn: '-3s'"],
}


@pytest.mark.parametrize("language", ["en", "de", "nl"])
def test_three_mistakes_in_one_room_are_three_lines_in_one_run_in_the_rooms_language(tmp_path, capsys, language):
    room, profile = three_mistakes(tmp_path, language)
    missing = tmp_path / "playlists" / "missing.m3u"
    key, playlist, duration = (m.format(missing=missing) for m in EXPECTED[language])
    assert check(capsys, room) == (2, [f"{room}:8: lights[0].devise: {key}",
                                       f"{room}:12: presets.reading.music.playlist: {playlist}",
                                       f"{profile}:5: phases[0].duration: {duration}"])


def test_serve_refuses_with_the_same_list(tmp_path, capsys):
    room, _ = three_mistakes(tmp_path, "de")
    _, listed = check(capsys, room)
    assert main(["serve", "--config", str(room)]) == 2
    assert capsys.readouterr().err.splitlines() == listed


def test_once_the_mistakes_are_fixed_the_room_is_clear_in_its_language(tmp_path, capsys):
    room, profile = three_mistakes(tmp_path, "de")
    room.write_text(ROOM.format(language="de").replace("devise", "device").replace("missing.m3u", "calm.m3u"))
    profile.write_text(PROFILE.replace("-3s", "3s"))
    assert check(capsys, room) == (0, ["1 Datei(en) geprüft: keine Probleme"])


def test_every_mistake_of_one_model_at_once_each_with_its_line(tmp_path, capsys):
    """An unknown key no longer hides the other mistakes beside it, nor a second unknown key."""
    room = tmp_path / "room.yaml"
    room.write_text(textwrap.dedent("""\
        room: {id: r1, language: es}
        playlist_dir: music
        lights:
          - id: ceiling
            profile: zigbee2mqtt
            device: Ceiling
            colour: true
            groups: [overhead]
        mqtt: {port: lots, keepalive: 1}
        web: {idle_logout: -5m}
        """))
    code, out = check(capsys, room)
    assert code == 2 and out[:5] == [
        f"{room}:2: playlist_dir: clave desconocida 'playlist_dir'; ¿quería decir 'playlists_dir'?",
        f"{room}:7: lights[0].colour: clave desconocida 'colour'; claves conocidas: capabilities, device, groups, id, "
        "name, profile, quirks",
        f"{room}:9: mqtt.port: La entrada debe ser un número entero; el texto no lo es",
        f"{room}:9: mqtt.keepalive: La entrada debe ser mayor o igual que 5",
        f"{room}:10: web.idle_logout: una duración no puede ser negativa: '-5m'"]


def test_a_file_that_cannot_be_read_as_far_as_its_language_is_said_in_english(tmp_path, capsys):
    room = tmp_path / "room.yaml"
    room.write_text("room: {id: r1, language: de}\nlights: [\n")
    code, out = check(capsys, room)
    assert code == 2 and out[0].startswith(f"{room}:3: (top): not valid YAML: ")
    room.write_text("room: {id: r1, language: fr}\nmqtt: {port: 0}\n")
    assert check(capsys, room)[1][:2] == [
        f"{room}:1: room.language: there is no catalogue for 'fr'; languages: de, en, es, nl, pt",
        f"{room}:2: mqtt.port: Input should be greater than or equal to 1"]


@pytest.mark.parametrize("value, message", [
    ("-3s", "a duration cannot be negative: '-3s'"),
    ("-1h30m", "a duration cannot be negative: '-1h30m'"),
    (-90, "a duration cannot be negative: -90"),
    ("soon", "'soon' is not a duration; write it like 90s, 20m, 1h30m or 250ms"),
    ("--3s", "'--3s' is not a duration; write it like 90s, 20m, 1h30m or 250ms"),
])
def test_a_negative_duration_is_said_to_be_negative(value, message):
    with pytest.raises(ValueError) as info:
        units.parse_duration(value)
    assert str(info.value) == message


def test_a_playlist_that_cannot_be_read_names_the_path_it_tried(tmp_path):
    (tmp_path / "folder.m3u").mkdir()   # a folder named like a playlist: read as a folder, with nothing in it
    (tmp_path / "notes.txt").write_text("calm.ogg\n")
    assert [p.message for p in playlists.check("gone.m3u", tmp_path)] == [
        f"cannot read the playlist {tmp_path / 'gone.m3u'}: there is no such file"]
    assert [p.message for p in playlists.check("notes.txt", tmp_path)] == [
        f"{tmp_path / 'notes.txt'} is not a playlist: use .m3u, .m3u8, .xspf or a folder"]
    assert [p.message for p in playlists.check("folder.m3u", tmp_path)] == [
        f"no audio files in the playlist {tmp_path / 'folder.m3u'}"]


def test_an_unknown_key_inside_a_union_is_named_beside_the_others(tmp_path, capsys):
    """Pydantic labels a union's branches in an error's place ("function-wrap[...]"): such a label is not a key
    the file lacks, so the check's second pass never looks for it (the fuzzer found a KeyError there)."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "playlists").mkdir()
    path = tmp_path / "room.yaml"
    path.write_text('room: {id: x}\npresets:\n  calm:\n    music: {"": 1}\n  check-in:\n'
                    '    lights: {per_light: {strip: true}}\n', encoding="utf-8")
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [
        f"{path}:4: presets.calm.music: Input should be 'silence' or 'stop'",
        f"{path}:4: presets.calm.music.: unknown key ''; known keys: playlist, volume",
        f"{path}:6: presets.check-in.lights.per_light.strip: Input should be a valid dictionary or instance of "
        "LightSetting"]
