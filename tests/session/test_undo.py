"""A phase move can be undone: the math (a move undone at any time is as if it never happened), the runner on a
test clock and a real broker (light, reminders, journal, the window, a restart), the HTTP API and the command
topic, and the music of the phase it returns to on real VLC."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.app import App
from room_controller.core.session import CLOCK_PROBLEM, UNDO_WINDOW
from room_controller.errors import Conflict
from room_controller.i18n import translator
from room_controller.infrastructure.clock import ManualClock
from room_controller.reporting import html, report
from room_controller.session import timeline as tl
from tests.audio.capture import write_m3u, write_tone
from tests.broker import MARK, Capture
from tests.rooms import load
from tests.session.test_sessions import PLACES, room  # noqa: F401 - room is a fixture: rooms on a test clock

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer test-token-0123456789"}
LAMP = "zigbee2mqtt/Ceiling lamp/set"
# ketamine-1h: Arrival 10 min (40 %, 2700 K), Onset 10 min (15 %, 2200 K, a 5-minute fade), Journey 30 min,
# Re-entry 15 min, Closing open
ONSET_AT = 600.0

# -- the math ------------------------------------------------------------------------------------------------

durations = st.lists(st.one_of(st.none(), st.floats(1, 4 * 3600)), min_size=1, max_size=8).map(tuple)
window = st.lists(st.tuples(st.sampled_from(["pause", "resume", "wait"]), st.floats(0, UNDO_WINDOW)), max_size=6)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(durations=durations, data=st.data())
def test_a_move_undone_at_any_time_is_as_if_it_never_happened(durations, data):
    """Whatever the session's state, whichever move (next, previous, any phase, a corrected session time),
    and whatever happens before the undo (pauses, resumes, time passing): after the undo the session has the
    timeline it would have had, and its clock says the session time it would say, now and from then on."""
    last = len(durations) - 1
    timeline = tl.Timeline(durations, data.draw(st.integers(0, last)), data.draw(st.floats(0, 3600)))
    now = 5000.0
    at = data.draw(st.floats(timeline.anchor_at, timeline.anchor_at + 8 * 3600))   # session time of the move
    never = tl.SessionClock(at, None if data.draw(st.booleans()) else now)          # the clock without the move
    here = tl.phase_at(timeline, at).index
    move = data.draw(st.sampled_from(["next", "previous", "jump", "clock"]))
    moved, clock, shift = timeline, never, 0.0
    if move == "clock":
        to = data.draw(st.floats(0, 10 * 3600))
        clock, shift = never.set(to, now), to - at
        assert clock.elapsed(now) == to
    else:
        target = {"next": here + 1, "previous": here - 1}.get(move, data.draw(st.integers(0, last)))
        moved = tl.move_to(timeline, target, at)
    for step, wait in data.draw(window):   # the same happens in the room that moved and the one that did not
        if step == "pause":
            clock, never = clock.pause(now), never.pause(now)
        elif step == "resume":
            clock, never = clock.resume(now), never.resume(now)
        now += wait
    undone, undone_clock = tl.undo(moved, clock, timeline, shift, now)
    assert undone == timeline
    later = data.draw(st.floats(0, 8 * 3600))
    for t in (now, now + later):
        assert undone_clock.elapsed(t) == pytest.approx(never.elapsed(t), abs=1e-6)
        assert undone_clock.paused == never.paused
    if not shift:   # a phase move leaves the clock alone: the phase it left counts on exactly
        assert undone_clock == never
        assert tl.phase_at(undone, never.elapsed(now + later)) == tl.phase_at(timeline, never.elapsed(now + later))


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(durations=durations, at=st.floats(0, 8 * 3600), by=st.floats(1, 3600), target=st.integers(0, 7))
def test_an_extension_made_between_a_move_and_its_undo_stands(durations, at, by, target):
    timeline = tl.Timeline(durations)
    moved = tl.move_to(timeline, target, at)
    index = tl.phase_at(moved, at).index
    if durations[index] is None:
        return   # an open phase cannot be extended
    undone, _ = tl.undo(tl.extend(moved, index, by), tl.SessionClock(at, None), timeline, 0.0, 0.0)
    assert undone == tl.extend(timeline, index, by)


def test_the_clock_never_goes_before_the_session_start():
    clock = tl.SessionClock(100.0, 50.0)
    assert clock.shifted(-500, 60.0) == tl.SessionClock(0.0, 60.0)
    assert tl.SessionClock(30.0, None).shifted(15, 99.0) == tl.SessionClock(45.0, None)


# -- the runner, on a test clock and a real broker ---------------------------------------------------------


def session(app) -> dict:
    return app.room.snapshot()["session"]


def rows(app, *kinds) -> list[tuple[str, float, dict]]:
    with app.journal.reader() as reader:
        session_id = reader.sessions()[0]["id"]
        return [(r.kind, r.session_s, r.data) for r in reader.events(session_id, list(kinds) or None)]


def lamp_commands(cap: Capture, app) -> list[dict]:
    return [json.loads(m.payload) for m in cap.sent_until_now(app) if m.topic == LAMP]


def in_onset(app, clock: ManualClock, seconds: float) -> None:
    app.loop.call(app.room.session.start, "ketamine-1h")
    clock.advance(ONSET_AT + seconds)
    app.loop.call(app.room.touch)
    assert (session(app)["phase"]["name"], session(app)["phase"]["elapsed_s"]) == ("Onset", seconds)


def moved_and_undone(app, clock: ManualClock) -> None:
    """2:42 into Onset, Next phase, and its undo 6 s later."""
    in_onset(app, clock, 162)
    app.loop.call(app.room.session.next)
    clock.advance(6)
    app.loop.call(app.room.session.undo)


@pytest.mark.slow
def test_next_undone_goes_back_to_the_phase_at_the_time_it_has_reached_with_its_light(room, broker):
    clock = ManualClock()
    app = room(clock)
    cap = Capture(broker, LAMP, MARK)
    in_onset(app, clock, 162)   # 2:42 in, 7:18 left
    lamp_commands(cap, app)
    app.loop.call(app.room.session.next)
    assert session(app)["phase"]["name"] == "Journey"
    assert session(app)["undo"] == {"undoes": "next", "back_to": "Onset", "index": 1, "phase_elapsed_s": 162.0,
                                    "expires_in_s": UNDO_WINDOW, "window_s": UNDO_WINDOW}
    clock.advance(6)
    assert session(app)["undo"]["phase_elapsed_s"] == 168.0 and session(app)["undo"]["expires_in_s"] == 9.0
    assert [c["brightness"] for c in lamp_commands(cap, app)] == [20]   # Journey: 8 %
    state = app.loop.call(app.room.session.undo)["session"]
    assert (state["phase"]["name"], state["phase"]["elapsed_s"], state["phase"]["remaining_s"]) == ("Onset", 168, 432)
    assert state["elapsed_s"] == ONSET_AT + 168 and state["undo"] is None
    # Onset's scene again, its 5-minute fade shortened by the 2:48 it had run
    assert lamp_commands(cap, app) == [{"state": "ON", "brightness": 38, "color_temp": 455, "transition": 132}]
    clock.advance(10)
    assert session(app)["phase"]["elapsed_s"] == 178   # counts on
    moves = [(kind, s, {k: v for k, v in d.items() if k != "timeline"})
             for kind, s, d in rows(app, "phase_moved", "phase_entered", "phase_undone")][2:]
    assert moves == [
        ("phase_moved", ONSET_AT + 162, {"to": 2, "reason": "next"}),
        ("phase_entered", ONSET_AT + 162, {"index": 2, "name": "Journey", "planned_s": 1800.0, "transition_s": 300.0,
                                           "recovered": False}),
        ("phase_undone", ONSET_AT + 168, {"undid": "next", "moved_to": "Journey", "back_to": "Onset", "index": 1,
                                          "phase_elapsed_s": 168.0, "elapsed_s": ONSET_AT + 168, "after_s": 6.0}),
        ("phase_entered", ONSET_AT + 168, {"index": 1, "name": "Onset", "planned_s": 600.0, "transition_s": 132.0,
                                           "recovered": False, "returned": True})]
    assert rows(app, "phase_undone")[0][2]["timeline"] == {"durations": [600.0, 600.0, 1800.0, 900.0, None],
                                                           "anchor_index": 0, "anchor_at": 0.0}
    cap.close()


@pytest.mark.slow
def test_previous_loses_no_phase_clock_once_undone_and_a_paused_session_counts_no_time(room):
    clock = ManualClock()
    app = room(clock)
    in_onset(app, clock, 162)
    app.loop.call(app.room.session.previous)
    assert (session(app)["phase"]["name"], session(app)["phase"]["elapsed_s"]) == ("Arrival", 0)
    app.loop.call(app.room.session.pause)
    clock.advance(8)                                          # paused: the window runs, session time does not
    assert session(app)["undo"]["phase_elapsed_s"] == 162 and session(app)["undo"]["expires_in_s"] == 7
    state = app.loop.call(app.room.session.undo)["session"]
    assert (state["phase"]["name"], state["phase"]["elapsed_s"], state["paused"]) == ("Onset", 162, True)
    app.loop.call(app.room.session.resume)
    clock.advance(3)
    assert session(app)["phase"]["elapsed_s"] == 165


def test_undo_is_refused_with_nothing_to_undo_after_its_window_and_after_the_session(room):
    clock = ManualClock()
    app = room(clock)
    with pytest.raises(Conflict, match="no session is running"):
        app.loop.call(app.room.session.undo)
    app.loop.call(app.room.session.start, "ketamine-1h")
    with pytest.raises(Conflict, match="^there is no phase move to undo$"):
        app.loop.call(app.room.session.undo)
    app.loop.call(app.room.session.next)
    clock.advance(UNDO_WINDOW)
    assert session(app)["undo"]["expires_in_s"] == 0            # the last moment it is offered
    clock.advance(0.5)
    assert session(app)["undo"] is None
    with pytest.raises(Conflict, match=f"^too late to undo: a phase move can be undone for {UNDO_WINDOW:g} s after it$"):
        app.loop.call(app.room.session.undo)
    assert session(app)["phase"]["name"] == "Onset"
    app.loop.call(app.room.session.next)                        # a second move: the newest is the one undone
    clock.advance(2)
    app.loop.call(app.room.session.next)
    assert session(app)["undo"]["back_to"] == "Journey"
    app.loop.call(app.room.session.undo)
    assert (session(app)["phase"]["name"], session(app)["phase"]["elapsed_s"]) == ("Journey", 2)
    with pytest.raises(Conflict, match="no phase move to undo"):   # undone once: nothing more to undo
        app.loop.call(app.room.session.undo)
    assert [d["undid"] for _, _, d in rows(app, "phase_undone")] == ["next"]
    app.loop.call(app.room.session.next)
    app.loop.call(app.room.session.stop)
    app.loop.call(app.room.session.start, "ketamine-1h")          # a new session has nothing to undo
    with pytest.raises(Conflict, match="no phase move to undo"):
        app.loop.call(app.room.session.undo)


@pytest.mark.slow
def test_reminders_due_in_the_window_come_once_and_earlier_ones_are_not_repeated(room):
    clock = ManualClock()
    app = room(clock)
    app.loop.call(app.room.session.start, "ketamine-1h")
    clock.advance(475)                 # Arrival's reminder comes at 8:00
    app.loop.call(app.room.session.next)
    clock.advance(10)
    assert [r["text"] for r in session(app)["reminders"]] == []
    app.loop.call(app.room.session.undo)
    clock.advance(1)
    assert [(r["text"], r["due_s"]) for r in session(app)["reminders"]] == [("Dose when the client is ready", 480)]
    for reminder in session(app)["reminders"]:
        app.loop.call(app.room.session.acknowledge, reminder["id"])
    clock.advance(200)                 # on into Onset: Arrival's reminder is not shown again
    assert (session(app)["phase"]["name"], session(app)["reminders"]) == ("Onset", [])
    assert [(s, d["text"]) for _, s, d in rows(app, "reminder_shown")] == [(485, "Dose when the client is ready")]


@pytest.mark.slow
def test_a_corrected_session_time_can_be_undone_and_the_doubt_comes_back(room):
    clock = ManualClock()
    app = room(clock)
    in_onset(app, clock, 162)
    app.room.problems[CLOCK_PROBLEM] = "the time the room was off is not counted"
    app.loop.call(app.room.session.set_elapsed, 2400.0)          # Journey, 20:00 in
    assert session(app)["undo"] == {"undoes": "clock", "back_to": "Onset", "index": 1, "phase_elapsed_s": 162.0,
                                    "expires_in_s": UNDO_WINDOW, "window_s": UNDO_WINDOW}
    assert CLOCK_PROBLEM not in app.room.problems
    clock.advance(4)
    state = app.loop.call(app.room.session.undo)["session"]
    assert (state["elapsed_s"], state["phase"]["name"], state["phase"]["elapsed_s"]) == (ONSET_AT + 166, "Onset", 166)
    assert app.room.problems[CLOCK_PROBLEM] == "the time the room was off is not counted"
    assert rows(app, "phase_undone")[0][2]["undid"] == "clock"


@pytest.mark.slow
def test_a_restart_replays_the_move_and_its_undo_and_offers_no_undo(room, tmp_path):
    clock = ManualClock()
    app = room(clock)
    moved_and_undone(app, clock)
    clock.advance(30)
    app.loop.call(app.room.session.next)                          # this one stands: Journey from 13:18
    clock.advance(2)
    app.loop.call(app.room.touch)
    app.stop()
    again = room(ManualClock(start=clock.monotonic() + 5))
    state = session(again)
    assert (state["phase"]["name"], state["phase"]["elapsed_s"], state["undo"]) == ("Journey", 7, None)
    with pytest.raises(Conflict, match="no phase move to undo"):
        again.loop.call(again.room.session.undo)


@pytest.mark.slow
def test_a_restart_after_an_undo_resumes_in_the_phase_it_went_back_to(room):
    clock = ManualClock()
    app = room(clock)
    moved_and_undone(app, clock)
    clock.advance(1)
    app.loop.call(app.room.touch)
    app.stop()
    again = room(ManualClock(start=clock.monotonic() + 5))
    state = session(again)
    assert (state["phase"]["name"], state["phase"]["elapsed_s"]) == ("Onset", 174)
    assert rows(again, "session_recovered")


@pytest.mark.slow
def test_the_report_shows_a_move_and_its_undo_as_such(room):
    """Not as two ordinary phases: Onset goes on, with the move it made and took back under it; in the list of
    events the move and the phase it began say they were undone."""
    clock = ManualClock()
    app = room(clock)
    moved_and_undone(app, clock)
    clock.advance(60)
    app.loop.call(app.room.session.stop)
    with app.journal.reader() as reader:
        record = reader.sessions()[0]
        rows = reader.events(record["id"])
        record = reader.session(record["id"])
    built = report.build(record, rows)
    moved = [r.id for r in rows if r.kind == "phase_moved" or (r.kind == "phase_entered" and r.data["name"] == "Journey")]
    assert [(p["name"], p["start_s"], p["end_s"]) for p in built["phases"]] == [("Arrival", 0, ONSET_AT),
                                                                               ("Onset", ONSET_AT, ONSET_AT + 228)]
    assert built["phases"][1]["undone"] == built["undone_moves"] == [
        {"kind": "move", "at_s": ONSET_AT + 162, "to": "Journey", "after_s": 6.0, "events": moved}]
    page = html.render(built, rows, "Test room")
    moved_at = translator("en").time(record["started_wall"] + ONSET_AT + 162)
    assert re.findall(r"<tr class=quiet data-undone><td colspan=4>(.*?)</td>", page) == [
        f"Moved to Journey by hand at {moved_at} · undone 6 s later"]
    assert [text for _, text in re.findall(r'<tr data-event="(\d+)" data-kind="phase_\w+"[^>]*>.*?<td>(.*?)</td></tr>',
                                           page)][2:] == [
        "Moved on to the next phase <span class=quiet>· undone 6 s later</span>",
        "Phase Journey began (planned 30 min) <span class=quiet>· undone 6 s later</span>",
        "Move to Journey undone after 6 s: back to Onset, 2:48 into it",
        "Phase Onset went on (move undone)"]
    assert re.findall(r'<tr data-event="(\d+)"[^>]* data-undone>', page) == [str(i) for i in moved]
    assert 'data-name="Journey"' not in html.timeline_svg(built, built["end_s"])


# -- over HTTP and the command topic ------------------------------------------------------------------------


@pytest.mark.slow
def test_undo_over_http_answers_200_inside_the_window_and_409_outside(room):
    clock = ManualClock()
    app = room(clock, web=True)
    base = f"http://127.0.0.1:{app.web.port}"
    in_onset(app, clock, 162)
    assert requests.post(f"{base}/api/session/next", headers=AUTH).status_code == 200
    clock.advance(6)
    answer = requests.post(f"{base}/api/session/undo", headers=AUTH)
    assert answer.status_code == 200
    phase = answer.json()["session"]["phase"]
    assert (phase["name"], phase["elapsed_s"]) == ("Onset", 168)
    answer = requests.post(f"{base}/api/session/undo", headers=AUTH)
    assert (answer.status_code, answer.json()["error"]["message"]) == (409, "there is no phase move to undo")
    requests.post(f"{base}/api/session/previous", headers=AUTH)
    clock.advance(UNDO_WINDOW + 1)
    answer = requests.post(f"{base}/api/session/undo", headers=AUTH)
    assert (answer.status_code, answer.json()["error"]["message"]) == (
        409, f"too late to undo: a phase move can be undone for {UNDO_WINDOW:g} s after it")
    assert requests.post(f"{base}/api/session/undo").status_code == 401


def test_undo_on_the_command_topic(room, broker, room_id):
    app = room()
    button = Capture(broker, "nothing/#")
    app.loop.call(app.room.session.start, "ketamine-1h")
    app.loop.call(app.room.session.next)
    app.loop.settle()
    button.publish(f"therapy-room/{room_id}/command", '{"session": "undo"}')
    deadline = time.monotonic() + 5
    while session(app)["phase"]["name"] != "Arrival":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert [d["back_to"] for _, _, d in rows(app, "phase_undone")] == ["Arrival"]
    button.close()


# -- the music, on real VLC ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_undo_brings_back_the_track_the_client_was_hearing_where_it_stood(tmp_path, broker, room_id):
    """Arrival's second track a few seconds in; a mistaken Next phase and its undo: that track again from about
    where it was, crossfaded in. A move that stands plays the new phase's music from its start, as before."""
    music = shutil.copytree(ROOT / "playlists", tmp_path / "playlists")   # arrival's first track made short
    write_tone(music / "short.wav", 440, 3.0)
    write_m3u(music / "arrival.m3u", ["#EXTINF:3,Short", "short.wav", "#EXTINF:40,Soft rain", "demo/soft-rain.ogg"])
    write_m3u(music / "onset.m3u", ["#EXTINF:40,Deep hum", "demo/deep-hum.ogg"])
    config, catalogue = load(tmp_path, broker, room_id, [], audio={"vlc_args": ["--aout=adummy"], "crossfade": "1s"},
                             profiles_dir=PLACES["profiles_dir"])
    app = App(config, catalogue, web=False).start()

    def heard() -> tuple[str | None, str | None, float]:
        snap = app.room.music.snapshot()
        return snap["track"], snap["playlist"], snap["position_s"]

    def started() -> list[tuple[str, str, float]]:
        app.loop.settle()
        return [(d["title"], d["playlist"], d["position_s"]) for _, _, d in rows(app, "track_started")]

    try:
        app.loop.call(app.room.session.start, "ketamine-1h")
        wait_for(lambda: heard()[0] == "Soft rain" and heard()[2] >= 3.0)
        app.loop.call(app.room.session.next)
        left_at = heard()[2]   # where Soft rain stood at the move (the music thread takes it a moment later;
        # the panel's position runs on between the music thread's reports, so it may be a tick ahead of it)
        wait_for(lambda: [d["track"] for d in app.room.music.snapshot()["decks"]] == ["Deep hum"])
        app.loop.call(app.room.session.undo)
        wait_for(lambda: len(app.room.music.snapshot()["decks"]) == 2)   # crossfading, not a cut
        wait_for(lambda: [d["track"] for d in app.room.music.snapshot()["decks"]] == ["Soft rain"])
        assert heard()[:2] == ("Soft rain", "arrival.m3u")
        *before, back = started()
        assert before == [("Short", "arrival.m3u", 0), ("Soft rain", "arrival.m3u", 0), ("Deep hum", "onset.m3u", 0)]
        assert back[:2] == ("Soft rain", "arrival.m3u") and left_at - 0.2 <= back[2] <= left_at + 1.0
        assert heard()[2] >= back[2] + 1.0   # and plays on from there
        app.loop.call(app.room.session.next)   # this move stands
        wait_for(lambda: heard()[:2] == ("Deep hum", "onset.m3u"))
        assert started()[-1] == ("Deep hum", "onset.m3u", 0)
    finally:
        app.stop()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)
