"""Fade planning: from where a light is to where it should be, over any time from 0 s to hours.

Pure. A plan is a list of `Step`s — at a moment after the fade starts, send this state with this native
transition. Devices that fade natively get one command, or a chain of native chunks when the fade is
longer than they allow (or when their brightness is linear in light output and a single native fade would
not follow the eye's curve). Devices without native fades get software steps, no more than `max_rate`
a second and no more than needed to make each step imperceptibly small. Brightness moves linearly in
perceived lightness (CIE L*), white linearly in mired, colours channel by channel.

A bulb that runs one transition at a time and ignores commands during a colour transition (IKEA:
`quirks.fade_one_property`, `quirks.color_fade_max`) gets brightness and colour in turn: short colour
transitions spread over the fade, brightness transitions between them, each command after the last one's
transition has ended, and the whole target once more at the end (docs/devices.md, "Zigbee2MQTT").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from room_controller import units
from room_controller.lighting.encode import brightness_value, device_values
from room_controller.lighting.profiles import DeviceProfile
from room_controller.lighting.state import LightState

BRIGHTNESS_STEP = 0.5   # L* units: below what the eye notices between two steps
MIRED_STEP = 2.0
RGB_STEP = 2
CURVE_CHUNK = 5.0       # seconds: a linear-light device's native fade approximates L* piecewise this finely
CURVE_CHUNKS_MAX = 16
# Bulbs that run one transition at a time:
COLOUR_SEGMENT = 2.0    # seconds: the longest colour transition sent (the bulb hears nothing meanwhile)
COLOUR_LINK = 30.0      # seconds: a long fade moves the colour a little once per link
COLOUR_SHARE = 0.25     # of a short link, for the colour: brightness, the more visible, keeps most of the time
GAP = 0.3               # seconds of quiet after a colour transition, for network jitter, before the next command
TICK = 0.1              # Zigbee's transition unit: commands start on this grid, so none overlaps the one before
SPLIT_MIN = 1.0         # seconds: a shorter change goes as one command (brightness at once, colour fading)


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
    c0, c1 = _rgb(start), _rgb(target)
    return None, tuple(round(a + (b - a) * p) for a, b in zip(c0, c1))


def _rgb(state: LightState) -> tuple[int, int, int]:
    """A state's colour in RGB; a white one by its colour temperature (the caller knows it has one of them)."""
    if state.rgb is not None:
        return state.rgb
    assert state.kelvin is not None
    return units.kelvin_to_rgb(state.kelvin)


def plan(profile: DeviceProfile, start: LightState, target: LightState, duration: float,
         max_rate: float = 2.0) -> list[Step]:
    """The commands that take a light from `start` to `target` in `duration` seconds."""
    if duration <= 0 or start == target:
        return _at_once(profile, target)
    by_rate = max(1, math.floor(duration * max_rate + 1e-9))
    native = profile.capabilities.transition
    if native is not None and profile.quirks.fade_one_property:
        return _one_at_a_time(profile, start, target, duration)
    if native is not None:
        count = max(1, math.ceil(duration / native.max - 1e-9))
        if profile.capabilities.brightness.curve == "linear_light" and _brightness_moves(start, target):
            count = max(count, min(CURVE_CHUNKS_MAX, by_rate, math.ceil(duration / CURVE_CHUNK)))
        chunk = duration / count
        return [Step(i * chunk, interpolate(start, target, (i + 1) / count), chunk) for i in range(count)]
    count = min(math.floor(duration * max_rate + 1e-9), _steps_needed(start, target))
    if count < 1:   # shorter than one step may take: one command, when the fade ends
        return [Step(duration, target, 0.0)]
    # count + 1 steps, from now to the end: a press shows at once, and the fade ends when it should
    return [Step(i * duration / count, interpolate(start, target, (i + 1) / (count + 1)), 0.0)
            for i in range(count + 1)]


def from_anywhere(profile: DeviceProfile, target: LightState, duration: float, max_rate: float = 2.0) -> bool:
    """Is the plan to `target` the same one command (the target, over `duration`) from every known start but
    the target itself? Then a plan made ahead holds while the light moves meanwhile (a press during a phase's
    long fade, core/prepared.py). True exactly when `plan` makes one native chunk whatever the start."""
    native = profile.capabilities.transition
    if duration <= 0 or native is None or profile.quirks.fade_one_property:
        return False
    if math.ceil(duration / native.max - 1e-9) > 1:
        return False
    if profile.capabilities.brightness.curve == "linear_light":   # chunks only when brightness moves: by start
        by_rate = max(1, math.floor(duration * max_rate + 1e-9))
        return min(CURVE_CHUNKS_MAX, by_rate, math.ceil(duration / CURVE_CHUNK)) <= 1
    return True


def plan_unknown(profile: DeviceProfile, target: LightState, duration: float) -> list[Step]:
    """For a light never heard from and never told: nothing to fade from, so one command to the target,
    taking as much of `duration` as the device fades natively in one command.

    A bulb that runs one transition at a time never gets brightness and colour with a transition in one
    message (Zigbee2MQTT would drop the brightness's for an IKEA bulb, src/lib/utils.ts getTransition 441-450
    at 26.99.0: a jump from wherever it was): brightness alone first, its colour as it is, then the colour at
    the brightness now known, then the whole target once more."""
    native = profile.capabilities.transition
    if native is None or duration <= 0:
        return _at_once(profile, target)
    if not profile.quirks.fade_one_property:
        return [Step(0.0, target, min(duration, native.max))]
    if not target.lit or (target.kelvin is None and target.rgb is None):   # nothing but brightness to send
        return [Step(0.0, target, min(duration, native.max))]
    if duration < SPLIT_MIN:   # too short to take in turn: both at once, a change, never a jump beside a fade
        return _at_once(profile, target)
    colour = max(TICK, _grid(min(_longest_colour(profile), duration * COLOUR_SHARE), down=True))
    level = _grid(min(duration - colour - GAP, native.max), down=True)
    return [Step(0.0, _without_colour(target), level), Step(level, target, colour),
            Step(_grid(max(duration, level + colour) + GAP), target, 0.0)]


def _at_once(profile: DeviceProfile, target: LightState) -> list[Step]:
    """An instant change. A bulb that ignores commands during a colour transition (IKEA without Zigbee2MQTT's
    unfreeze: unfreeze_support false, or a Zigbee2MQTT older than zigbee-herdsman-converters' trackFreezing,
    src/lib/ikea.ts 1147-1185 at 26.99.0) gets it once more after the longest colour transition the room sends:
    an emergency pressed during one reaches the bulb whatever it was doing."""
    if not profile.quirks.fade_one_property or profile.capabilities.transition is None:
        return [Step(0.0, target, 0.0)]
    return [Step(0.0, target, 0.0), Step(_grid(COLOUR_SEGMENT + GAP), target, 0.0)]


def _longest_colour(profile: DeviceProfile) -> float:
    """The longest colour transition sent to a bulb that runs one transition at a time."""
    return min(COLOUR_SEGMENT, profile.quirks.color_fade_max or COLOUR_SEGMENT)


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
        needed = max(needed, max(abs(a - b) for a, b in zip(_rgb(start), _rgb(target))) / RGB_STEP)
    return math.ceil(needed)


# -- bulbs that run one transition at a time -------------------------------------------------------------------

def _one_at_a_time(profile: DeviceProfile, start: LightState, target: LightState, duration: float) -> list[Step]:
    """Brightness and colour in turn, never overlapping; ends with the whole target repeated at once, which
    also reaches a bulb that ignored this plan's first command because the last plan's colour still moved."""
    if duration < SPLIT_MIN:
        steps = [Step(0.0, target, duration)]
    elif not target.lit or _colour(profile, start) == _colour(profile, target):
        steps = _brightness_chain(profile, start, target, 0.0, duration)
    elif not start.lit:   # on from off: the colour first at the lowest level, where it cannot be seen
        lowest = LightState(on=True, brightness=1e-3, kelvin=target.kelvin, rgb=target.rgb)
        steps = [Step(0.0, lowest, 0.0)] + _brightness_chain(profile, lowest, target, TICK, duration)
    else:
        steps = _links(profile, start, target, duration)
    settle = max(duration, COLOUR_SEGMENT) + GAP
    return steps + [Step(_grid(settle), target, 0.0)]


def _links(profile: DeviceProfile, start: LightState, target: LightState, duration: float) -> list[Step]:
    """One colour transition per link; brightening moves the colour before the brightness (while dimmer),
    dimming after it."""
    count = max(1, math.ceil(duration / COLOUR_LINK))
    longest = _longest_colour(profile)
    colour_first = _b(target) > _b(start)
    steps: list[Step] = []
    for i in range(count):
        t0, t1 = _grid(duration * i / count), _grid(duration * (i + 1) / count)
        s0, s1 = interpolate(start, target, i / count), interpolate(start, target, (i + 1) / count)
        colour = max(TICK, _grid(min(longest, (t1 - t0) * COLOUR_SHARE), down=True))
        gap = 0.0 if i == count - 1 and not colour_first else GAP   # the last one's gap: before the settle
        brightness = t1 - t0 - colour - gap
        lit = s0 if colour_first else s1
        shade = Step(t0 if colour_first else t1 - colour - gap,
                     LightState(on=True, brightness=lit.brightness, kelvin=s1.kelvin, rgb=s1.rgb), colour)
        dim = Step(t0 + colour + gap if colour_first else t0, _without_colour(s1), brightness)
        moved = [_colour(profile, s0) != _colour(profile, s1),
                 brightness_value(profile, _b(s0)) != brightness_value(profile, _b(s1))]
        pair = [(shade, moved[0]), (dim, moved[1])] if colour_first else [(dim, moved[1]), (shade, moved[0])]
        steps += [step for step, needed in pair if needed]
    return steps or [Step(0.0, target, 0.0)]


def _brightness_chain(profile: DeviceProfile, start: LightState, target: LightState, begin: float,
                      end: float) -> list[Step]:
    """Brightness alone, in native chunks, the colour left as the bulb has it."""
    spec = profile.capabilities.transition
    assert spec is not None   # chains are planned only for lights that fade natively
    count = max(1, math.ceil((end - begin) / spec.max - 1e-9))
    bounds = [_grid(begin + (end - begin) * i / count) for i in range(count + 1)]
    return [Step(bounds[i], _without_colour(interpolate(start, target, (i + 1) / count)), bounds[i + 1] - bounds[i])
            for i in range(count)]


def _colour(profile: DeviceProfile, state: LightState):
    """The colour as the device would be told it (its own clamped numbers), or None when off."""
    v = device_values(profile, state, None)
    return (v.mode, v.color_temp, v.rgb) if v.on else None


def _without_colour(state: LightState) -> LightState:
    return LightState(on=state.on, brightness=state.brightness)


def _b(state: LightState) -> float:
    return state.brightness if state.lit else 0.0


def _grid(seconds: float, down: bool = False) -> float:
    ticks = math.floor(seconds / TICK + 1e-9) if down else round(seconds / TICK)
    return round(ticks * TICK, 6)
