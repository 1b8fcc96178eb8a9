"""The calibration step in the clinic tools (docs/sound-dose.md, "Calibrating a room"): play the reference in
the room, then turn the sound level meter's reading into `audio.calibration_dba` in the room file (its HTTP
handlers are webapp.calibration_routes).

The reference (pink noise at loudness.TARGET_LUFS) is made once, into `data_dir/calibration/` (a folder is a
playlist), and played like a preset's music at the volume asked, so it never plays while a session runs or a
preset holds the room's music. The room plays the reference through its own normalisation, so a room with
`normalise_to` below the reference's loudness hears it that much quieter, and the calibration says so. Whether
the room is free to play it is the handlers' to ask.
"""

from __future__ import annotations

import math
from pathlib import Path

from room_controller.audio import loudness

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
