"""The core loop's answers: a caller who is told its work is done reads a snapshot that shows it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from room_controller.core.loop import Loop
from room_controller.errors import Conflict
from room_controller.infrastructure.clock import ManualClock


class Published:
    """Stands for the room: `value` changes on the loop, `after_batch` publishes it as the room's snapshot."""

    def __init__(self) -> None:
        self.value = 0
        self.snapshot = 0

    def set(self, value: int) -> int:
        self.value = value
        return value

    def after_batch(self) -> None:
        self.snapshot = self.value


def _answer_within_a_held_batch(loop: Loop, fn) -> Future:
    """Run `loop.call(fn)` in a batch that cannot end until the answer is back: the call is queued while the
    loop is held, and work that waits for the answer is queued behind it. Returns the call's future."""
    held, hold = threading.Event(), threading.Event()

    def wait_held() -> None:
        held.set()
        hold.wait(10)

    loop.submit(wait_held)
    assert held.wait(10)                         # the loop is inside it now: the queue below is ours alone
    pool = ThreadPoolExecutor(1)
    answer = pool.submit(loop.call, fn)
    pool.shutdown(wait=False)                    # the call already submitted still runs
    while loop.backlog() < 1:                    # the call is queued
        time.sleep(0.001)
    loop.submit(lambda: answer.exception(10))    # behind it, in the same batch: waits for the answer
    hold.set()
    return answer


def test_a_call_is_answered_after_its_change_is_published():
    """The batch does not end before the answer, so only a publish before the answer can show the change."""
    room = Published()
    loop = Loop(ManualClock(), after_batch=room.after_batch)
    loop.start()
    try:
        answer = _answer_within_a_held_batch(loop, lambda: room.set(5))
        assert answer.result(10) == 5
        assert room.snapshot == 5
    finally:
        loop.stop()


def test_a_refused_call_still_publishes_first():
    room = Published()
    loop = Loop(ManualClock(), after_batch=room.after_batch)
    loop.start()

    def set_then_refuse() -> None:
        room.set(7)
        raise Conflict("no")

    try:
        answer = _answer_within_a_held_batch(loop, set_then_refuse)
        with pytest.raises(Conflict):
            answer.result(10)
        assert room.snapshot == 7
    finally:
        loop.stop()


@pytest.fixture
def loop():
    running = Loop(ManualClock())
    running.start()
    yield running
    running.stop()


def test_other_threads_wait_while_urgent_work_waits_or_runs(loop):
    """Loop.yield_to_urgent: a thread whose work can wait waits for urgent work queued behind ordinary work
    and for the urgent work itself, and goes on once the last of it is done."""
    held, hold, urgent_done = threading.Event(), threading.Event(), threading.Event()
    loop.submit(lambda: (held.set(), hold.wait(10)))   # ordinary work holds the loop
    held.wait(5)
    loop.submit(urgent_done.set, urgent=True)
    loop.submit(lambda: None, urgent=True)
    waited: list[bool] = []
    waiter = threading.Thread(target=lambda: (loop.yield_to_urgent(10), waited.append(urgent_done.is_set())))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()   # the urgent work is queued: the waiter waits
    hold.set()
    waiter.join(10)
    assert waited == [True]


def test_waiting_for_urgent_work_is_bounded_and_never_on_the_loop(loop):
    hold = threading.Event()
    loop.submit(lambda: hold.wait(10), urgent=True)   # urgent work that does not end (a stuck core)
    started = time.monotonic()
    loop.yield_to_urgent(0.2)
    assert time.monotonic() - started < 5   # back after its limit, not held by the stuck work
    hold.set()
    started = time.monotonic()
    assert loop.call(lambda: (loop.yield_to_urgent(10), "on the loop")[1], urgent=True) == "on the loop"
    loop.yield_to_urgent(10)   # nothing urgent: at once
    assert time.monotonic() - started < 5   # neither waited out its 10 s
