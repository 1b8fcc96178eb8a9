"""The journal's writer thread: rows keep their order and their ids, a durable row is on disk when `append`
returns, a failed row is a problem (shown in health) while the rest of its batch is kept, reads see what was
queued before them, and closing writes what is queued."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.journal.store import Journal, JournalError
from tests.rooms import load
from tests.session.test_session_api import AUTH, LIGHTS, PLACES


def refuse(path: Path, kind: str) -> None:
    """A trigger that makes SQLite refuse every row of `kind`, as a full disk refuses them."""
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TRIGGER refuse_{kind} BEFORE INSERT ON events WHEN NEW.kind = '{kind}' "
                   "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")


def allow(path: Path, kind: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(f"DROP TRIGGER refuse_{kind}")


def committed(path: Path) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT id, kind, data FROM events ORDER BY id").fetchall()


@pytest.fixture
def journal(tmp_path):
    journal = Journal(tmp_path)
    yield journal
    journal.close()


def test_rows_keep_the_order_and_the_ids_append_gave_them(journal):
    session_id = journal.new_session("p", "P", "", {}, 0.0)
    ids = [journal.append("device_online" if i % 7 else "note", {"n": i}, wall=0.0, mono=float(i),
                          session_id=session_id) for i in range(3000)]
    assert ids == list(range(ids[0], ids[0] + 3000))
    with journal.reader() as reader:   # a reader sees everything queued before it was asked for
        rows = reader.events(session_id)
    assert [(r.id, r.data["n"]) for r in rows] == list(zip(ids, range(3000)))


def test_a_durable_row_is_on_disk_when_append_returns(journal):
    session_id = journal.new_session("p", "P", "", {}, 0.0)
    for kind in ("note", "vitals", "session_started"):
        event_id = journal.append(kind, {"text": "kept"}, wall=0.0, mono=0.0, session_id=session_id)
        assert committed(journal.path)[-1][:2] == (event_id, kind)   # read by a connection of its own


def test_a_refused_row_is_a_problem_the_rest_of_its_batch_is_kept_and_a_later_write_clears_it(journal):
    told = threading.Event()
    journal.on_problem = told.set
    refuse(journal.path, "device_offline")
    for i in range(200):   # many rows queued at once: batches, with refused rows among them
        journal.append("device_offline" if i % 50 == 0 else "device_online", {"n": i}, wall=0.0, mono=0.0)
    journal.flush()
    assert told.wait(5) and journal.problem.startswith("the journal cannot be written")
    assert [r[1] for r in committed(journal.path)] == ["device_online"] * 196
    with pytest.raises(JournalError):   # a durable row that is refused is never acknowledged
        refuse(journal.path, "note")
        journal.append("note", {"text": "lost"}, wall=0.0, mono=0.0)
    allow(journal.path, "note")
    told.clear()
    journal.append("note", {"text": "kept"}, wall=0.0, mono=0.0)
    assert told.wait(5) and journal.problem is None


def test_closing_writes_what_is_queued_and_ids_go_on_after_a_restart(tmp_path):
    journal = Journal(tmp_path)
    last = [journal.append("device_online", {}, wall=0.0, mono=0.0) for _ in range(2000)][-1]
    journal.close()
    assert len(committed(tmp_path / Journal.FILE)) == 2000
    again = Journal(tmp_path)
    try:
        assert again.append("device_online", {}, wall=0.0, mono=0.0) == last + 1
    finally:
        again.close()


@pytest.mark.slow
def test_a_write_that_fails_on_the_writer_thread_shows_in_health_and_the_room_carries_on(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
    app = App(config, catalogue, clock=ManualClock(), audio=False, web=False).start()
    client = app.flask.test_client()

    def problems() -> list[str]:
        app.loop.settle()
        return [p for p in client.get("/api/health").get_json()["problems"] if "journal" in p]

    def within(seconds: float, predicate) -> bool:
        """The room hears of the writer's word on its own loop, and publishes it after that batch."""
        deadline = time.monotonic() + seconds
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.01)
        return predicate()

    try:
        refuse(app.journal.path, "preset_on")
        assert client.post("/api/presets/calm", headers=AUTH).get_json() == {"preset": "calm"}
        assert within(5, problems) and problems()[0].startswith("the journal cannot be written")
        allow(app.journal.path, "preset_on")
        assert client.delete("/api/presets/active", headers=AUTH).status_code == 200
        assert within(5, lambda: not problems())
    finally:
        app.stop()


def test_two_journals_on_one_file_keep_every_row(tmp_path):
    """Not how the service runs (one room, one data_dir), but two rooms of one test process have done it: the ids
    one journal gave may be taken by the other, whose rows then take SQLite's next ones; none is lost."""
    first, second = Journal(tmp_path), Journal(tmp_path)
    try:
        for i in range(300):
            first.append("device_online", {"by": "first", "n": i}, wall=0.0, mono=0.0)
            second.append("device_online", {"by": "second", "n": i}, wall=0.0, mono=0.0)
        note = second.append("note", {"text": "kept"}, wall=0.0, mono=0.0)
        first.flush()
        second.flush()
        rows = committed(tmp_path / Journal.FILE)
        assert sorted(r[2] for r in rows if r[1] == "device_online") == sorted(
            f'{{"by": "{by}", "n": {i}}}' for by in ("first", "second") for i in range(300))
        assert (note, "note") in [r[:2] for r in rows]   # a durable row's id is the one it has
    finally:
        first.close()
        second.close()
