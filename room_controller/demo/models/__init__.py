"""Behaviour models of real devices, written from their own code: the demo's simulated devices and the tests
use them.

Each model takes the MQTT messages the room sends, at the moments they arrive, answers in the device's own
report format, and says what its light shows at any later moment (`shown(at)`). Times are seconds on any
monotonic clock; a model never reads the clock itself, so a test can run a 30 minute fade in a moment.
"""

from __future__ import annotations

from dataclasses import dataclass

from room_controller import units
from room_controller.lighting.state import MqttMessage

Answer = tuple[float, MqttMessage]   # when the device publishes it, and what


@dataclass(frozen=True)
class Shown:
    """What a light emits at one moment: on or off, perceived level 0-100 (CIE L*), and its white or colour."""

    on: bool
    level: float
    kelvin: float | None = None
    rgb: tuple[int, int, int] | None = None

    @property
    def colour(self) -> tuple[int, int, int]:
        """The light's colour at full level, for the room picture."""
        if self.rgb is not None:
            return self.rgb
        return units.kelvin_to_rgb(self.kelvin if self.kelvin else 2700.0)


class Ramp:
    """Values moving in a straight line from where they are to a target over a duration (0: at once).

    `ease` maps progress 0-1 to progress 0-1 (ESPHome's smoothed transitions); a new target starts from the
    values of that moment, which is what every modelled device does with a command in mid-transition.
    """

    def __init__(self, values: tuple[float, ...], ease=None) -> None:
        self._from = self._to = tuple(values)
        self._start, self._duration = 0.0, 0.0
        self._ease = ease or (lambda p: p)

    def go(self, target: tuple[float, ...], at: float, duration: float) -> None:
        self._from, self._to = self.at(at), tuple(target)
        self._start, self._duration = at, max(0.0, duration)

    @property
    def target(self) -> tuple[float, ...]:
        return self._to

    def at(self, when: float) -> tuple[float, ...]:
        if self._duration <= 0 or when >= self._start + self._duration:
            return self._to
        p = self._ease(max(0.0, (when - self._start) / self._duration))
        return tuple(a + (b - a) * p for a, b in zip(self._from, self._to))


def linear_rgb(rgb: tuple[int, int, int]) -> list[float]:
    """sRGB channels 0-255 to light output 0-1: what LEDs of those primaries emit, to be added together."""
    return [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]


def encoded_rgb(linear: list[float]) -> tuple[int, int, int]:
    """Light output back to sRGB, the brightest channel at 255 (the colour, its level said apart)."""
    peak = max(linear) or 1.0
    r, g, b = (round(255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055))
               for c in (v / peak for v in linear))
    return r, g, b
