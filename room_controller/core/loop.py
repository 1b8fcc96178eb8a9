"""The one thread that owns the room's state: it runs submitted work and timers, one at a time, in order.

Other threads (HTTP requests, the MQTT network thread, audio callbacks) never touch the state; they
`submit()` a function and, if they need the answer, wait on the returned future. Timers are kept in a heap
on the loop's own clock, so with a `ManualClock` a test drives hours of fades in moments.

Two lanes: work submitted `urgent` (calm, emergency, a release) runs before anything else waiting, at the
next boundary between two pieces of work, however long the ordinary queue is. While urgent work waits or
runs, the room's other threads take on no new work of their own (`yield_to_urgent`): Python runs one thread at
a time, and under load each thread that wants to run takes its turn with the core. The ordinary queue is bounded:
when it is full, `submit` raises `Busy` to its caller rather than letting a flood grow memory and delay
without end (docs/calm-lane.md).

A snapshot of the room is published after each batch of work, and also before a `call` is answered: a
client that is told its session started reads that session in the state it asks for next.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Literal

from room_controller.errors import Busy, Refused
from room_controller.infrastructure.clock import Clock

MAX_QUEUED = 2000   # ordinary work waiting; far above what a room makes, far below what a flood would
YIELD_LIMIT = 0.1   # seconds another thread waits for urgent work at most, so that a stuck core stops nothing

log = logging.getLogger(__name__)


class Timer:
    __slots__ = ("deadline", "seq", "fn", "cancelled")

    def __init__(self, deadline: float, seq: int, fn: Callable[[], Any]) -> None:
        self.deadline, self.seq, self.fn, self.cancelled = deadline, seq, fn, False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: Timer) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)


class Loop:
    def __init__(self, clock: Clock, name: str = "room-core", after_batch: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.name = name
        self._urgent: deque = deque()
        self._urgent_open = 0                  # urgent work submitted and not yet done
        self._no_urgent = threading.Event()    # set while there is none
        self._no_urgent.set()
        self._ordinary: deque = deque()
        self._wake = threading.Condition()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._running = False
        self._after_batch = after_batch
        self.on_error: Callable[[str], None] | None = None   # set by the composition root (app.App)
        self.last_beat = clock.monotonic()

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self.clock.register(self)

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread:
            return
        with self._wake:
            self._ordinary.append(None)   # after the work already queued, whose callers wait for it
            self._wake.notify()
        self._thread.join(timeout)
        unregister = getattr(self.clock, "unregister", None)
        if unregister:
            unregister(self)
        self._thread = None

    @property
    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    # -- submitting work ---------------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any, urgent: bool = False, fresh: bool = False) -> Future:
        """Queue `fn(*args)`; `urgent` work goes ahead of all ordinary work. Busy if the ordinary queue is
        full (urgent work is never refused). With `fresh`, the snapshot is published before the future is
        resolved."""
        future: Future = Future()
        with self._wake:
            if urgent:
                self._urgent.append((future, fn, args, fresh, True))
                self._urgent_open += 1
                self._no_urgent.clear()
            elif len(self._ordinary) >= MAX_QUEUED:
                raise Busy(f"the room is busy: {len(self._ordinary)} requests are waiting")
            else:
                self._ordinary.append((future, fn, args, fresh, False))
            self._wake.notify()
        return future

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 10.0, urgent: bool = False) -> Any:
        """Run `fn` on the loop and return its result (or raise its exception) to the calling thread."""
        if self.in_loop:
            return fn(*args)
        return self.submit(fn, *args, urgent=urgent, fresh=True).result(timeout)

    def yield_to_urgent(self, limit: float = YIELD_LIMIT) -> None:
        """From a thread whose work can wait (the web server's other requests, its reading, paho's messages):
        wait while urgent work is queued or running, at most `limit` seconds. Under load every thread that
        wants the interpreter takes its turn, the core's turn comes once in so many, and calm's work gives
        the interpreter up at each of its system calls (bench/pi.py: under 4 clients posting nested JSON, 12
        lights' calm took 34 ms at p50 in the core, against about 4 ms unloaded). Never waits on the loop."""
        if not self._no_urgent.is_set() and not self.in_loop:
            self._no_urgent.wait(limit)

    def backlog(self) -> int:
        return len(self._ordinary)

    def call_at(self, deadline: float, fn: Callable[[], Any]) -> Timer:
        """Only from the loop thread: run `fn` when the clock reaches `deadline`."""
        timer = Timer(deadline, next(self._seq), fn)
        heapq.heappush(self._timers, timer)
        return timer

    def call_later(self, delay: float, fn: Callable[[], Any]) -> Timer:
        return self.call_at(self.clock.monotonic() + delay, fn)

    # -- ClockDriven -------------------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """Read from other threads too (the manual clock): no mutation here."""
        timers = self._timers
        try:
            return timers[0].deadline if timers else None
        except IndexError:
            return None

    def alive(self, timeout: float) -> bool:
        """Does the loop run work within `timeout` seconds? (For the systemd watchdog.)"""
        try:
            self.submit(lambda: None).result(timeout)
            return True
        except Exception:
            return False

    def settle(self) -> None:
        """Block until the loop has run everything due at the clock's current time."""
        if self._thread and not self.in_loop:
            self.submit(lambda: None, fresh=True).result(10)

    # -- the loop ----------------------------------------------------------------------------------------------

    def _next(self, timeout: float | None) -> tuple | Literal[False] | None:
        """The next piece of work, urgent first; False when none came within `timeout`; None to stop."""
        with self._wake:
            if not self._urgent and not self._ordinary and timeout != 0:
                self._wake.wait(timeout)
            if self._urgent:
                return self._urgent.popleft()
            if self._ordinary:
                return self._ordinary.popleft()
            return False

    def _run(self) -> None:
        while self._running:
            item = self._next(self.clock.timeout(self.next_deadline()))
            self.last_beat = self.clock.monotonic()
            self._run_due()
            while item:  # work through what queued up before publishing one snapshot for all of it
                self._run_item(*item)
                item = self._next(0)
            if item is None:
                break
            if self._after_batch:
                self._guard(self._after_batch)
        self._running = False

    def _run_item(self, future: Future, fn: Callable, args: tuple, fresh: bool, urgent: bool) -> None:
        try:
            self._run_work(future, fn, args, fresh)
        finally:
            if urgent:
                with self._wake:
                    self._urgent_open -= 1
                    if self._urgent_open == 0:
                        self._no_urgent.set()

    def _run_work(self, future: Future, fn: Callable, args: tuple, fresh: bool) -> None:
        """A refusal (Refused) is the caller's answer; any other exception is a fault, logged with its
        traceback and reported to `on_error` (the room shows it as a problem), since work handed over with
        `submit` has no caller waiting to see it. Either way the caller gets it and the loop lives on."""
        if not future.set_running_or_notify_cancel():
            return
        result: Any = None
        error: BaseException | None = None
        try:
            result = fn(*args)
        except Refused as exc:
            error = exc
        except BaseException as exc:
            name = getattr(fn, "__qualname__", repr(fn))
            log.error("error in %s; the room carries on", name, exc_info=exc)
            on_error = self.on_error
            if on_error is not None:
                problem = f"{name}: {type(exc).__name__}: {exc}"
                self._guard(lambda: on_error(problem))
            error = exc
        if fresh and self._after_batch:   # the caller's next read sees what its call did
            self._guard(self._after_batch)
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def _run_due(self) -> None:
        now = self.clock.monotonic()
        while self._timers and self._timers[0].deadline <= now:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self._guard(timer.fn)
            now = self.clock.monotonic()

    def _guard(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:
            log.exception("error in %s; the room carries on", getattr(fn, "__qualname__", fn))
