"""A phase move undone brings back the music the client was hearing: the track that played when another phase's
music replaced it, from where it stood, with the room's crossfade; a move that stands changes the music as
before. A ManualClock drives the music thread, real libvlc plays into its dummy output."""

from __future__ import annotations

import pytest

from room_controller.audio.decks import READ_AHEAD
from room_controller.audio.settings import MusicPlay

from .conftest import FADE, LENGTH, settle, tracks

pytestmark = pytest.mark.slow   # real libvlc playing: seconds each

B_STARTS = LENGTH - FADE - READ_AHEAD   # ab.m3u: b crossfades in at 14.5 s


def started(events) -> list[tuple[str, float]]:
    return [(e["file"].rsplit("/", 1)[-1], e["position_s"]) for e in events.of("track_started")]


def test_an_undone_move_goes_back_to_the_track_where_it_stood(room, events):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    settle(clock, B_STARTS + 7.5)                 # b, 7.5 s in
    assert tracks(music) == ["b"]
    music.play(MusicPlay(playlist="calm.m3u", volume=30), "phase Journey")   # the move
    settle(clock, 6.0)
    assert tracks(music) == ["c"]
    music.play("ab.m3u", "phase Onset", resume=True)                       # its undo, 6 s later
    settle(clock, FADE / 2)
    assert sorted(tracks(music)) == ["b", "c"]    # the room's crossfade, not a cut
    settle(clock, FADE / 2 + 0.1)
    assert tracks(music) == ["b"] and music.snapshot()["playlist"] == "ab.m3u"
    assert started(events) == [("a.wav", 0), ("b.wav", 0), ("c.wav", 0), ("b.wav", 7.5)]
    assert 7.5 + FADE <= music.snapshot()["position_s"] <= 7.5 + FADE + 0.2
    settle(clock, LENGTH - 7.5 - FADE - FADE - READ_AHEAD)   # and the playlist goes on from there
    assert sorted(tracks(music)) == ["a", "b"] and started(events)[-1] == ("a.wav", 0)


def test_a_track_left_near_its_end_comes_back_as_the_next_one(room, events):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    settle(clock, B_STARTS + 12.0)                # b, too little left to fade in and out again
    music.play("calm.m3u")
    settle(clock, 6.0)
    music.play("ab.m3u", resume=True)
    settle(clock, FADE + 0.1)
    assert tracks(music) == ["a"]
    assert started(events)[-1] == ("a.wav", 0)


def test_an_undo_under_a_preset_goes_back_there_on_the_release(room, events):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    settle(clock, B_STARTS + 7.5)
    music.hold("calm.m3u")
    settle(clock, FADE + 0.1)
    music.play("quiet.m3u")                      # the move, under calm
    settle(clock, 3.0)
    music.play("ab.m3u", resume=True)            # undone, still under calm
    settle(clock, 1.0)
    assert tracks(music) == ["c"] and music.snapshot()["held"]
    music.release()
    settle(clock, FADE + 0.1)
    assert tracks(music) == ["b"] and music.snapshot()["playlist"] == "ab.m3u"
    assert started(events)[-1] == ("b.wav", 7.5)


def test_music_nothing_replaced_goes_on_as_it_is_paused_too(room, events):
    """A move to a phase without music of its own changed nothing: its undo leaves the music alone."""
    clock, make = room
    music = make(fade_out=1)
    music.play("ab.m3u")
    settle(clock, 5.0)
    music.pause()                                # fades out over a second, then stands at 6 s
    settle(clock, 2.0)
    music.play("ab.m3u", resume=True)
    settle(clock, 5.0)
    snap = music.snapshot()
    assert (snap["playing"], snap["position_s"]) == (False, pytest.approx(6.0, abs=0.1))
    assert started(events) == [("a.wav", 0)]


def test_a_move_that_stands_starts_the_phase_music_from_its_start(room, events):
    clock, make = room
    music = make()
    music.play("ab.m3u")
    settle(clock, B_STARTS + 7.5)
    music.play("calm.m3u")
    settle(clock, 6.0)
    music.play("ab.m3u")                         # a move on into a phase with the same music: not an undo
    settle(clock, FADE + 0.1)
    assert tracks(music) == ["a"]
    assert started(events)[-1] == ("a.wav", 0)
