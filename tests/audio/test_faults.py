"""Music when things go wrong under it: a track deleted from the playlist while it plays, and the audio
device hanging and coming back. The music says so, skips or waits, and plays
on; it never stops the room."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from room_controller.audio.music import Music
from room_controller.audio.settings import AudioSettings, MusicPlay
from room_controller.infrastructure.clock import SystemClock

from .capture import levels, write_m3u, write_tone

pytestmark = pytest.mark.slow


def test_a_track_deleted_while_the_one_before_plays_is_skipped(tmp_path, events, audio_path, recording):
    for name, freq, seconds in (("a.wav", 440, 3.0), ("b.wav", 550, 3.0), ("c.wav", 660, 8.0)):
        write_tone(tmp_path / name, freq, seconds)
    playlist = write_m3u(tmp_path / "abc.m3u", ["a.wav", "b.wav", "c.wav"])
    music = Music(AudioSettings(vlc_args=audio_path, crossfade="0.5s", max_volume=100), tmp_path, SystemClock(),
                  events.notify)
    music.start()
    try:
        music.play(MusicPlay(playlist=playlist, volume=100))
        events.wait_for("track_started")
        (tmp_path / "b.wav").unlink()   # the clinic tidies the music folder during a session
        (tmp_path / "a.wav").unlink()   # the playing file too: what is open plays to its end
        started = events.wait_for("track_started", 2, timeout=10)
        time.sleep(1.5)
        assert music.health() == "ok"
        assert music.snapshot()["track"] == "c"
    finally:
        music.stop(fade=False)
    samples = recording.stop()
    assert [s["file"].rsplit("/", 1)[1] for s in started] == ["a.wav", "c.wav"]
    skipped = events.of("track_skipped")
    assert [s["file"].rsplit("/", 1)[1] for s in skipped] == ["b.wav"]
    assert skipped[0]["reason"].startswith("file not found"), skipped
    a, c = levels(samples, 440), levels(samples, 660)
    assert max(a) > 0.4 and max(c) > 0.4      # both were heard, at full level
    # and nothing of the deleted one: 3 s of it would be some 60 windows at full level; a click or the crossfade's
    # edges on a loaded machine can leak into a window or two at 550 Hz (it is not a whole number of cycles in one)
    assert len([x for x in levels(samples, 550) if x > 0.05]) <= 2


def test_an_audio_device_that_hangs_is_reported_and_the_music_comes_back(tmp_path, events):
    """The device is an ALSA `file` PCM writing into a FIFO; its reader, stopped with SIGSTOP and continued,
    stands for a sound card that hangs (it stops taking samples, so VLC's writes block) and recovers."""
    fifo = tmp_path / "device.fifo"
    os.mkfifo(fifo)
    conf = tmp_path / "asound.conf"
    conf.write_text(f'pcm.rchang {{ type file slave.pcm {{ type null }} file "{fifo}" format "raw" }}\n')
    saved = os.environ.get("ALSA_CONFIG_PATH")
    os.environ["ALSA_CONFIG_PATH"] = str(conf)   # alsa-lib reads it again when it changes
    device = subprocess.Popen(["sh", "-c", f"while true; do cat {fifo} > /dev/null; done"], start_new_session=True)
    write_tone(tmp_path / "long.wav", 440, 60.0)
    playlist = write_m3u(tmp_path / "long.m3u", ["long.wav"])
    music = Music(AudioSettings(vlc_args=["--aout=alsa", "--alsa-audio-device=rchang"], crossfade="0.5s"),
                  tmp_path, SystemClock(), events.notify)
    music.start()
    try:
        assert music.health() == "ok", music.snapshot()["problem"]
        music.play(MusicPlay(playlist=playlist, volume=50))
        events.wait_for("track_started")
        time.sleep(1.0)
        os.killpg(device.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 30
        while music.health() == "ok" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [e["message"] for e in events.of("audio_error")] == [
            "the audio output stopped taking sound (device gone?)"]
        assert music.snapshot()["problem"] == "the audio output stopped taking sound (device gone?)"
        os.killpg(device.pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while music.health() != "ok" and time.monotonic() < deadline:
            time.sleep(0.1)
        snap = music.snapshot()
        assert (snap["health"], snap["playing"], snap["track"]) == ("ok", True, "long")
        assert snap["position_s"] > 1.0   # where it was, not from the start
        before = music._decks.active.out.counters()
        time.sleep(1.0)
        assert music._decks.active.out.counters()[1] > before[1]   # the device takes sound again
    finally:
        music.stop(fade=False)
        os.killpg(device.pid, signal.SIGKILL)
        device.wait(10)
        if saved is None:
            os.environ.pop("ALSA_CONFIG_PATH", None)
        else:
            os.environ["ALSA_CONFIG_PATH"] = saved
