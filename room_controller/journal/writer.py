"""The journal's writer: one thread and one connection that commit, in order, what the core queued.

The core only queues a row (microseconds) and goes on; the writer takes everything waiting, up to BATCH rows,
and commits it in one transaction, so a busy room costs one commit per batch rather than one per row. A caller
whose answer promises that its row is kept (a note, a reading) waits for the commit of the batch that holds it,
and hears if that row failed. A batch that fails is written again row by row, so only the rows that cannot be
written are lost, as before batching. Work that needs the connection itself (retention, the nightly tidying)
runs on this thread between batches.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

BATCH = 500      # rows per transaction at most: a durable row waits for at most this many before it
WAIT = 30.0      # seconds a caller waits for its commit before it is told the journal did not answer


class Ticket:
    """A caller waiting for its row (or its job) to be done: `error` is None when it was."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.result: Any = None

    def wait(self) -> Any:
        if not self.done.wait(WAIT):   # still queued: it may yet be written, so "not confirmed", not "lost"
            raise TimeoutError(f"the journal's writer has not confirmed the write within {WAIT:.0f} s; it may "
                               "still be written")
        if self.error is not None:
            raise self.error
        return self.result


_STOP = object()


class Writer:
    def __init__(self, db: sqlite3.Connection, report: Callable[[str | None], None]) -> None:
        """`report(error)` after every batch, on this thread: None when every row of it was written."""
        self._db = db
        self._report = report
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    def write(self, sql: str, args: tuple, wait: bool = False) -> int | None:
        """Queue a row; with `wait`, return its row id once it is committed (the error that refused it raised
        if it failed)."""
        if not wait:
            self._queue.put((sql, args, None))
            return None
        ticket = Ticket()
        self._queue.put((sql, args, ticket))
        return ticket.wait()

    def flush(self) -> None:
        """Return once everything queued before is committed (or has failed)."""
        ticket = Ticket()
        self._queue.put((None, None, ticket))
        ticket.wait()

    def call(self, job: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run `job(connection)` on the writer's thread after what is queued; its result, or its exception."""
        ticket = Ticket()
        self._queue.put((job, None, ticket))
        return ticket.wait()

    def close(self) -> None:
        """Commit what is queued, then stop and close the connection."""
        self._queue.put(_STOP)
        self._thread.join()
        self._db.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            rows: list[tuple] = []
            while item is not _STOP:
                if callable(item[0]):
                    self._commit(rows)
                    rows = []
                    self._job(*item)
                else:
                    rows.append(item)
                if len(rows) >= BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._commit(rows)
            if item is _STOP:
                return

    def _commit(self, rows: list) -> None:
        if not rows:
            return
        db = self._db
        try:
            db.execute("BEGIN")
            done: list[int | None | Exception] = [None if sql is None else db.execute(sql, args).lastrowid
                                                  for sql, args, _ in rows]
            db.execute("COMMIT")
        except Exception:   # noqa: BLE001 - whatever refused it, the thread lives on and tries each row
            self._rollback()
            done = [self._one(sql, args) for sql, args, _ in rows]
        for (_, _, ticket), outcome in zip(rows, done):
            if ticket is not None:
                if isinstance(outcome, Exception):
                    ticket.error = outcome
                else:
                    ticket.result = outcome
                ticket.done.set()
        failed = [e for e in done if isinstance(e, Exception)]
        try:
            self._report(str(failed[-1]) if failed else None)
        except Exception:   # the word about a batch must not end the thread that writes the next one
            log.exception("the journal's writer could not report on a batch")

    def _one(self, sql: str | None, args: tuple) -> int | None | Exception:
        """A row on its own (autocommit): its row id, or the error that refused it."""
        if sql is None:
            return None
        try:
            return self._db.execute(sql, args).lastrowid
        except Exception as exc:   # noqa: BLE001 - told to the row's caller and in `report`
            return exc

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:   # SQLite may have rolled back by itself (a full disk)
            log.warning("the journal's rollback failed: %s", exc)

    def _job(self, job: Callable[[sqlite3.Connection], Any], _: None, ticket: Ticket) -> None:
        try:
            ticket.result = job(self._db)
        except BaseException as exc:   # noqa: BLE001 - the caller gets it, on its own thread
            ticket.error = exc
        ticket.done.set()
