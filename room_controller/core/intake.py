"""What arrives from the broker, made safe to hand to the core, however fast it comes.

paho's network thread offers each message under a key: one light's reports, one command source (the
command topic, a button's topic), a bridge. Per key at most one piece of work waits on the core loop at a
time, and one key is delivered at most once per `interval`: meanwhile a newer message replaces (or, for
reports, is folded into) the waiting one. So a remote stuck at 5,000 presses a second costs the core a few
deliveries a second, the room acts on the latest, and the loop's queue stays as short as the number of
keys. What was passed over is counted, and `summaries()` says it once per window for the journal
("4,812 messages on .../command in 10 s, acted on 31").

A command that repeats the last one its source acted on, in an unbroken stream (each within `repeat_gap`
of the one before), is a repeat, not a request: a stuck remote acts once, however long it goes on, and
a panel's calm meanwhile stays calm. The same button pressed again after a pause acts again.

A request is *ordered* when a newer one of its kind from another source must win over it: a preset press
that waits for its source's pace is dropped if, meanwhile, a preset came from elsewhere (the panel's calm
after two quick emergency presses of a button stays calm). Every source of such requests says when one
arrives (`note`): the HTTP API for each request about the lights, and the intake for each ordered message.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from room_controller.core.loop import Loop
from room_controller.errors import Busy

log = logging.getLogger(__name__)

SUMMARY_WINDOW = 10.0   # seconds between journal summaries of a source that was passed over
_NOTHING = object()


@dataclass
class _Slot:
    value: Any
    deliver: Callable[[Any], None]
    urgent: bool
    source: Hashable | None   # where an ordered request came from; None: unordered
    stamp: int = 0            # when it arrived


class Intake:
    def __init__(self, loop: Loop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._waiting: dict[Hashable, _Slot] = {}
        self._last: dict[Hashable, float] = {}
        self._acted_on: dict[Hashable, Any] = {}       # key: the last value delivered
        self._heard: dict[Hashable, float] = {}        # key: when its last message arrived
        self._counts: dict[Hashable, list[int]] = {}   # key: [received, delivered] since the last summary
        self._stamps = itertools.count(1)
        self._arrived: dict[Hashable, int] = {}          # source: the stamp of its latest request

    def note(self, source: Hashable) -> int:
        """A request arrived from `source` (any thread): newer than everything noted before."""
        with self._lock:
            stamp = self._arrived[source] = next(self._stamps)
        return stamp

    def offer(self, key: Hashable, value: Any, deliver: Callable[[Any], None], *, interval: float,
              fold: Callable[[Any, Any], Any] | None = None, urgent: bool = False,
              source: Hashable | None = None, repeat_gap: float = 0.0) -> None:
        """From any thread: have `deliver(value)` run on the core loop, soon, unless a newer value for the
        same key arrives first (then `fold(older, newer)`, or the newer alone). With a `source`, the request
        is ordered: dropped if a newer one from another source arrives before it is delivered."""
        now = self._loop.clock.monotonic()
        with self._lock:
            counts = self._counts.setdefault(key, [0, 0])
            counts[0] += 1
            heard, self._heard[key] = self._heard.get(key), now
            if repeat_gap and heard is not None and now - heard < repeat_gap and key not in self._waiting \
                    and self._acted_on.get(key, _NOTHING) == value:
                return
            stamp = 0
            if source is not None:
                stamp = self._arrived[source] = next(self._stamps)
            slot = self._waiting.get(key)
            if slot is not None:
                slot.value = fold(slot.value, value) if fold else value
                slot.urgent, slot.stamp = slot.urgent or urgent, stamp
                return
            self._waiting[key] = _Slot(value, deliver, urgent, source, stamp)
            due = self._last.get(key, -interval) + interval
        try:
            if due <= now:
                self._loop.submit(self._deliver, key, urgent=urgent)
            else:
                self._loop.submit(lambda: self._loop.call_at(due, lambda: self._deliver(key)), urgent=urgent)
        except Busy as exc:   # the core is swamped by other work: this one is shed, and said so
            with self._lock:
                self._waiting.pop(key, None)
            log.warning("shed a message for %s: %s", key, exc)

    def _deliver(self, key: Hashable) -> None:
        """On the core loop."""
        with self._lock:
            slot = self._waiting.pop(key, None)
            if slot is None:
                return
            self._acted_on[key] = slot.value   # delivered or superseded: its repeats are repeats
            if slot.source is not None and any(stamp > slot.stamp for source, stamp in self._arrived.items()
                                               if source != slot.source):
                return   # a newer request from elsewhere has the last word
            self._last[key] = self._loop.clock.monotonic()
            self._counts[key][1] += 1
        slot.deliver(slot.value)

    def summaries(self) -> list[tuple[Hashable, int, int]]:
        """(key, received, acted on) for every key that was passed over since the last call; counts restart."""
        with self._lock:
            out = [(key, got, done) for key, (got, done) in self._counts.items()
                   if got - done - (key in self._waiting) > 0]
            self._counts = {key: [1, 0] for key in self._waiting}
        return out
