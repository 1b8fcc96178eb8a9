"""Fade planning: from where a light is to where it should be, over any time from 0 s to hours.

Pure. A plan is a list of `Step`s — at a moment after the fade starts, send this state with this native
transition. Devices that fade natively get one command, or a chain of native chunks when the fade is
longer than they allow (or when their brightness is linear in light output and a single native fade would
not follow the eye's curve). Devices without native fades get software steps, no more than `max_rate`
a second and no more than needed to make each step imperceptibly small. Brightness moves linearly in
perceived lightness (CIE L*), white linearly in mired, colours channel by channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from room_controller import units
from room_controller.lighting.profiles import DeviceProfile
from room_controller.lighting.state import LightState

BRIGHTNESS_STEP = 0.5   # L* units: below what the eye notices between two steps
MIRED_STEP = 2.0
RGB_STEP = 2
CURVE_CHUNK = 5.0       # seconds: a linear-light device's native fade approximates L* piecewise this finely
CURVE_CHUNKS_MAX = 16


@dataclass(frozen=True)
class Step:
    at: float            # seconds after the fade starts
    state: LightState    # what the light shows when this step's transition ends
    transition: float    # native transition of this command, seconds (0: a software step)


def interpolate(start: LightState, target: LightState, progress: float) -> LightState:
    """Where a fade from `start` to `target` is at `progress` (0-1), along the perceptual path."""
    if progress >= 1.0:
        return target
    progress = max(0.0, progress)
    b0 = start.brightness if start.lit else 0.0
    b1 = target.brightness if target.lit else 0.0
    brightness = b0 + (b1 - b0) * progress
    kelvin, rgb = _colour_at(start, target, progress)
    if brightness <= 0:
        return LightState(on=False, brightness=0.0, kelvin=kelvin, rgb=rgb)
    return LightState(on=True, brightness=brightness, kelvin=kelvin, rgb=rgb)


def _colour_at(start: LightState, target: LightState, p: float):
    if target.kelvin is None and target.rgb is None:
        return start.kelvin, start.rgb
    if start.kelvin is None and start.rgb is None:
        return target.kelvin, target.rgb
    if start.kelvin is not None and target.kelvin is not None:
        m0, m1 = units.kelvin_to_mired(start.kelvin), units.kelvin_to_mired(target.kelvin)
        return units.mired_to_kelvin(m0 + (m1 - m0) * p), None
    c0 = start.rgb or units.kelvin_to_rgb(start.kelvin)
    c1 = target.rgb or units.kelvin_to_rgb(target.kelvin)
    return None, tuple(round(a + (b - a) * p) for a, b in zip(c0, c1))


def plan(profile: DeviceProfile, start: LightState, target: LightState, duration: float,
         max_rate: float = 2.0) -> list[Step]:
    """The commands that take a light from `start` to `target` in `duration` seconds."""
    if duration <= 0 or start == target:
        return [Step(0.0, target, 0.0)]
    by_rate = max(1, math.floor(duration * max_rate + 1e-9))
    native = profile.capabilities.transition
    if native is not None:
        count = max(1, math.ceil(duration / native.max - 1e-9))
        if profile.capabilities.brightness.curve == "linear_light" and _brightness_moves(start, target):
            count = max(count, min(CURVE_CHUNKS_MAX, by_rate, math.ceil(duration / CURVE_CHUNK)))
        chunk = duration / count
        return [Step(i * chunk, interpolate(start, target, (i + 1) / count), chunk) for i in range(count)]
    count = max(1, min(by_rate, _steps_needed(start, target)))
    return [Step((i + 1) * duration / count, interpolate(start, target, (i + 1) / count), 0.0)
            for i in range(count)]


def _brightness_moves(start: LightState, target: LightState) -> bool:
    b0 = start.brightness if start.lit else 0.0
    b1 = target.brightness if target.lit else 0.0
    return abs(b1 - b0) >= BRIGHTNESS_STEP


def _steps_needed(start: LightState, target: LightState) -> int:
    b0 = start.brightness if start.lit else 0.0
    b1 = target.brightness if target.lit else 0.0
    needed = abs(b1 - b0) / BRIGHTNESS_STEP
    if start.kelvin is not None and target.kelvin is not None:
        needed = max(needed, abs(units.kelvin_to_mired(start.kelvin) - units.kelvin_to_mired(target.kelvin))
                     / MIRED_STEP)
    elif (start.kelvin or start.rgb) and (target.kelvin or target.rgb):
        c0 = start.rgb or units.kelvin_to_rgb(start.kelvin)
        c1 = target.rgb or units.kelvin_to_rgb(target.kelvin)
        needed = max(needed, max(abs(a - b) for a, b in zip(c0, c1)) / RGB_STEP)
    return math.ceil(needed)
