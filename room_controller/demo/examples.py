"""The demo's session profiles and music: the repository's examples (deploy/profiles/, playlists/), shipped
in the package as data, so a wheel installed with pip or pipx brings the same demo as a checkout.

In a checkout room_controller/demo/profiles and playlists are symlinks to those folders, the source; in an
installed wheel they are copies. The tracks are generated (playlists/make_demo.py, with sox) where they are
missing: in a checkout into playlists/demo/, as deploy/setup.sh does; from a wheel, once, into the user's
data folder beside a copy of the playlists (~/.local/share/room-controller/demo/playlists/, or under
XDG_DATA_HOME), not inside the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from room_controller.audio import playlists as playlist_files
from room_controller.files.yamlfile import Problem

SHIPPED = Path(str(resources.files("room_controller.demo")))
PROFILES = SHIPPED / "profiles"
PLAYLISTS = SHIPPED / "playlists"
TRACKS = "demo"   # the folder the playlists name their tracks in


class Missing(Exception):
    """Something the demo brings could not be found or made; the message says what, for whoever started it."""


def profiles(into: Path) -> Path:
    """The example profiles copied into `into`: the demo's profile editor saves there (with the rest of the
    demo's temporary files), never into the examples."""
    found = sorted(PROFILES.glob("*.yaml"))
    if not found:
        raise Missing(f"the example session profiles are missing from the package (looked in {PROFILES})")
    into.mkdir(parents=True, exist_ok=True)
    for path in found:
        shutil.copyfile(path, into / path.name)
    return into


def playlists(say) -> Path:
    """The demo's playlists folder with every track its playlists name, made first if some are missing."""
    folder = PLAYLISTS.resolve() if PLAYLISTS.is_symlink() else _user_copy()
    if _problems(folder):
        generator = PLAYLISTS / "make_demo.py"
        if not generator.is_file():
            raise Missing(f"the demo music's generator is missing from the package (looked for {generator})")
        say(f"making the demo music in {folder / TRACKS} (a few seconds, once)...")
        made = subprocess.run([sys.executable, str(generator), "--into", str(folder / TRACKS)],
                              capture_output=True, text=True)
        if made.returncode != 0:
            why = (made.stderr.strip().splitlines() or [f"make_demo.py ended with {made.returncode}"])[-1]
            raise Missing(f"the demo music could not be made in {folder / TRACKS}: {why}")
        if problems := _problems(folder):
            raise Missing(f"the demo music is still incomplete: {problems[0]}")
    return folder


def _data_home() -> Path:
    """Where the user's programs keep their data (the XDG base directory specification)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _user_copy() -> Path:
    """The shipped playlists in the user's data folder, refreshed each time (an upgrade brings new ones);
    the tracks made there before stay."""
    folder = _data_home() / "room-controller" / "demo" / "playlists"
    shipped = _playlists_in(PLAYLISTS)
    if not shipped:
        raise Missing(f"the demo playlists are missing from the package (looked in {PLAYLISTS})")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path in shipped:
            shutil.copyfile(path, folder / path.name)
    except OSError as exc:
        raise Missing(f"cannot write the demo music's folder {folder}: {exc.strerror or exc} "
                      "(XDG_DATA_HOME chooses another place)") from exc
    return folder


def _problems(folder: Path) -> list[Problem]:
    """What is wrong with the playlists in `folder`: a track they name that is not there, above all."""
    return [problem for path in _playlists_in(folder) for problem in playlist_files.check(path.name, folder)]


def _playlists_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in playlist_files.PLAYLIST_SUFFIXES)
