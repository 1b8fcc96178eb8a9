"""Real files through real libvlc into a real (paced) audio path; assertions on the captured samples."""

from __future__ import annotations

import math
import statistics
import time

import pytest

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings, MusicPlay
from room_controller.infrastructure.clock import SystemClock

from .capture import levels, overlap_s, rms_levels, write_m3u, write_tone

WINDOW_S = 0.05


def start_music(tmp_path, events, vlc_args, **settings) -> Music:
    music = Music(AudioSettings(vlc_args=vlc_args, **settings), tmp_path, SystemClock(), events.notify)
    music.start()
    assert music.health() == "ok", music.snapshot()["problem"]
    return music


@pytest.mark.slow
def test_crossfade_is_equal_power_and_leaves_no_gap(tmp_path, events, audio_path, recording):
    write_tone(tmp_path / "a.wav", 440, 7.0)   # a 2 s fade-in, then A alone until its crossfade, 3.5 s before
    write_tone(tmp_path / "b.wav", 660, 8.0)   # its end (READ_AHEAD); B alone after it, before its own
    name = write_m3u(tmp_path / "ab.m3u", ["a.wav", "b.wav"])
    music = start_music(tmp_path, events, audio_path, crossfade="2s", max_volume=100)
    music.play(MusicPlay(playlist=name, volume=100))
    events.wait_for("track_started", 2, timeout=10)
    time.sleep(3.5)   # the crossfade, and B alone for a while
    music.stop(fade=False)
    samples = recording.stop()

    a, b = levels(samples, 440), levels(samples, 660)
    assert max(a) == pytest.approx(0.5, rel=0.1)  # volume 100 leaves the track's own level
    ref = statistics.median(x for x in a if x > 0.95 * max(a))   # A's level while it plays alone
    first = next(i for i, x in enumerate(a) if x > 0.95 * ref)
    last = max(i for i, x in enumerate(b) if x > 0.95 * ref)
    assert statistics.median(b[last - 10:last]) == pytest.approx(ref, rel=0.05)   # B alone, as loud as A
    power = [(a[i] ** 2 + b[i] ** 2) / ref ** 2 for i in range(first, last)]
    assert min(power) > 0.75 and max(power) < 1.25, (min(power), max(power))   # a linear fade dips to 0.5
    # A fades out to nothing: its player plays on until what VLC decoded ahead has been heard
    assert max(a[i] - a[i + 1] for i in range(first, last)) < 0.1 * ref
    # a crossfade, not a cut (both sound together for at least half the 2 s asked) nor a pile-up (the power
    # above stays level, and A is gone once B plays alone); how late the music thread ends it under load is a
    # figure, not a bound: bench/crossfade.py
    assert overlap_s(a, b) >= 1.0
    assert max(a[last - 8:last]) < 0.05 * ref   # the last 0.4 s: B alone
    both = [i for i in range(first, last) if a[i] > 0.05 * ref and b[i] > 0.05 * ref]
    # the two cross at -3 dB (a gain of 0.707 each), where a linear fade would cross at 0.5
    crossing = min(both, key=lambda i: abs(a[i] - b[i]))
    assert a[crossing] / ref == pytest.approx(math.sqrt(0.5), abs=0.1)
    assert b[crossing] / ref == pytest.approx(math.sqrt(0.5), abs=0.1)
    rms = rms_levels(samples)
    assert min(rms[first:last]) > 0.5 * (ref / math.sqrt(2))   # no gap anywhere between the tracks


def tone_with_a_volume_change(tmp_path, events, audio_path, recording, first: float, then: float,
                              **settings) -> tuple[float, list[float]]:
    """Play a 440 Hz tone at `first` and move the volume to `then` 1.5 s later.

    Returns the level Music reports at the end and the captured tone levels."""
    write_tone(tmp_path / "a.wav", 440, 8.0)
    name = write_m3u(tmp_path / "a.m3u", ["a.wav"])
    music = start_music(tmp_path, events, audio_path, crossfade="0.5s", **settings)
    music.play(MusicPlay(playlist=name, volume=first))
    events.wait_for("track_started")
    time.sleep(1.5)
    music.set_volume(then)
    time.sleep(3.5)
    volume = music.snapshot()["volume"]
    music.stop(fade=False)
    return volume, levels(recording.stop(), 440)


@pytest.mark.slow
def test_volume_never_exceeds_max_volume(tmp_path, events, audio_path, recording):
    volume, a = tone_with_a_volume_change(tmp_path, events, audio_path, recording, 90, 100,
                                          max_volume=50, max_rise_per_s=100)
    assert volume == 50
    allowed = 0.5 * (50 / 100) ** 3
    assert max(a) <= allowed * 1.1
    assert max(a) >= allowed * 0.9


@pytest.mark.slow
def test_a_ramp_rises_no_faster_than_allowed(tmp_path, events, audio_path, recording):
    _, a = tone_with_a_volume_change(tmp_path, events, audio_path, recording, 30, 70,
                                     max_volume=100, max_rise_per_s=20)
    volume = [100 * (x / 0.5) ** (1 / 3) for x in a]
    audible = [i for i, v in enumerate(volume) if v > 25]
    steady = volume[audible[0] + 12:audible[0] + 20]     # after the 0.5 s fade-in
    assert sum(steady) / len(steady) == pytest.approx(30, abs=2)
    assert max(volume) == pytest.approx(70, abs=2)
    span = 10                                              # 0.5 s
    rises = [(volume[i + span] - volume[i]) / (span * WINDOW_S)
             for i in range(audible[0] + 12, audible[-1] - span)]
    assert max(rises) <= 20 * 1.25
    assert max(rises) >= 20 * 0.6                          # it did ramp, at about the allowed rate


@pytest.mark.slow
def test_bad_tracks_are_skipped_without_a_gap(tmp_path, events, audio_path, recording):
    write_tone(tmp_path / "a.wav", 440, 4.0)
    write_tone(tmp_path / "b.wav", 660, 4.0)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.ogg").write_bytes(bytes(range(256)) * 80)
    name = write_m3u(tmp_path / "bad.m3u", ["a.wav", "missing.wav", "empty.wav", "corrupt.ogg", "b.wav"])
    music = start_music(tmp_path, events, audio_path, crossfade="1s", max_volume=100)
    music.play(MusicPlay(playlist=name, volume=100))
    started = events.wait_for("track_started", 2, timeout=10)
    time.sleep(1.5)
    music.stop(fade=False)
    samples = recording.stop()
    assert [s["file"].rsplit("/", 1)[1] for s in started[:2]] == ["a.wav", "b.wav"]
    skipped = [s["file"].rsplit("/", 1)[1] for s in events.of("track_skipped")]
    assert skipped == ["missing.wav", "empty.wav", "corrupt.ogg"]
    a, b = levels(samples, 440), levels(samples, 660)
    first = next(i for i, x in enumerate(a) if x > 0.45)
    last = max(i for i, x in enumerate(b) if x > 0.45)
    power = [(a[i] ** 2 + b[i] ** 2) / 0.25 for i in range(first, last)]
    assert min(power) > 0.5   # never below -3 dB: no gap where the bad files were


@pytest.mark.slow
def test_a_missing_output_device_is_reported_in_health(tmp_path, events):
    music = Music(AudioSettings(vlc_args=["--aout=alsa", "--alsa-audio-device=no-such-device"]), tmp_path,
                  SystemClock(), events.notify)
    music.start()
    try:
        assert music.health() == "error"
        assert "plays nothing" in music.snapshot()["problem"]
        assert events.of("audio_error")
    finally:
        music.stop(fade=False)


def test_bad_vlc_args_are_reported_in_health(tmp_path, events):
    music = Music(AudioSettings(vlc_args=["--no-such-option"]), tmp_path, SystemClock(), events.notify)
    music.start()
    music.play("anything.m3u")
    try:
        assert music.health() == "error"
        assert "vlc_args" in music.snapshot()["problem"]
    finally:
        music.stop(fade=False)
