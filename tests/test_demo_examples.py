"""The demo's examples as the package ships them: the session profiles and playlists of the repository, and
the tracks made where they are missing, or a plain sentence saying why they cannot be."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from room_controller.demo import examples, room

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def installed(tmp_path, monkeypatch) -> Path:
    """The playlists as an installed wheel holds them (copies, no tracks); the user's data folder in tmp_path."""
    shipped = tmp_path / "site-packages" / "playlists"
    shipped.mkdir(parents=True)
    for path in (ROOT / "playlists").iterdir():
        if path.is_file():
            shutil.copy(path, shipped)
    monkeypatch.setattr(examples, "PLAYLISTS", shipped)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    return tmp_path / "share" / "room-controller" / "demo" / "playlists"


def test_in_a_checkout_the_examples_are_the_top_level_folders():
    assert examples.PROFILES.is_symlink() and examples.PROFILES.resolve() == (ROOT / "deploy" / "profiles").resolve()
    assert examples.PLAYLISTS.is_symlink() and examples.PLAYLISTS.resolve() == (ROOT / "playlists").resolve()


def test_the_demo_edits_a_copy_of_the_example_profiles(tmp_path):
    copied = examples.profiles(tmp_path / "profiles")
    assert sorted(p.name for p in copied.glob("*.yaml")) == sorted(p.name for p in (ROOT / "deploy" / "profiles").glob("*.yaml"))
    assert not copied.is_symlink() and not any(p.is_symlink() for p in copied.iterdir())


@pytest.mark.slow
def test_from_a_wheel_the_tracks_are_made_once_in_the_users_data_folder(installed):
    said: list[str] = []
    assert examples.playlists(said.append) == installed
    assert said == [f"making the demo music in {installed / 'demo'} (a few seconds, once)..."]
    assert sorted(p.name for p in (installed / "demo").glob("*.ogg")) == \
        sorted(f"{name}.ogg" for name in ("deep-hum", "low-tide", "open-fifths", "slow-bells", "soft-rain", "warm-drone"))
    assert sorted(p.name for p in installed.iterdir() if p.is_file()) == ["arrival.m3u", "calm.m3u", "onset.m3u", "return.xspf"]
    said.clear()
    assert examples.playlists(said.append) == installed
    assert said == []   # the second demo finds them


def test_without_sox_the_demo_says_what_to_install(installed, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(examples.Missing) as caught:
        examples.playlists(lambda _: None)
    assert str(caught.value) == (f"the demo music could not be made in {installed / 'demo'}: "
                                 "make_demo: the `sox` command is missing (apt-get install sox libsox-fmt-base)")


def test_a_data_folder_that_cannot_be_written_is_said_so(installed, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "a-file"))
    with pytest.raises(examples.Missing, match="cannot write the demo music's folder .*a-file/room-controller/demo/playlists: "
                                               "Not a directory"):
        examples.playlists(lambda _: None)


def test_a_package_without_its_generator_says_so(installed):
    (examples.PLAYLISTS / "make_demo.py").unlink()
    with pytest.raises(examples.Missing, match="the demo music's generator is missing from the package"):
        examples.playlists(lambda _: None)


def test_without_its_music_the_demo_runs_on_without_profiles_and_says_why(tmp_path, monkeypatch):
    def no_music(say):
        raise examples.Missing("the demo music could not be made in /x/demo: make_demo: the `sox` command is missing")

    monkeypatch.setattr(examples, "playlists", no_music)
    said: list[str] = []
    playlists_dir, profiles_dir = room._examples(tmp_path, said.append)
    assert said == ["the demo music could not be made in /x/demo: make_demo: the `sox` command is missing\n"
                    "the demo runs without music and without session profiles (they play its music)"]
    assert not playlists_dir.exists() and not profiles_dir.exists()   # an empty room: nothing fails to load
