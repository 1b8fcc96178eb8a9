"""The arithmetic of loudness: fades and volume ramps. Pure, so it has property tests.

VLC's software volume is cubic: amplitude = (v/100)^3. A fade is planned in amplitude (equal power: the
gains of two crossfading tracks are sin and cos of the same angle, so their summed power stays constant)
and turned into a VLC volume only at the end, v = level * gain^(1/3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def amplitude(volume: float) -> float:
    """Linear amplitude (1 = unchanged) of a VLC volume."""
    return (max(0.0, volume) / 100.0) ** 3


def volume_for(level: float, gain: float, max_volume: float) -> float:
    """The VLC volume that plays a track at `gain` (amplitude, 0-1) of `level`, never above `max_volume`."""
    gain = min(1.0, max(0.0, gain))
    return min(max_volume, max(0.0, level) * gain ** (1 / 3))


@dataclass(frozen=True)
class Fade:
    """A gain moving from `start` to `end` along the equal-power (sine) curve; sin^2 + cos^2 = 1."""

    start: float
    end: float
    t0: float
    duration: float

    def gain(self, now: float) -> float:
        progress = 1.0 if self.duration <= 0 else min(1.0, max(0.0, (now - self.t0) / self.duration))
        a0, a1 = math.asin(min(1.0, self.start)), math.asin(min(1.0, self.end))
        return math.sin(a0 + (a1 - a0) * progress)

    def done(self, now: float) -> bool:
        return now >= self.t0 + self.duration

    @classmethod
    def steady(cls, gain: float) -> Fade:
        return cls(gain, gain, 0.0, 0.0)


def crossfade_gains(progress: float) -> tuple[float, float]:
    """(outgoing, incoming) amplitude gains at `progress` (0-1) of an equal-power crossfade."""
    p = min(1.0, max(0.0, progress))
    return math.cos(math.pi / 2 * p), math.sin(math.pi / 2 * p)


@dataclass(frozen=True)
class Ramp:
    """The room's volume level moving linearly in VLC volume points."""

    start: float
    target: float
    t0: float
    duration: float

    def at(self, now: float) -> float:
        if self.duration <= 0 or now >= self.t0 + self.duration:
            return self.target
        progress = max(0.0, (now - self.t0) / self.duration)
        return self.start + (self.target - self.start) * progress

    def done(self, now: float) -> bool:
        return now >= self.t0 + self.duration


def plan_ramp(current: float, target: float, now: float, max_volume: float, max_rise_per_s: float,
              fade_out: float) -> Ramp:
    """A ramp to `target` (capped): rising at `max_rise_per_s`, falling as a full drop would in `fade_out`."""
    target = min(max_volume, max(0.0, target))
    delta = target - current
    if delta > 0:
        duration = delta / max_rise_per_s
    else:
        duration = -delta / 100.0 * fade_out
    return Ramp(current, target, now, duration)
