"""Live state for open panels as Server-Sent Events, without Flask (webapp.http serves the streams).

Each open stream holds one server thread, so streams are capped below the server's thread count (a login,
the panel's PIN, or the api_token, gets at most `per_login` of them): the other requests of the pool always
find a thread (calm has threads of its own besides, webapp.server). A stream sends the room's state at once and again on every change
(at most every `MIN_GAP` s, always the newest), and a `ping` event when nothing changed for `PING` s: the
ping keeps the connection alive and lets the page see a dead link (an SSE comment is invisible to it).
A change to the alerts (one raised, sent or acknowledged) ends the gap: the floor hears of an emergency at
once, not after the last fade step's snapshot. `close()` ends every stream within a fraction of a second, so
stopping the server is not held up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Protocol

PING = 10.0
MIN_GAP = 0.1            # a fade changes the state many times a second; panels need at most ten
SLICE = 0.5              # how often a waiting stream looks whether the server is stopping
RETRY_MS = 1000          # the browser's own reconnect delay after a lost connection
SPARE_THREADS = 4        # server threads never taken by streams


class Source(Protocol):
    """What a stream follows: the room core, or the overview's collected rooms."""

    def wait_for_change(self, version: int, timeout: float) -> tuple[int, dict]: ...

    def snapshot(self) -> dict: ...

    def snapshot_json(self) -> bytes: ...


def alerts_of(source: Source) -> list[tuple]:
    """The alerts as a page shows them: which, whether sent (the room's own list), who saw them."""
    return [(a.get("id"), a.get("sent"), a.get("seen")) for a in source.snapshot().get("alerts") or ()]


class EventStreams:
    def __init__(self, room: Source, max_streams: int, threads: int, per_login: int | None = None) -> None:
        self._room = room
        self.limit = max(1, min(max_streams, threads - SPARE_THREADS))
        self.per_login = min(per_login or self.limit, self.limit)
        self._open = 0
        self._by_login: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()

    @property
    def count(self) -> int:
        return self._open

    def open(self, login: str = "") -> Stream | None:
        """A new stream for `login`, or None when a cap is reached or the server is stopping."""
        with self._lock:
            mine = self._by_login.get(login, 0)
            if self._open >= self.limit or mine >= self.per_login or self._closed.is_set():
                return None
            self._open += 1
            self._by_login[login] = mine + 1
        return Stream(self, login)

    def close(self) -> None:
        self._closed.set()

    def _release(self, login: str) -> None:
        with self._lock:
            self._open -= 1
            left = self._by_login.pop(login) - 1
            if left:
                self._by_login[login] = left

    def _events(self) -> Iterator[bytes]:
        room, closed = self._room, self._closed
        yield f"retry: {RETRY_MS}\n\n".encode()
        version, quiet = -1, 0.0
        while not closed.is_set():
            new, _ = room.wait_for_change(version, SLICE)
            if new != version:
                version, quiet = new, 0.0
                alerts = alerts_of(room)   # before the snapshot: an alert between the two is sent again, not held
                yield b"event: state\ndata: " + room.snapshot_json() + b"\n\n"
                self._gap(version, alerts)
                continue
            quiet += SLICE
            if quiet >= PING:
                quiet = 0.0
                yield b"event: ping\ndata: {}\n\n"

    def _gap(self, version: int, alerts: list[tuple]) -> None:
        """MIN_GAP after a snapshot, ended early by a change to the alerts (or by `close()`)."""
        deadline = time.monotonic() + MIN_GAP
        while not self._closed.is_set() and (left := deadline - time.monotonic()) > 0:
            new, _ = self._room.wait_for_change(version, left)
            if new != version:
                version = new
                if alerts_of(self._room) != alerts:
                    return


class Stream:
    """One panel's stream; `close()` (called by the WSGI server when the response ends) frees its place."""

    def __init__(self, streams: EventStreams, login: str) -> None:
        self._streams = streams
        self._login = login
        self._released = False
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[bytes]:
        return self._streams._events()

    def close(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._streams._release(self._login)
