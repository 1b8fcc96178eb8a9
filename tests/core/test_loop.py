"""The core loop's answers: a caller who is told its work is done reads a snapshot that shows it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from room_controller.core.errors import Conflict
from room_controller.core.loop import Loop
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


def test_a_call_is_answered_after_its_change_is_published():
    """The call shares its batch with work queued behind it that does not end until the test says so: the
    answer must not wait for the batch's end, and the snapshot must already show the call's change."""
    room = Published()
    loop = Loop(ManualClock(), after_batch=room.after_batch)
    loop.start()
    hold, behind = threading.Event(), threading.Event()
    try:
        loop.submit(hold.wait, 10)                       # the loop waits here while the queue fills
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(loop.call, room.set, 5)
            while loop.backlog() < 1:
                time.sleep(0.001)
            loop.submit(behind.wait, 10)                 # queued behind the call, in the same batch
            hold.set()
            assert answer.result(10) == 5
            assert room.snapshot == 5                    # published before the answer
            behind.set()
    finally:
        hold.set()
        behind.set()
        loop.stop()


def test_a_refused_call_still_publishes_first():
    room = Published()
    loop = Loop(ManualClock(), after_batch=room.after_batch)
    loop.start()

    def set_then_refuse() -> None:
        room.set(7)
        raise Conflict("no")

    try:
        with pytest.raises(Conflict):
            loop.call(set_then_refuse)
        assert room.snapshot == 7
    finally:
        loop.stop()
