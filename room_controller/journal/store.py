"""The journal: every change in the room, one row per event, in SQLite (WAL) in `data_dir`.

Rows carry wall time (for people), monotonic time and session time (for order and recovery). A running
session also keeps a checkpoint row — its session time, the monotonic and wall time it was taken at, and the
boot it was taken in — rewritten every few seconds, so a restart knows how much real time has passed, and
its recovery record (session.recovery) with the id of the session's last row when it was written, so a
restart reads only the events after that. Recovery and reports read only this file.

The core does not wait for the disk: `append` gives the row its id and queues it for the writer's thread
(journal.writer), which commits in batches, in order. The rows whose answer promises they are kept (DURABLE:
a note, a reading, a session's start and end) wait for their commit, and are refused if it fails; any other
row is committed a moment later, or lost with the few queued with it if the process is killed then. Reads
wait for what is queued first, so a reader always sees every row written before it asked.

A journal that cannot be opened or fails its integrity check is moved aside (never overwritten) and a new
one begun; the service says so in `health`. A write that fails (disk full) is logged and reported, and the
room carries on; the preset that holds the room is kept in `standing` as well, which a full disk cannot
refuse (journal.standing). The journal holds session labels and notes: it is created owner-only (0600), and
SQLite gives its -wal and -shm files the same mode.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from room_controller.errors import Refused
from room_controller.journal.standing import Standing
from room_controller.journal.writer import Writer

T = TypeVar("T")

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER,
    wall REAL NOT NULL,
    mono REAL NOT NULL,
    session_s REAL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_session ON events(session_id, id);
CREATE INDEX IF NOT EXISTS events_session_kind ON events(session_id, kind, id);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    profile_id TEXT NOT NULL,
    profile_name TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    started_wall REAL NOT NULL,
    ended_wall REAL,
    profile TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    session_id INTEGER PRIMARY KEY,
    session_s REAL NOT NULL,
    mono REAL NOT NULL,
    wall REAL NOT NULL,
    boot_id TEXT NOT NULL,
    paused INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS recovery (
    session_id INTEGER PRIMARY KEY,
    upto INTEGER NOT NULL,
    record TEXT NOT NULL
);
"""
STANDING = ("preset_on", "preset_off")   # events whose outcome `standing` keeps as well
# Events whose answer says they are kept: the caller waits for their commit (and is refused if it fails)
DURABLE = frozenset({"note", "note_edited", "label_changed", "session_started", "session_stopped", "vitals",
                     "vitals_corrected", "vitals_notice_seen", "vitals_deleted"})
WRITE_PROBLEM = "the journal cannot be written"
# The id `append` gave the row; SQLite's next one where that is taken (a second writer on the same file)
INSERT_EVENT = ("INSERT INTO events (id, session_id, wall, mono, session_s, kind, data) VALUES "
                "((CASE WHEN EXISTS (SELECT 1 FROM events WHERE id=?1) THEN NULL ELSE ?1 END),?2,?3,?4,?5,?6,?7)")


@dataclass(frozen=True)
class Row:
    id: int
    session_id: int | None
    wall: float
    mono: float
    session_s: float | None
    kind: str
    data: dict

    def as_dict(self) -> dict:
        return {"id": self.id, "wall": self.wall, "session_s": self.session_s, "kind": self.kind, "data": self.data}


@dataclass(frozen=True)
class Checkpoint:
    session_id: int
    session_s: float
    mono: float
    wall: float
    boot_id: str
    paused: bool


class JournalError(Refused):
    """A write that failed (disk full): a request that only writes the journal is refused with it."""

    status = 503
    code = "journal"


class Journal:
    """Written from the core loop (one writer thread behind it); read from any thread."""

    FILE = "journal.db"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILE
        self.problem: str | None = None
        self.on_problem: Callable[[], object] | None = None   # `problem` changed (called on the writer's thread)
        self.on_append: Callable[[int | None, str, dict], None] | None = None   # (session, kind, data)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.standing = Standing(self.path.parent)
        try:
            db = self._open()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(f"{self.FILE}.broken-{time.strftime('%Y%m%dT%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(str(self.path) + suffix)
                if part.exists():
                    part.rename(Path(str(aside) + suffix))
            self.problem = (f"the journal could not be read ({exc}); it was kept as {aside.name} "
                            f"and a new one begun")
            log.error(self.problem)
            db = self._open()
        # ids are given here, in the order rows are queued, so a row has its id before it is written
        self._event_ids = itertools.count(db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM events").fetchone()[0])
        self._reads = self._read_only()
        self._closed = False
        self._writer = Writer(db, self._written)

    def _open(self) -> sqlite3.Connection:
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {ok}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # durable across a crash or kill; fast enough for the calm path
            db.executescript(SCHEMA)   # a journal from before a table was added gets it here
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _read_only(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    def close(self) -> None:
        """Commit what is queued, then close."""
        if not self._closed:
            self._closed = True
            self._writer.close()
            self._reads.close()
        self.standing.close()

    # -- writing -----------------------------------------------------------------------------------------------

    def append(self, kind: str, data: dict, *, wall: float, mono: float, session_id: int | None = None,
               session_s: float | None = None) -> int:
        """The new row's id (for a row that is not DURABLE, the id it takes when this is the file's only
        writer, as the service is); a DURABLE row once it is committed (JournalError if it could not be)."""
        if kind in STANDING:   # first, where a full disk cannot refuse it
            self.standing.write({"preset": data.get("preset") if kind == "preset_on" else None, "wall": wall})
        event_id = next(self._event_ids)
        written = self._write(INSERT_EVENT, (event_id, session_id, wall, mono, session_s, kind,
                                             json.dumps(data, default=str)), wait=kind in DURABLE)
        if self.on_append is not None:
            self.on_append(session_id, kind, data)
        return event_id if written is None else written

    def new_session(self, profile_id: str, profile_name: str, label: str, profile: dict, wall: float) -> int:
        session_id = self._write("INSERT INTO sessions (profile_id, profile_name, label, started_wall, profile) "
                                 "VALUES (?,?,?,?,?)", (profile_id, profile_name, label, wall, json.dumps(profile)),
                                 wait=True)
        assert session_id is not None   # an INSERT's row
        return session_id

    def end_session(self, session_id: int, wall: float) -> None:
        self._write("UPDATE sessions SET ended_wall=? WHERE id=?", (wall, session_id), wait=True)
        for table in ("checkpoints", "recovery"):
            self._write(f"DELETE FROM {table} WHERE session_id=?", (session_id,))

    def set_label(self, session_id: int, label: str) -> None:
        self._write("UPDATE sessions SET label=? WHERE id=?", (label, session_id), wait=True)

    def checkpoint(self, point: Checkpoint) -> None:
        self._write("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?,?,?)",
                    (point.session_id, point.session_s, point.mono, point.wall, point.boot_id, int(point.paused)))

    def save_recovery(self, session_id: int, record: str) -> None:
        """The running session's recovery record (session.recovery), of every event of it appended before,
        replacing the one before. It goes up to the session's last row when it is written, in order after
        those rows: the id recovery reads on from."""
        self._write("INSERT OR REPLACE INTO recovery VALUES "
                    "(?1, (SELECT COALESCE(MAX(id), 0) FROM events WHERE session_id=?1), ?2)", (session_id, record))

    def delete_sessions_ended_before(self, wall: float) -> list[int]:
        """Retention: the sessions that ended before `wall`, with their events, deleted in one transaction."""
        def delete(db: sqlite3.Connection) -> list[int]:
            try:
                db.execute("BEGIN IMMEDIATE")
                ids = [r[0] for r in db.execute("SELECT id FROM sessions WHERE ended_wall IS NOT NULL AND "
                                                "ended_wall < ? ORDER BY id", (wall,))]
                for table, column in (("events", "session_id"), ("checkpoints", "session_id"),
                                      ("recovery", "session_id"), ("sessions", "id")):
                    db.executemany(f"DELETE FROM {table} WHERE {column}=?", [(i,) for i in ids])
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise JournalError(f"old sessions could not be deleted: {exc}") from exc
            return ids
        return self._writer.call(delete)

    def call(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """`job(connection)` on the writer's thread, after every row queued before: the one connection that
        writes, for work beyond appending rows (a deletion); its result, or its exception."""
        return self._writer.call(job)

    def tidy(self) -> None:
        """The nightly care SQLite asks for: fold the WAL back into the file and let the planner learn."""
        def tidy(db: sqlite3.Connection) -> None:
            try:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.execute("PRAGMA optimize")
            except sqlite3.Error as exc:
                raise JournalError(f"the journal could not be tidied: {exc}") from exc
        self._writer.call(tidy)

    def backup(self, target: Path) -> None:
        """A consistent copy in `target` (owner-only) by SQLite's online backup, on a connection of its own:
        safe from any thread while the loop writes; what was queued before is in it."""
        self.flush()
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.unlink(missing_ok=True)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        source = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        copy = sqlite3.connect(tmp)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        os.replace(tmp, target)

    def flush(self) -> None:
        """Return once every row queued before is committed (or has failed, which `problem` says)."""
        if not self._closed:
            try:
                self._writer.flush()
            except TimeoutError as exc:
                log.error("%s: reading what is committed", exc)

    def _write(self, sql: str, args: tuple, wait: bool = False) -> int | None:
        """With `wait`: the row's id once committed."""
        if self._closed:
            raise JournalError("the journal is closed")
        try:
            return self._writer.write(sql, args, wait)
        except Exception as exc:   # refused (sqlite3.Error), or no answer in time: either way, not written
            raise JournalError(self.problem or f"{WRITE_PROBLEM}: {exc}") from exc

    def _written(self, error: str | None) -> None:
        """The writer's word after each batch (its thread): a failed write is a problem until one succeeds."""
        if error is not None:
            problem = f"{WRITE_PROBLEM}: {error}"
            if problem == self.problem:
                return
            log.error(problem)
            self.problem = problem
        elif self.problem and self.problem.startswith(WRITE_PROBLEM):
            self.problem = None
        else:
            return
        if self.on_problem is not None:
            self.on_problem()

    def reader(self) -> Reader:
        """A connection of its own for another thread (reports): WAL lets it read while the writer writes."""
        self.flush()
        return Reader(self._read_only())

    @property
    def read(self) -> Reader:
        """The core loop's reads, after what it queued is committed."""
        self.flush()
        return Reader(self._reads)


class Reader:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def running_session(self) -> tuple[int, dict, Checkpoint | None] | None:
        """The session that was running when the service last stopped, if any."""
        row = self._db.execute("SELECT id, profile FROM sessions WHERE ended_wall IS NULL "
                               "ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        point = self._db.execute("SELECT * FROM checkpoints WHERE session_id=?", (row[0],)).fetchone()
        checkpoint = Checkpoint(point[0], point[1], point[2], point[3], point[4], bool(point[5])) if point else None
        return row[0], json.loads(row[1]), checkpoint

    def events(self, session_id: int, kinds: Iterable[str] | None = None) -> list[Row]:
        return list(self.each_event(session_id, kinds))

    def each_event(self, session_id: int, kinds: Iterable[str] | None = None, after: int = 0) -> Iterator[Row]:
        """The session's events in order (those after id `after`), read as they are used: a report of any
        length in little memory."""
        sql = "SELECT id, session_id, wall, mono, session_s, kind, data FROM events WHERE session_id=? AND id>?"
        args: list[Any] = [session_id, after]
        if kinds is not None:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        for r in self._db.execute(sql + " ORDER BY id", args):
            yield Row(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]))

    def recovery_point(self, session_id: int) -> tuple[int, str] | None:
        """The session's newest recovery record (session.recovery) and the id of the last event it holds."""
        row = self._db.execute("SELECT upto, record FROM recovery WHERE session_id=?", (session_id,)).fetchone()
        return None if row is None else (row[0], row[1])

    def count(self, session_id: int) -> int:
        return self._db.execute("SELECT COUNT(*) FROM events WHERE session_id=?", (session_id,)).fetchone()[0]

    def session(self, session_id: int) -> dict | None:
        row = self._db.execute("SELECT id, profile_id, profile_name, label, started_wall, ended_wall, profile "
                               "FROM sessions WHERE id=?", (session_id,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "profile_id": row[1], "profile_name": row[2], "label": row[3],
                "started_wall": row[4], "ended_wall": row[5], "profile": json.loads(row[6])}

    def sessions(self, limit: int = 100) -> list[dict]:
        rows = self._db.execute("SELECT id, profile_id, profile_name, label, started_wall, ended_wall FROM sessions "
                                "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [{"id": r[0], "profile_id": r[1], "profile_name": r[2], "label": r[3], "started_wall": r[4],
                 "ended_wall": r[5]} for r in rows]
