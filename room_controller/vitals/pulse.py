"""The live pulse from a sensor on MQTT: decoding its payload, and what is kept of a reading a second.

A sensor's payload is either the number itself (ESPHome's MQTT sensor publishes the state as text, e.g.
`72.0`, and `None` or `nan` for no value: esphome/components/mqtt/mqtt_sensor.cpp:73-78) or JSON with the
number at a dotted path (a BLE gateway's `{"heart_rate": {"bpm": 72}}`). Anything else is a bad payload:
an error the room logs and ignores, never a value. Pure: the caller gives the time.

The journal gets at most one row per `store_every` (the window's last, lowest and highest value and how
many arrived); the panel gets a trend of one point per TREND_STEP over TREND_SPAN.
"""

from __future__ import annotations

import json
import math
from collections import deque

LOWEST, HIGHEST = 20.0, 250.0    # beats per minute a person can have; beyond: a broken or confused sensor
TREND_STEP = 10.0                # seconds between the trend's points
TREND_SPAN = 600.0               # seconds of trend on the panel


class PulseError(ValueError):
    """A payload that holds no usable pulse; the message says why."""


def decode(payload: bytes, path: str = "") -> float:
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PulseError("the payload is not UTF-8 text") from None
    value: object
    try:
        value = json.loads(text)
    except ValueError:
        value = text   # ESPHome's plain text ('72.0' parses as JSON; 'nan' and 'None' do not)
    except RecursionError:   # the parser recurses once per level: a flood of `[[[...` must be one short line
        raise PulseError("the payload is nested too deeply") from None
    for key in path.split(".") if path else ():
        if not isinstance(value, dict) or key not in value:
            raise PulseError(f"no {path!r} in the payload")
        value = value[key]
    if isinstance(value, str) and value.lower() in ("none", "nan", "unknown", "unavailable"):
        raise PulseError(f"the sensor has no value ({value})")
    if isinstance(value, (dict, list)):   # not str(): a deep list's text would recurse again
        raise PulseError(f"the pulse is not a number: a JSON {'object' if isinstance(value, dict) else 'array'}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PulseError(f"the pulse is not a number: {str(value)[:40]!r}")
    try:
        bpm = float(value)
    except (ValueError, OverflowError):
        raise PulseError(f"the pulse is not a number: {str(value)[:40]!r}") from None
    if not math.isfinite(bpm):
        raise PulseError(f"the sensor has no value ({bpm})")
    if not LOWEST <= bpm <= HIGHEST:
        raise PulseError(f"a pulse of {bpm:g}/min is outside {LOWEST:g}-{HIGHEST:g}: not believed")
    return bpm


class Window:
    """What arrived since the last stored row; `take` empties it."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.values: list[float] = []

    def add(self, now: float, bpm: float) -> None:
        if self.started is None:
            self.started = now
        self.values.append(bpm)

    def full(self, now: float, every: float) -> bool:
        return self.started is not None and now - self.started >= every

    def take(self) -> dict | None:
        if not self.values:
            return None
        row = {"bpm": self.values[-1], "min": min(self.values), "max": max(self.values), "n": len(self.values)}
        self.started, self.values = None, []
        return row


class Trend:
    """At most one point per TREND_STEP, the last TREND_SPAN of them."""

    def __init__(self) -> None:
        self.points: deque[tuple[float, float]] = deque(maxlen=int(TREND_SPAN / TREND_STEP))

    def add(self, now: float, bpm: float) -> None:
        if self.points and now - self.points[-1][0] < TREND_STEP:
            return
        self.points.append((now, bpm))

    def since(self, now: float) -> list[list[float]]:
        """[[seconds ago, bpm], ...], oldest first, within TREND_SPAN of now."""
        return [[round(now - at, 1), bpm] for at, bpm in self.points if now - at <= TREND_SPAN]
