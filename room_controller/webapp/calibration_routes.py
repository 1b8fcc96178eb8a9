"""The calibration step's HTTP handlers in the clinic tools (webapp.routes lists them): play the reference,
stop it, and save the meter's reading as the room file's `audio.calibration_dba` (audio.calibration has the
reference and the arithmetic).

The save rewrites only the room file's `audio:` (comments elsewhere kept, the old file in backups/, its mode
and owner kept), and the new file must load the way `serve` loads it, as the preset editor's saves do. The
running music keeps the calibration it started with: the dose counts with the new one from the service's
next start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from room_controller.audio import calibration
from room_controller.audio.settings import MusicPlay, Volume
from room_controller.config import load_room
from room_controller.errors import Conflict
from room_controller.files import savefile, yamlfile
from room_controller.files.yamlfile import ConfigError, Model
from room_controller.webapp import roomfile

if TYPE_CHECKING:
    from room_controller.core.room import Room


class Play(Model):
    volume: Volume = Field(50.0, gt=0, description="the volume the reference plays at (a moderate one, e.g. 50)")


class Reading(Model):
    reading: float = Field(ge=20, le=130, description="the meter's reading, dBA (A-weighted, slow), at the "
                                                      "client's listening position")
    volume: Volume = Field(gt=0, description="the volume the reference played at")


def state(room: Room) -> dict:
    audio = room.config.audio
    return {"calibration_dba": audio.calibration_dba, "max_volume": audio.max_volume,
            "file": room.config_file.name if room.config_file else None}


def play(room: Room, body: Play) -> dict:
    """The reference in the room at `body.volume` (at most max_volume, which the answer says)."""
    _music(room)
    room.loop.call(_free, room)
    reference = calibration.reference(Path(room.config.data_dir))
    volume = min(body.volume, room.config.audio.max_volume)
    room.loop.call(_hold, room, MusicPlay(playlist=str(reference.parent.resolve()), volume=volume))
    return {"playing": True, "volume": volume}


def _free(room: Room) -> None:
    """On the core loop: the room must be at rest, with no session and no preset's music to replace."""
    if room.session.session is not None:
        raise Conflict("a session is running: calibrate when the room is free (the reference is loud noise)")
    if room.layers.preset is not None:
        raise Conflict(f"the preset {room.layers.preset.name} holds the room's music: release it first")


def _hold(room: Room, reference: MusicPlay) -> None:
    """On the core loop: the reference holds the room's music while the room is still free."""
    _free(room)   # again: the reference took a moment to make
    room.music.hold(reference, "calibration reference")


def stop(room: Room) -> dict:
    """The reference off: the music goes back to what the room played before (at rest: nothing)."""
    if room.layers.preset is None:   # a preset tapped meanwhile has the music now; its release brings it back
        room.loop.call(_music(room).release, "calibration done")
    return {"playing": False}


def save(room: Room, body: Reading) -> dict:
    """The reading as the room file's `audio.calibration_dba`; the reference stops."""
    if room.config_file is None:
        raise Conflict("this room was started without a room file, so its calibration cannot be saved")
    value = calibration.calibration_dba(body.reading, min(body.volume, room.config.audio.max_volume),
                                        room.config.audio.normalise_to)
    with roomfile.LOCK:
        _write(Path(room.config_file), value)
    _music(room).calibrate(value)
    stop(room)
    return {"calibration_dba": value, "file": room.config_file.name, "applies": "now"}


def _write(path: Path, value: float) -> None:
    try:
        doc = yamlfile.load(path)
        audio = doc.data.get("audio") if isinstance(doc.data, dict) else None
        text = yamlfile.replace_key(path.read_text(encoding="utf-8"), "audio",
                                    {**(audio if isinstance(audio, dict) else {}), "calibration_dba": value})
        tmp = savefile.temporary(path, text)
    except (OSError, ValueError, ConfigError) as exc:
        raise Conflict(f"the calibration cannot be written to {path.name}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    try:
        load_room(tmp)
    except ConfigError as exc:
        tmp.unlink()
        raise Conflict(f"{path.name} would not load with this calibration, so it is unchanged: "
                       + "; ".join(f"{p.path}: {p.message}" for p in exc.problems)) from None
    savefile.replace(tmp, path)


def _music(room: Room):
    if room.music is None:
        raise Conflict("this room has no music output to play the reference on")
    return room.music
