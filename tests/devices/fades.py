"""Fades planned and sent by the room's own light (core/lights.Light on a manual clock), run through a
device's behaviour model: what the light really shows, sampled over time."""

from __future__ import annotations

from dataclasses import dataclass

from room_controller.core.lights import Light
from room_controller.core.loop import Loop
from room_controller.infrastructure.clock import ManualClock
from room_controller.lighting.encode import brightness_from_value, brightness_value
from room_controller.lighting.profiles import Catalogue, Device
from room_controller.lighting.state import LightState

CATALOGUE = Catalogue.load()


@dataclass
class Run:
    """Samples (seconds after the fade began, what the model showed) and what the room sent meanwhile."""

    samples: list
    sent: list

    def levels(self, after: float = 0.0) -> list[float]:
        return [s.level for t, s in self.samples if t >= after]

    def max_step(self, after: float = 1.0) -> float:
        levels = self.levels(after)
        return max((abs(b - a) for a, b in zip(levels, levels[1:])), default=0.0)

    def reached(self, level: float, tolerance: float = 1.0) -> float:
        """When the level came within `tolerance` of `level` and stayed there."""
        when = None
        for t, shown in self.samples:
            if abs(shown.level - level) <= tolerance:
                when = t if when is None else when
            else:
                when = None
        assert when is not None, f"never settled at {level}: ends at {self.samples[-1][1]}"
        return when

    def highest(self, until: float | None = None) -> float:
        return max(s.level for t, s in self.samples if until is None or t <= until)


def allowed_step(profile: str, lowest: float) -> float:
    """2 points of perceived brightness, or one unit of the device's own scale at the fade's lowest lit level
    where that is coarser (1 % to 2 % on a linear dimmer is 9 to 15.5 L*): no encoder can step finer."""
    prof = CATALOGUE.profiles[profile]
    value = brightness_value(prof, lowest)
    return max(2.0, brightness_from_value(prof, value + 1) - brightness_from_value(prof, value))


def run(profile: str, device_name: str, model, start: LightState | None, target: LightState, duration: float,
        *, sample: float = 0.05, tail: float = 0.3, overrides: dict | None = None) -> Run:
    """Set the light to `start` at once (and let it settle), then fade to `target` over `duration` seconds
    as the room does; sample what the model shows from the fade's start to `tail` x duration after its end."""
    clock = ManualClock(start=0.0)
    loop = Loop(clock)
    device = Device("light", device_name, CATALOGUE.resolve(profile, **(overrides or {})), "room-1")
    sent: list = []

    def publish(message) -> bool:
        at = clock.monotonic()
        sent.append((at, message))
        model.receive(message.topic, message.payload.encode(), at)
        return True

    light = Light(device, loop, publish, max_rate=2.0, min_toggle_interval=1.0)
    loop.start()
    try:
        model.hello(0.0)
        for message in device.profile.setup:     # what the room sends when the device comes online
            model.receive(device.topic(message.topic), message.payload.encode(), 0.0)
        if start is not None:
            loop.call(light.fade_to, start, 0.0)
            clock.advance(10.0)
        began = clock.monotonic()
        loop.call(light.fade_to, target, duration)
        samples, t = [], 0.0
        end = duration * (1 + tail) + 1.0
        while t <= end:
            clock.advance(began + t - clock.monotonic())
            samples.append((t, model.shown(clock.monotonic())))
            t = round(t + sample, 6)
        return Run(samples, [(at - began, m) for at, m in sent if at >= began])
    finally:
        loop.stop()
