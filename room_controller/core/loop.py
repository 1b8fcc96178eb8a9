"""The one thread that owns the room's state: it runs submitted work and timers, one at a time, in order.

Other threads (HTTP requests, the MQTT network thread, audio callbacks) never touch the state; they
`submit()` a function and, if they need the answer, wait on the returned future. Timers are kept in a heap
on the loop's own clock, so with a `ManualClock` a test drives hours of fades in moments.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

from room_controller.clock import Clock

log = logging.getLogger(__name__)


class Timer:
    __slots__ = ("deadline", "seq", "fn", "cancelled")

    def __init__(self, deadline: float, seq: int, fn: Callable[[], Any]) -> None:
        self.deadline, self.seq, self.fn, self.cancelled = deadline, seq, fn, False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "Timer") -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)


class Loop:
    def __init__(self, clock: Clock, name: str = "room-core", after_batch: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.name = name
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._running = False
        self._after_batch = after_batch
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
        self._inbox.put(None)
        self._thread.join(timeout)
        unregister = getattr(self.clock, "unregister", None)
        if unregister:
            unregister(self)
        self._thread = None

    @property
    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    # -- submitting work ---------------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        self._inbox.put((future, fn, args))
        return future

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 10.0) -> Any:
        """Run `fn` on the loop and return its result (or raise its exception) to the calling thread."""
        if self.in_loop:
            return fn(*args)
        return self.submit(fn, *args).result(timeout)

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
            self.submit(lambda: None).result(10)

    # -- the loop ----------------------------------------------------------------------------------------------

    def _run(self) -> None:
        while self._running:
            try:
                item = self._inbox.get(timeout=self.clock.timeout(self.next_deadline()))
            except queue.Empty:
                item = False
            self.last_beat = self.clock.monotonic()
            self._run_due()
            if item is None:
                break
            if item:
                self._run_item(*item)
            while True:  # drain what queued up meanwhile before publishing one snapshot for all of it
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._running = False
                    break
                self._run_item(*item)
            if self._after_batch:
                self._guard(self._after_batch)
        self._running = False

    def _run_item(self, future: Future, fn: Callable, args: tuple) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to the caller, who decides; the loop lives on
            future.set_exception(exc)

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
