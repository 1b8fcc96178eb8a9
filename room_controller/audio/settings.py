"""What the room config and the session profiles say about music.

A config that leaves out `audio:` is valid: every field has a default that is safe in a therapy room.
"""

from __future__ import annotations

from typing import Annotated, Literal, cast

from pydantic import BeforeValidator, Field

from room_controller.files.yamlfile import Model
from room_controller.units import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]
Volume = Annotated[float, Field(ge=0, le=100)]


class AudioSettings(Model):
    vlc_args: list[str] = ["--aout=alsa"]
    max_volume: Volume = 80.0               # nothing ever plays louder, whatever a preset or the API asks
    default_volume: Volume = 40.0           # the level when the first music asks for none
    crossfade: Duration = 8.0               # between tracks, phases, presets and on a manual "next"
    fade_out: Duration = 3.0                # pause, stop; a full drop of the volume takes this long
    max_rise_per_s: Annotated[float, Field(gt=0)] = 5.0   # volume points a second: 35 -> 80 takes 9 s
    # dBA at the listening position (A-weighted, slow) of the calibration reference, pink noise at -20 LUFS,
    # played at volume 100 (`python -m room_controller.audio.loudness calibrate`); without it no dose is shown
    calibration_dba: Annotated[float, Field(ge=30, le=140)] | None = None
    dose_warnings: list[Annotated[float, Field(gt=0)]] = [50.0, 100.0]      # percent of the NIOSH daily dose
    dose_step: Annotated[float, Field(gt=0, le=100)] = 10.0  # journal the dose each time it passes a multiple
    # turn tracks louder than this (LUFS, EBU R128: -23; quiet music -20) down to it, so none jumps out; None: off
    normalise_to: Annotated[float, Field(ge=-40, le=-10)] | None = None
    parse_timeout: Duration = 2.0           # a track VLC cannot read within this is skipped


class MusicPlay(Model):
    """Play a playlist (a file or folder in `playlists_dir`); without `volume` the level stays as it is."""

    playlist: Annotated[str, Field(min_length=1)]
    volume: Volume | None = None


# `silence`: fade out over the crossfade and stay silent (a phase's choice).
# `stop`: fade out over `fade_out` (the emergency preset).
MusicSpec = Literal["silence", "stop"] | MusicPlay


def as_spec(music: MusicSpec | str) -> MusicSpec:
    """A spec from the short forms the core may pass: `"silence"`, `"stop"` or a playlist name."""
    if isinstance(music, MusicPlay):
        return music
    if music in ("silence", "stop"):
        return cast(MusicSpec, music)
    return MusicPlay(playlist=music)
