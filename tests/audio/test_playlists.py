"""Reading playlists: formats, relative paths, silent stretches and the problems `check` reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from room_controller.audio import playlists
from room_controller.audio.playlists import Silence, Track
from room_controller.audio.settings import AudioSettings, MusicPlay, as_spec

REPO = Path(__file__).resolve().parents[2]


def test_m3u_titles_relative_paths_and_silence(tmp_path):
    (tmp_path / "music").mkdir()
    (tmp_path / "music" / "a.ogg").write_bytes(b"x")
    (tmp_path / "list.m3u8").write_text(
        "#EXTM3U\n#EXTINF:40,Warm drone\nmusic/a.ogg\nsilence: 5m\nSILENCE:90s\n# a comment\n"
        "file:///abs/b.ogg\n", encoding="utf-8")
    entries = playlists.load("list.m3u8", tmp_path).entries
    assert entries[0] == Track(tmp_path / "music" / "a.ogg", "Warm drone", 3)
    assert entries[1] == Silence(300.0, 4) and entries[2] == Silence(90.0, 5)
    assert entries[3].path == Path("/abs/b.ogg") and entries[3].title == "b"


def test_xspf_with_percent_encoded_locations_and_silence(tmp_path):
    (tmp_path / "list.xspf").write_text(
        '<?xml version="1.0"?>\n<playlist version="1" xmlns="http://xspf.org/ns/0/"><trackList>\n'
        "<track><location>my%20song.ogg</location><title>Mine</title></track>\n"
        "<track><location>silence:30s</location></track>\n</trackList></playlist>\n", encoding="utf-8")
    entries = playlists.load("list.xspf", tmp_path).entries
    assert entries == (Track(tmp_path / "my song.ogg", "Mine", 3), Silence(30.0, 4))


def test_a_folder_plays_its_audio_files_in_name_order(tmp_path):
    for name in ("b.ogg", "a.flac", "notes.txt"):
        (tmp_path / "f" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "f" / name).write_bytes(b"x")
    assert [e.path.name for e in playlists.load("f", tmp_path).entries] == ["a.flac", "b.ogg"]


@pytest.mark.parametrize("text, message", [
    ("", "no audio files"),
    ("http://radio.example/stream\n", "only local files"),
    ("silence: soon\n", "not a duration"),
])
def test_problems_name_file_and_line(tmp_path, text, message):
    (tmp_path / "bad.m3u").write_text(text, encoding="utf-8")
    problems = playlists.check("bad.m3u", tmp_path)
    assert problems and message in problems[0].message and problems[0].file.endswith("bad.m3u")


def test_check_reports_missing_files_with_their_line(tmp_path):
    (tmp_path / "a.m3u").write_text("#EXTM3U\n\nmissing.ogg\n", encoding="utf-8")
    [problem] = playlists.check("a.m3u", tmp_path)
    assert (problem.line, problem.path) == (3, "tracks[0]")
    assert "file not found" in problem.message


def test_an_empty_folder_and_a_missing_playlist_are_problems(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "no audio files" in playlists.check("empty", tmp_path)[0].message
    assert "cannot read" in playlists.check("gone.m3u", tmp_path)[0].message


def test_the_repository_playlists_parse_and_name_the_demo_tracks():
    for name in ("calm.m3u", "arrival.m3u", "onset.m3u", "return.xspf"):
        playlist = playlists.load(name, REPO / "playlists")
        assert not playlist.problems
        assert all(e.path.parent.name == "demo" for e in playlist.entries if isinstance(e, Track))


def test_settings_defaults_and_music_specs():
    settings = AudioSettings()
    assert settings.max_volume == 80 and settings.crossfade == 8 and settings.calibration_dba is None
    assert AudioSettings(crossfade="1m30s").crossfade == 90
    assert as_spec("calm.m3u") == MusicPlay(playlist="calm.m3u")
    assert as_spec("silence") == "silence"
    with pytest.raises(ValueError, match="did you mean 'max_volume'"):
        AudioSettings.model_validate({"max_volum": 50})
    with pytest.raises(ValueError):
        MusicPlay(playlist="calm.m3u", volume=120)
