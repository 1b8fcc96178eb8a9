"""The calibration step in the clinic tools (docs/sound-dose.md, "Calibrating a room"): play the reference in
the room, then turn the sound level meter's reading into `audio.calibration_dba` in the room file (its HTTP
handlers are webapp.calibration_routes).

The reference (pink noise at loudness.TARGET_LUFS) is made once, into `data_dir/calibration/` (a folder is a
playlist), and played like a preset's music at the volume asked, so it never plays while a session runs or a
preset holds the room's music. The room plays the reference through its own normalisation, so a room with
`normalise_to` below the reference's loudness hears it that much quieter, and the calibration says so.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from room_controller.audio import loudness
from room_controller.audio.settings import MusicPlay
from room_controller.errors import Conflict

if TYPE_CHECKING:
    from room_controller.core.room import Room

FOLDER = "calibration"
REFERENCE = "reference.wav"


def calibration_dba(reading: float, volume: float, normalise_to: float | None) -> float:
    """`audio.calibration_dba` (the reference, as in its file, at volume 100) from a reading at `volume`,
    taking back what normalisation took off the reference."""
    turned_down = loudness.gain(loudness.TARGET_LUFS, normalise_to)
    return round(loudness.calibration_dba(reading, volume) - 20 * math.log10(turned_down), 1)


def reference(data_dir: Path) -> Path:
    """The reference's file, made the first time it is asked for."""
    path = data_dir / FOLDER / REFERENCE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        loudness.reference(path)
    return path


def free(room: Room) -> None:
    """On the core loop: the room must be at rest, with no session and no preset's music to replace."""
    if room.session.session is not None:
        raise Conflict("a session is running: calibrate when the room is free (the reference is loud noise)")
    if room.layers.preset is not None:
        raise Conflict(f"the preset {room.layers.preset.name} holds the room's music: release it first")


def hold(room: Room, reference: MusicPlay) -> None:
    """On the core loop: the reference holds the room's music while the room is still free."""
    free(room)   # again: the reference took a moment to make
    room.music.hold(reference, "calibration reference")
