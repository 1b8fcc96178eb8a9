"""The therapist's volume on the test clock, through real libvlc: it holds across phases, the snapshot tells
where the level is, where it is going and why, and it is announced while a ramp runs."""

from __future__ import annotations

import pytest

from room_controller.audio.decks import READ_AHEAD, TICK
from room_controller.audio.music import ANNOUNCE_GAP
from room_controller.audio.settings import MusicPlay

from .conftest import FADE, LENGTH, settle

pytestmark = pytest.mark.slow   # real libvlc: each music thread takes half a second to check its output


def level(music) -> tuple:
    snap = music.snapshot()
    return snap["volume"], snap["target_volume"], snap["requested_volume"], snap["volume_source"]


def deck_volumes(music) -> list[float]:
    return [d["volume"] for d in music.snapshot()["decks"]]


def playing_at_40(room, **settings):
    """Music playing ab.m3u at the phase's volume 40, faded in, rising 5 points a second unless told."""
    clock, make = room
    music = make(**{"max_rise_per_s": 5, **settings})
    music.play(MusicPlay(playlist="ab.m3u", volume=40))
    settle(clock, FADE)
    return clock, music


def test_the_choice_holds_across_a_phase_change_until_the_phase_is_followed(room):
    clock, music = playing_at_40(room)
    music.set_volume(25)
    settle(clock, 5.0)
    assert level(music) == (25, 25, 25, "therapist")
    music.play(MusicPlay(playlist="calm.m3u", volume=60))        # the next phase asks for 60
    settle(clock, FADE + 1.0)
    assert music.snapshot()["track"] == "c" and level(music) == (25, 25, 25, "therapist")
    assert max(deck_volumes(music)) <= 25
    music.follow_phase()
    settle(clock, 1.0)
    assert level(music) == (30, 60, 60, "phase")                 # on its way, no faster than 5 a second
    settle(clock, 6.0)
    assert level(music) == (60, 60, 60, "phase")


def test_max_volume_limits_the_request_and_says_so(room):
    clock, music = playing_at_40(room, max_volume=50, max_rise_per_s=10)
    music.set_volume(70)
    settle(clock, 0.5)
    snap = music.snapshot()
    assert (snap["volume"], snap["target_volume"], snap["requested_volume"]) == (45, 50, 70)
    assert snap["limited"] is True and snap["max_volume"] == 50
    settle(clock, 3.0)
    assert music.snapshot()["volume"] == 50 and max(deck_volumes(music)) <= 50
    music.set_volume(30)
    settle(clock, 0.0)
    assert music.snapshot()["limited"] is False


def test_a_preset_sets_its_level_while_it_holds_and_the_choice_comes_back(room):
    clock, music = playing_at_40(room)
    music.set_volume(25)
    settle(clock, 5.0)
    music.hold(MusicPlay(playlist="calm.m3u", volume=35))        # calm, with its own quieter music
    settle(clock, FADE + 1.0)
    assert level(music) == (35, 35, 35, "therapist") and music.snapshot()["held"]
    music.play(MusicPlay(playlist="ab.m3u", volume=60))          # a phase change under calm waits
    settle(clock, 1.0)
    assert level(music)[:3] == (35, 35, 35)
    music.release()
    settle(clock, FADE + 1.0)
    assert level(music) == (25, 25, 25, "therapist") and not music.snapshot()["held"]


def test_a_choice_made_under_a_preset_stays_after_the_release(room):
    clock, make = room
    music = make(max_rise_per_s=5)
    music.play(MusicPlay(playlist="ab.m3u", volume=40))
    music.hold(MusicPlay(playlist="calm.m3u", volume=35))
    settle(clock, FADE + 2.0)
    music.set_volume(20)
    settle(clock, 2.0)
    assert level(music) == (20, 20, 20, "therapist")
    music.release()
    settle(clock, FADE + 1.0)
    assert level(music) == (20, 20, 20, "therapist")
    music.play(MusicPlay(playlist="calm.m3u", volume=50))
    settle(clock, 1.0)
    assert level(music)[1:] == (20, 20, "therapist")


def test_the_end_of_a_session_ends_the_choice(room):
    clock, make = room
    music = make()
    music.play(MusicPlay(playlist="ab.m3u", volume=40))
    music.set_volume(25)
    settle(clock, FADE)
    music.play("stop")
    settle(clock, 5.0)
    music.play(MusicPlay(playlist="ab.m3u", volume=30))          # the next client's first phase
    settle(clock, 0.0)
    assert level(music) == (30, 30, 30, "phase")


def test_a_rise_waits_while_the_music_fades_out(room):
    clock, make = room
    music = make(max_rise_per_s=5)
    music.play(MusicPlay(playlist="quiet.m3u", volume=30))       # a, a 10 s silence, b
    settle(clock, LENGTH - FADE - READ_AHEAD + 0.5)               # a is fading out into the silence
    before = deck_volumes(music)
    music.set_volume(70)
    for _ in range(int(FADE / TICK)):
        settle(clock, TICK)
        now = deck_volumes(music)
        assert all(v <= b for v, b in zip(now, before))           # the fading track never swells
        before = now
    assert music.snapshot()["target_volume"] == 70                # where it is going, with the next music
    settle(clock, 10.0)
    assert music.snapshot()["track"] == "b" and music.snapshot()["volume"] == 70


def test_the_snapshot_is_announced_while_a_ramp_runs(room):
    seen: list[tuple[float, dict]] = []
    made: list = []
    clock, music = playing_at_40(room, on_change=lambda: made and seen.append((clock.monotonic(), made[0].snapshot())))
    made.append(music)
    seen.clear()
    music.set_volume(70)                                          # 6 s of ramp
    arrives = clock.monotonic() + 6.0
    for _ in range(8):
        settle(clock, 1.0)
    times = [t for t, _ in seen]
    volumes = [snap["volume"] for _, snap in seen]
    assert all(b - a >= ANNOUNCE_GAP - 1e-9 for a, b in zip(times, times[1:]))   # a few times a second at most
    assert len(seen) >= 6.0 / (ANNOUNCE_GAP + TICK)                              # and all through the ramp
    assert volumes == sorted(volumes) and volumes[-1] == 70                      # the end is never lost,
    assert min(t for t, snap in seen if snap["volume"] == 70) <= arrives + ANNOUNCE_GAP + 1e-6   # nor late
    assert seen[0][1]["target_volume"] == 70
    unchanged = [(a, b) for (_, a), (_, b) in zip(seen, seen[1:])
                 if {**a, "position_s": 0} == {**b, "position_s": 0}]
    assert not unchanged                                                          # only news is announced
