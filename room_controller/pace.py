"""A sliding-window budget: at most `count` events in any window of `window` seconds.

One rule, used wherever the room must not let a fast source become a fast effect: abrupt light changes
(lighting/flash.py), messages from one MQTT source (core/intake.py), journal rows about a flapping device.
Pure: the caller gives the time. A window is half-open, [t, t + window): an event at exactly t + window
is in the next one.
"""

from __future__ import annotations

from collections import deque


class Budget:
    def __init__(self, count: int, window: float) -> None:
        self.window = window
        self._times: deque[float] = deque(maxlen=count)
        self.passed_over = 0   # events `take` refused, for the caller to summarise

    def allowed_at(self, now: float) -> float:
        """The earliest moment the next event may happen: now, unless the last `count` fill the window."""
        if len(self._times) < (self._times.maxlen or 0):
            return now
        return max(now, self._times[0] + self.window)

    def allows(self, now: float) -> bool:
        return self.allowed_at(now) <= now

    def record(self, now: float) -> None:
        self._times.append(now)

    def take(self, now: float) -> bool:
        """Record an event if the budget allows it now; else count it as passed over."""
        if self.allows(now):
            self.record(now)
            return True
        self.passed_over += 1
        return False
