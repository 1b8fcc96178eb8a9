"""When things happen: a ManualClock drives the music thread, real libvlc plays into its dummy output."""

from __future__ import annotations

import math

import pytest

from room_controller.audio.decks import READ_AHEAD
from room_controller.audio.settings import MusicPlay

from .conftest import FADE, LENGTH, settle, tracks, write_m3u


@pytest.mark.slow
def test_the_next_track_crossfades_in_before_the_end(room):
    clock, make = room
    music = make()
    music.play(MusicPlay(playlist="ab.m3u", volume=50))
    settle(clock, 0)
    assert tracks(music) == ["a"]
    start = LENGTH - FADE - READ_AHEAD
    settle(clock, start - 0.1)
    assert tracks(music) == ["a"]
    settle(clock, 0.1 + FADE / 2)                      # halfway through the crossfade
    decks = {d["track"]: d["volume"] for d in music.snapshot()["decks"]}
    expected = 50 * math.cos(math.pi / 4) ** (1 / 3)   # equal power, through the cubic law
    assert decks["a"] == pytest.approx(expected, abs=1) and decks["b"] == pytest.approx(expected, abs=1)
    assert music.snapshot()["track"] == "b"
    settle(clock, FADE / 2 + 0.1)
    assert tracks(music) == ["b"]


@pytest.mark.slow
def test_a_silent_stretch_fades_out_waits_and_fades_in(room, events):
    clock, make = room
    music = make()
    music.play("quiet.m3u")
    settle(clock, LENGTH - READ_AHEAD + 0.1)          # a has faded out
    assert tracks(music) == [] and music.snapshot()["silence"]
    settle(clock, 9.0)
    assert tracks(music) == []
    settle(clock, 1.5)
    assert tracks(music) == ["b"]
    assert events.of("silence")[0]["seconds"] == 10


@pytest.mark.slow
def test_the_level_ramps_no_faster_than_allowed_and_stays_under_the_cap(room):
    clock, make = room
    music = make(max_rise_per_s=5)
    music.play(MusicPlay(playlist="ab.m3u", volume=40))
    settle(clock, FADE)
    music.set_volume(100)
    for second in range(1, 10):
        settle(clock, 1.0)
        assert music.snapshot()["volume"] <= min(80, 40 + 5 * second) + 1e-6
    assert music.snapshot()["volume"] == 80
    with pytest.raises(ValueError):
        music.set_volume(101)


@pytest.mark.slow
def test_a_held_preset_returns_to_the_phase_music_where_it_was(room, events):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    settle(clock, 5.0)
    music.hold(MusicPlay(playlist="calm.m3u", volume=30))
    settle(clock, FADE + 0.1)
    assert tracks(music) == ["c"] and music.snapshot()["held"]
    music.release()
    settle(clock, FADE + 0.1)
    assert tracks(music) == ["a"]
    assert events.of("track_started")[-1]["position_s"] == pytest.approx(5.0)


@pytest.mark.slow
def test_a_one_track_phase_resumed_near_its_end_starts_it_again(room, events, tmp_path):
    clock, make = room
    write_m3u(tmp_path / "one.m3u", ["a.wav"])
    music = make()
    music.play("one.m3u")
    settle(clock, LENGTH - 2 * FADE - READ_AHEAD + 2.0)   # too little left to fade in and out again
    music.hold("calm.m3u")
    settle(clock, 1.0)
    music.release()
    settle(clock, FADE + 1.0)        # the leaving deck hurried out first
    assert tracks(music) == ["a"] and music.snapshot()["playlist"] == "one.m3u"
    assert events.of("track_started")[-1]["position_s"] == 0
    assert not [e for e in events.of("audio_error") if "one.m3u" in e["message"]]


@pytest.mark.slow
def test_a_phase_change_under_a_preset_waits_for_the_release(room):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    music.hold("calm.m3u")
    settle(clock, FADE + 0.1)
    music.play("quiet.m3u")
    settle(clock, 1.0)
    assert tracks(music) == ["c"]
    music.release()
    settle(clock, FADE + 0.1)
    assert tracks(music) == ["a"] and music.snapshot()["playlist"] == "quiet.m3u"


@pytest.mark.slow
def test_next_during_a_crossfade_hurries_the_leaving_track(room):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    settle(clock, LENGTH - FADE - READ_AHEAD + 1.0)    # a -> b under way
    music.next()
    settle(clock, 1.0)
    assert music.snapshot()["track"] == "a"
    settle(clock, FADE)
    assert tracks(music) == ["a"]


@pytest.mark.slow
def test_pause_fades_out_and_freezes_the_position(room):
    clock, make = room
    music = make(fade_out=2)
    music.play("ab.m3u")
    settle(clock, 3.0)
    music.pause()
    settle(clock, 2.5)
    snap = music.snapshot()
    assert not snap["playing"] and snap["position_s"] == pytest.approx(5.0, abs=0.1)
    settle(clock, 60)
    assert music.snapshot()["position_s"] == pytest.approx(5.0, abs=0.1)
    music.resume()
    settle(clock, 1.0)
    assert music.snapshot()["playing"] and music.snapshot()["position_s"] == pytest.approx(6.0, abs=0.1)


@pytest.mark.slow
def test_stop_means_silence_at_once_after_a_short_fade(room, events):
    clock, make = room
    music = make(fade_out=1)
    music.play("ab.m3u")
    settle(clock, 3.0)
    music.hold("stop")
    settle(clock, 1.1)
    assert tracks(music) == [] and not music.snapshot()["playing"]
