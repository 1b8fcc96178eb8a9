"""The journal: every change in the room, one row per event, in SQLite (WAL) in `data_dir`.

Rows carry wall time (for people), monotonic time and session time (for order and recovery). A running
session also keeps a checkpoint row — its session time, the monotonic and wall time it was taken at, and the
boot it was taken in — rewritten every few seconds, so a restart knows how much real time has passed.
Recovery and reports read only this file.

A journal that cannot be opened or fails its integrity check is moved aside (never overwritten) and a new
one begun; the service says so in `health`. A write that fails (disk full) is logged and reported, and the
room carries on; the preset that holds the room is kept in `standing` as well, which a full disk cannot
refuse (journal.standing). The journal holds session labels and notes: it is created owner-only (0600), and
SQLite gives its -wal and -shm files the same mode.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from room_controller.core.errors import Refused
from room_controller.journal.standing import Standing

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
"""
STANDING = ("preset_on", "preset_off")   # events whose outcome `standing` keeps as well


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
    """Used from the core loop only (one connection, one thread)."""

    FILE = "journal.db"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILE
        self.problem: str | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.standing = Standing(self.path.parent)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_name(f"{self.FILE}.broken-{time.strftime('%Y%m%dT%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(str(self.path) + suffix)
                if part.exists():
                    part.rename(Path(str(aside) + suffix))
            self.problem = (f"the journal could not be read ({exc}); it was kept as {aside.name} "
                            f"and a new one begun")
            log.error(self.problem)
            self._db = self._open()

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
            db.executescript(SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self._db.close()
        self.standing.close()

    # -- writing -----------------------------------------------------------------------------------------------

    def append(self, kind: str, data: dict, *, wall: float, mono: float, session_id: int | None = None,
               session_s: float | None = None) -> int:
        if kind in STANDING:   # first, where a full disk cannot refuse it
            self.standing.write({"preset": data.get("preset") if kind == "preset_on" else None, "wall": wall})
        return self._write("INSERT INTO events (session_id, wall, mono, session_s, kind, data) VALUES (?,?,?,?,?,?)",
                           (session_id, wall, mono, session_s, kind, json.dumps(data, default=str)))

    def new_session(self, profile_id: str, profile_name: str, label: str, profile: dict, wall: float) -> int:
        return self._write("INSERT INTO sessions (profile_id, profile_name, label, started_wall, profile) "
                           "VALUES (?,?,?,?,?)", (profile_id, profile_name, label, wall, json.dumps(profile)))

    def end_session(self, session_id: int, wall: float) -> None:
        self._write("UPDATE sessions SET ended_wall=? WHERE id=?", (wall, session_id))
        self._write("DELETE FROM checkpoints WHERE session_id=?", (session_id,))

    def set_label(self, session_id: int, label: str) -> None:
        self._write("UPDATE sessions SET label=? WHERE id=?", (label, session_id))

    def checkpoint(self, point: Checkpoint) -> None:
        self._write("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?,?,?)",
                    (point.session_id, point.session_s, point.mono, point.wall, point.boot_id, int(point.paused)))

    def delete_sessions_ended_before(self, wall: float) -> list[int]:
        """Retention: the sessions that ended before `wall`, with their events, deleted in one transaction."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            ids = [r[0] for r in self._db.execute("SELECT id FROM sessions WHERE ended_wall IS NOT NULL AND "
                                                  "ended_wall < ? ORDER BY id", (wall,))]
            for table, column in (("events", "session_id"), ("checkpoints", "session_id"), ("sessions", "id")):
                self._db.executemany(f"DELETE FROM {table} WHERE {column}=?", [(i,) for i in ids])
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise JournalError(f"old sessions could not be deleted: {exc}") from exc
        return ids

    def tidy(self) -> None:
        """The nightly care SQLite asks for: fold the WAL back into the file and let the planner learn."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("PRAGMA optimize")
        except sqlite3.Error as exc:
            raise JournalError(f"the journal could not be tidied: {exc}") from exc

    def backup(self, target: Path) -> None:
        """A consistent copy in `target` (owner-only) by SQLite's online backup, on a connection of its own:
        safe from any thread while the loop writes."""
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

    def _write(self, sql: str, args: tuple) -> int:
        try:
            cursor = self._db.execute(sql, args)
        except sqlite3.Error as exc:
            self.problem = f"the journal cannot be written: {exc}"
            log.error(self.problem)
            raise JournalError(self.problem) from exc
        if self.problem and self.problem.startswith("the journal cannot be written"):
            self.problem = None
        assert cursor.lastrowid is not None   # an INSERT's row
        return cursor.lastrowid

    def reader(self) -> Reader:
        """A connection of its own for another thread (reports): WAL lets it read while the loop writes."""
        return Reader(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False))

    @property
    def read(self) -> Reader:
        return Reader(self._db)


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

    def each_event(self, session_id: int, kinds: Iterable[str] | None = None) -> Iterator[Row]:
        """The session's events in order, read as they are used: a report of any length in little memory."""
        sql = "SELECT id, session_id, wall, mono, session_s, kind, data FROM events WHERE session_id=?"
        args: list[Any] = [session_id]
        if kinds is not None:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        for r in self._db.execute(sql + " ORDER BY id", args):
            yield Row(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]))

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
