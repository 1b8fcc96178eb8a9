"""Loudness and the sound dose, measured from what is played: libebur128 checked against EBU Tech 3341's
own test signals, real libvlc on the test clock for the dose (NIOSH 85 dBA / 8 h, 3 dB exchange), and the
captured output of real libvlc for the per-track normalisation."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import soundfile
from hypothesis import given
from hypothesis import strategies as st

from room_controller.audio import dose, loudness
from room_controller.audio.settings import MusicPlay

from .capture import levels, write_m3u, write_tone
from .conftest import FADE, settle
from .test_output import start_music


def sine(path, dbfs: float, seconds: float = 20.0, freq: float = 1000.0, rate: int = 48000):
    """A stereo sine whose peak is `dbfs` on both channels: EBU Tech 3341 cases 1 and 2 use 1 kHz."""
    t = np.arange(int(rate * seconds)) / rate
    wave = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)
    soundfile.write(str(path), np.column_stack([wave, wave]), rate, subtype="PCM_24")
    return path


def sines(path, parts: list[tuple[float, float]], rate: int = 48000):
    """A stereo 1 kHz sine in parts of (peak dBFS, seconds), one after another: EBU Tech 3341's cases 3 to 5."""
    t = np.arange(int(rate * sum(seconds for _, seconds in parts))) / rate
    level = np.concatenate([np.full(int(rate * seconds), 10 ** (dbfs / 20)) for dbfs, seconds in parts])
    wave = level * np.sin(2 * np.pi * 1000 * t[:len(level)])
    soundfile.write(str(path), np.column_stack([wave, wave]), rate, subtype="PCM_24")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("dbfs", [-23.0, -33.0])
def test_loudness_is_what_ebu_tech_3341_says(tmp_path, dbfs):
    """EBU Tech 3341 (2016) table 1, cases 1 and 2: a 1 kHz stereo sine at -23 (-33) dBFS is -23.0 (-33.0)
    LUFS, +-0.1 LU. Measured the way the service does, in a child process, and cached."""
    path = sine(tmp_path / "tone.wav", dbfs)
    assert loudness.known(path) == (False, None)
    assert loudness.measure(path) == pytest.approx(dbfs, abs=0.1)
    assert loudness.known(path)[0]
    path.write_bytes(b"not audio")   # replaced under the same name: measured again, and it has no loudness
    assert loudness.known(path) == (False, None)
    assert loudness.measure(path) is None


@pytest.mark.parametrize("parts", [
    [(-36, 10), (-23, 60), (-36, 10)],                        # case 3: the relative gate leaves the -36 dBFS out
    [(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)],  # case 4: the absolute gate leaves the -72 out too
    [(-26, 20), (-20, 20.1), (-26, 20)],                      # case 5: every part counts, mixed to -23
], ids=["case3", "case4", "case5"])
@pytest.mark.slow
def test_the_gates_are_what_ebu_tech_3341_says(tmp_path, parts):
    """EBU Tech 3341 (2016) table 1, cases 3 to 5: each is -23.0 LUFS, +-0.1 LU, through both gates of
    ITU-R BS.1770-4 (the absolute at -70 LUFS, the relative 10 LU under the ungated level)."""
    assert loudness.integrated_lufs(sines(tmp_path / "gates.wav", parts)) == pytest.approx(-23.0, abs=0.1)


def test_too_short_or_silent_has_no_loudness(tmp_path):
    """Under one 400 ms gating block, or silence all through: no loudness (the dose then says it estimates)."""
    assert loudness.integrated_lufs(sine(tmp_path / "short.wav", -23.0, seconds=0.3)) is None
    assert loudness.integrated_lufs(sines(tmp_path / "silent.wav", [(-200, 3)])) is None


def test_the_calibration_reading_goes_through_the_cubic_volume():
    assert loudness.calibration_dba(70.0, 100) == 70.0
    assert loudness.calibration_dba(70.0, 50) == pytest.approx(70.0 + 18.06, abs=0.01)   # v=50 is -18 dB
    with pytest.raises(ValueError):
        loudness.calibration_dba(70.0, 0)


@pytest.mark.slow
def test_the_dose_counts_the_tracks_loudness_the_volume_and_the_calibration(room, events, tmp_path):
    clock, make = room
    sine(tmp_path / "ref.wav", -20.0, freq=1000.0)        # as loud as the calibration reference
    sine(tmp_path / "loud.wav", -8.0, freq=1000.0)        # 12 dB louder
    for name in ("ref.wav", "loud.wav"):
        loudness.measure(tmp_path / name)
    write_m3u(tmp_path / "ref.m3u", ["ref.wav"])
    write_m3u(tmp_path / "loud.m3u", ["loud.wav"])
    # 100 dBA for the reference at volume 100: the daily dose lasts 8 h / 2^(15/3) = 900 s
    music = make(calibration_dba=100, max_volume=100, dose_warnings=[50, 100])
    music.reset_dose()
    music.play(MusicPlay(playlist="ref.m3u", volume=100))
    settle(clock, FADE + 1)
    counted = music.snapshot()["dose"]
    assert (counted["calibrated"], counted["dba"], counted["estimated"]) == (True, pytest.approx(100, abs=0.2), False)
    before = counted["percent"]
    settle(clock, 90.0)
    assert music.snapshot()["dose"]["percent"] - before == pytest.approx(10.0, abs=0.3)
    assert [e["dose"] for e in events.of("dose_step")] == [10.0]
    music.set_volume(50)    # -18 dB through VLC's cubic volume
    settle(clock, 30.0)
    assert music.snapshot()["dose"]["dba"] == pytest.approx(100 + 60 * math.log10(0.5), abs=0.3)
    music.follow_phase()    # the therapist's 50 would hold over the next music
    music.play(MusicPlay(playlist="loud.m3u", volume=100))
    settle(clock, FADE + 30)
    assert music.snapshot()["dose"]["dba"] == pytest.approx(112, abs=0.2)
    settle(clock, 450.0)
    assert [w["percent"] for w in events.of("dose_warning")] == [50, 100]
    music.reset_dose()   # the next session
    settle(clock, 0.1)
    assert music.snapshot()["dose"]["percent"] < 1


@pytest.mark.slow
def test_without_calibration_there_is_no_number_and_nothing_is_measured(room, tmp_path):
    clock, make = room
    music = make()
    music.play(MusicPlay(playlist="calm.m3u", volume=60))
    settle(clock, FADE + 5)
    assert music.snapshot()["dose"] == {"calibrated": False, "percent": None, "dba": None, "estimated": False,
                                        "warnings": [50.0, 100.0]}
    assert loudness.known(tmp_path / "c.wav") == (False, None)


@pytest.mark.slow
def test_normalisation_brings_a_loud_track_down_to_a_quiet_ones_level(tmp_path, events, audio_path, recording):
    write_tone(tmp_path / "a.wav", 440, 4.0, amplitude=0.5)     # about -6.7 LUFS
    write_tone(tmp_path / "b.wav", 660, 4.0, amplitude=0.125)   # 12 dB quieter, still above the target
    for name in ("a.wav", "b.wav"):
        loudness.measure(tmp_path / name)
    name = write_m3u(tmp_path / "ab.m3u", ["a.wav", "b.wav"])
    music = start_music(tmp_path, events, audio_path, crossfade="1s", max_volume=100, normalise_to=-20)
    music.play(MusicPlay(playlist=name, volume=100))
    events.wait_for("track_started", 2, timeout=10)
    time.sleep(3.0)
    music.stop(fade=False)
    samples = recording.stop()
    a, b = max(levels(samples, 440)), max(levels(samples, 660))
    assert a == pytest.approx(b, rel=0.08), (a, b)          # 4 times apart in the files
    assert b == pytest.approx(0.125 * 10 ** ((-20 - loudness.known(tmp_path / "b.wav")[1]) / 20), rel=0.1)


@given(st.floats(40, 120), st.floats(1, 100), st.floats(-30, 30))
def test_a_louder_track_adds_its_loudness_to_the_level(calibration, volume, louder):
    assert dose.level_dba(calibration, [volume], [louder]) == pytest.approx(
        calibration + louder + 60 * math.log10(volume / 100))
    assert dose.level_dba(calibration, [volume]) == dose.level_dba(calibration, [volume], [0.0])


def test_niosh_allows_8_hours_at_85_dba_halved_every_3_db():
    assert dose.allowed_seconds(85) == pytest.approx(8 * 3600)
    assert dose.allowed_seconds(88) == pytest.approx(4 * 3600)
    assert dose.allowed_seconds(91) == pytest.approx(2 * 3600)
    assert dose.dose_percent(85, 4 * 3600) == pytest.approx(50)
    assert dose.dose_percent(None, 3600) == 0


@given(st.floats(40, 120), st.floats(1, 100))
def test_level_follows_the_calibration_through_the_cubic_law(calibration, v):
    assert dose.level_dba(calibration, [100]) == pytest.approx(calibration)
    assert dose.level_dba(calibration, [v]) == pytest.approx(calibration + 60 * math.log10(v / 100))
    # two decks at equal volume are 3 dB louder than one
    assert dose.level_dba(calibration, [v, v]) == pytest.approx(calibration + 60 * math.log10(v / 100)
                                                               + 10 * math.log10(2))
    assert dose.level_dba(calibration, [0, 0]) is None
