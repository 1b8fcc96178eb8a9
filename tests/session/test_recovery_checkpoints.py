"""Recovery from a checkpoint and the events after it rebuilds exactly what a replay of every event does.

Property: any sequence of events, written through the real `Journal` (its writer thread, its SQLite) with the
recovery record checkpointed at random moments as the runner does it, recovers to the same record as a replay
of the whole session, and to the record the room held in memory. Then the whole room: a session on a test
clock with random controls, restarted once from its checkpoint and once with the checkpoint removed (a
journal from before checkpoints), comes back the same. And a journal without the checkpoint table opens,
gets it, and recovers by replay.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.journal.store import Journal
from room_controller.lighting.state import LightChange
from room_controller.session import recovery
from room_controller.session import timeline as tl
from room_controller.session.recovery import RECOVERY_KINDS, Record
from tests.rooms import load
from tests.session.test_session_api import AUTH, PLACES

LIGHTS = ["ceiling", "floor", "gone"]   # "gone": a light in the journal that the room no longer has
ROOM_LIGHTS = {"ceiling", "floor"}
PRESETS = ["calm", "emergency", "check-in"]

numbers = st.floats(min_value=0, max_value=30000, allow_nan=False, allow_infinity=False)
texts = st.text(max_size=12)
lights = st.lists(st.sampled_from(LIGHTS), max_size=3, unique=True)


@st.composite
def timelines(draw) -> dict:
    durations = draw(st.lists(st.one_of(st.none(), numbers), min_size=1, max_size=5))
    return {"durations": tuple(durations), "anchor_index": draw(st.integers(0, len(durations) - 1)),
            "anchor_at": draw(numbers)}


changes = st.fixed_dictionaries({}, optional={
    "on": st.booleans(), "brightness": st.floats(0, 100, allow_nan=False),
    "colour": st.one_of(st.builds(lambda k: {"kelvin": k}, st.floats(1500, 6500, allow_nan=False)),
                        st.builds(lambda r: {"rgb": r}, st.tuples(*[st.integers(0, 255)] * 3)))}).map(
    lambda c: {**{k: v for k, v in c.items() if k != "colour"}, **c.get("colour", {})})

events = st.one_of(
    st.tuples(st.just("session_started"), st.fixed_dictionaries({"label": texts, "timeline": timelines()})),
    st.tuples(st.just("label_changed"), st.fixed_dictionaries({"label": texts, "was": texts})),
    st.tuples(st.just("phase_extended"), st.fixed_dictionaries({"phase": st.integers(0, 4), "by_s": numbers,
                                                                "timeline": timelines()})),
    st.tuples(st.just("phase_moved"), st.fixed_dictionaries({"to": st.integers(0, 4), "reason": st.just("next"),
                                                             "timeline": timelines()})),
    st.tuples(st.just("reminder_shown"), st.fixed_dictionaries({"reminder": st.integers(1, 6), "text": texts,
                                                                "due_s": numbers, "phase": texts})),
    st.tuples(st.just("reminder_acknowledged"), st.fixed_dictionaries({"reminder": st.integers(1, 6), "text": texts})),
    st.tuples(st.just("preset_on"), st.fixed_dictionaries({"preset": st.sampled_from(PRESETS),
                                                           "replaced": st.none() | st.sampled_from(PRESETS)})),
    st.tuples(st.just("preset_off"), st.fixed_dictionaries({"preset": st.sampled_from(PRESETS)})),
    st.tuples(st.just("dose_step"), st.fixed_dictionaries({"dose": st.floats(0, 300, allow_nan=False)})),
    st.tuples(st.just("music_changed"), st.one_of(
        st.fixed_dictionaries({"volume": st.integers(0, 100)}, optional={"playing": st.booleans()}),
        st.just({"follow_phase": True}), st.just({"playing": False}), st.just({"next": True}))),
    st.tuples(st.just("manual_change"), st.fixed_dictionaries({"lights": lights, "change": changes,
                                                               "during_preset": st.none() | st.just("calm")})),
    st.tuples(st.just("follow_phase"), st.fixed_dictionaries({"lights": lights})),
    st.tuples(st.just("note"), st.fixed_dictionaries({"text": texts})),             # not read by recovery
    st.tuples(st.just("device_online"), st.fixed_dictionaries({"light": st.sampled_from(LIGHTS)})),
)


def room_view(record: Record) -> tuple:
    """What the runner takes from a record into the room."""
    return (record.timeline_or(tl.Timeline((60.0, None))), record.label, record.pending(),
            max(record.reminders, default=0), record.dose, record.preset, record.chosen_volume,
            record.held_adjustments(ROOM_LIGHTS))


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(events, st.booleans(), st.sampled_from(["this", "this", "this", "other", None])),
                max_size=60))
def test_a_checkpoint_and_the_events_after_it_recover_what_a_replay_of_every_event_does(steps):
    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(Path(folder))
        try:
            this = journal.new_session("p", "P", "", {}, 0.0)
            other = journal.new_session("q", "Q", "", {}, 0.0)
            live = Record()   # the runner's: follows the session's events as they are journaled

            def journaled(session_id, kind, data):
                if session_id == this and kind in RECOVERY_KINDS:
                    live.add(kind, data)

            journal.on_append = journaled
            for i, ((kind, data), checkpoint, session) in enumerate(steps):
                session_id = {"this": this, "other": other, None: None}[session]
                journal.append(kind, data, wall=float(i), mono=float(i), session_id=session_id, session_s=float(i))
                if checkpoint:
                    journal.save_recovery(this, live.to_json())
            everything = recovery.replay(journal.read.events(this, RECOVERY_KINDS))
            recovered = recovery.load(journal.read, this)
            assert recovered == everything
            assert room_view(recovered) == room_view(everything) == room_view(live)
        finally:
            journal.close()


def test_a_journal_from_before_checkpoints_opens_gets_the_table_and_recovers_by_replay(tmp_path):
    journal = Journal(tmp_path)
    session_id = journal.new_session("p", "P", "", {}, 0.0)
    journal.append("manual_change", {"lights": ["ceiling"], "change": {"brightness": 30}}, wall=0.0, mono=0.0,
                   session_id=session_id)
    journal.close()
    with sqlite3.connect(tmp_path / Journal.FILE) as db:
        db.execute("DROP TABLE recovery")
    journal = Journal(tmp_path)
    try:
        assert journal.read.recovery_point(session_id) is None
        record = recovery.load(journal.read, session_id)
        assert record.held_adjustments({"ceiling"}) == {"ceiling": LightChange(brightness=30)}
        journal.save_recovery(session_id, record.to_json())
        upto, saved = journal.read.recovery_point(session_id)
        assert (upto, Record.from_json(saved)) == (1, record)   # up to the session's one row
    finally:
        journal.close()


def test_a_checkpoint_of_another_version_is_not_read_and_the_session_is_replayed(tmp_path):
    journal = Journal(tmp_path)
    try:
        session_id = journal.new_session("p", "P", "", {}, 0.0)
        journal.append("preset_on", {"preset": "calm"}, wall=0.0, mono=0.0, session_id=session_id)
        journal.save_recovery(session_id, '{"version": 0}')
        assert recovery.load(journal.read, session_id).preset == "calm"
    finally:
        journal.close()


# -- the whole room ------------------------------------------------------------------------------------------

ROOM = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"},
        {"id": "floor", "profile": "tasmota", "device": "floorlamp"}]


def started(config, catalogue, clock: ManualClock) -> App:
    app = App(config, catalogue, clock=clock, audio=False, web=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    app.loop.settle()
    return app


def control(app: App, rng: random.Random, session_id: int) -> None:
    """One thing a therapist does, through the HTTP API; a refusal (no next phase, no preset on) is fine."""
    light = rng.choice(["", "/ceiling", "/floor"])
    setting = rng.choice([{"brightness": 5}, {"brightness": 70, "kelvin": 2200}, {"color": "#FF10C8"},
                          {"brightness": 20, "kelvin": 4000}, {"on": False}])
    adjust = ("PATCH", f"/api/lights{light}", {**setting, "transition": "0s"})
    method, path, body = rng.choice([
        adjust, adjust, adjust,
        ("PATCH", f"/api/lights{light}", {"follow_phase": True}),
        ("POST", f"/api/presets/{rng.choice(['calm', 'check-in'])}", None),
        ("DELETE", "/api/presets/active", None),
        ("DELETE", "/api/presets/active", None),
        ("POST", "/api/session/next", None),
        ("POST", "/api/session/previous", None),
        ("POST", "/api/session/extend", {"duration": rng.choice(["1m", "5m"])}),
        ("POST", f"/api/reminders/{rng.randrange(1, 4)}/ack", None),
        ("PATCH", f"/api/sessions/{session_id}", {"label": rng.choice(["A-1", "B-2"])}),
        ("POST", "/api/notes", {"text": "a note"}),
    ])
    answer = app.flask.test_client().open(path, method=method, json=body, headers=AUTH)
    assert answer.status_code in (200, 404, 409), (method, path, answer.get_data(as_text=True))


def recovered_room(config, catalogue, clock: ManualClock) -> tuple:
    """What the panel sees of the room after the restart (session, preset, every light's target), and the
    adjustments it holds."""
    app = started(config, catalogue, clock)
    try:
        return app.room.snapshot(), app.loop.call(lambda: dict(app.room.layers.manual))
    finally:
        app.stop()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_room_restarted_from_its_checkpoint_is_the_room_a_full_replay_gives(tmp_path, broker, room_id, seed):
    rng = random.Random(seed)
    config, catalogue = load(tmp_path, broker, room_id, ROOM, **PLACES)
    clock = ManualClock()
    app = started(config, catalogue, clock)
    try:
        session_id = app.loop.call(app.room.session.start, "ketamine-1h", "P-1")["session"]
        for _ in range(120):
            control(app, rng, session_id)
            clock.advance(rng.choice([0.0, 0.5, 1.0, 3.0, 45.0, 120.0]))
    finally:
        app.stop()
    with sqlite3.connect(config.data_dir / Journal.FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM recovery").fetchone()[0] == 1
    replayed = tmp_path / "replayed"
    shutil.copytree(config.data_dir, replayed)
    with sqlite3.connect(replayed / Journal.FILE) as db:
        db.execute("DELETE FROM recovery")   # as a journal from before checkpoints
    later = clock.monotonic() + 5
    from_checkpoint = recovered_room(config, catalogue, ManualClock(start=later))
    from_replay = recovered_room(config.model_copy(update={"data_dir": replayed}), catalogue,
                                 ManualClock(start=later))
    assert from_checkpoint[0]["session"]["id"] == session_id
    assert from_checkpoint == from_replay
