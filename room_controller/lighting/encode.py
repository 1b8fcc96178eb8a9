"""Light state to device payloads: pure, so every family's wire format is tested exactly.

`encode(device, state, transition)` turns the one internal light model into the messages a device family
documents (docs/devices.md). The brightness curve, the white range, the warm-white-by-RGB fallback
and the transition unit all come from the device's profile; nothing here knows a brand.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from room_controller import units
from room_controller.lighting.profiles import (
    CONDITIONS,
    MODE_CHANNELS,
    TUNABLE,
    ColorTemp,
    Device,
    DeviceProfile,
    Field_,
    JsonCommand,
    TemplateCommand,
)
from room_controller.lighting.state import LightState, MqttMessage

_VAR = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class DeviceValues:
    """A light state in one device's own numbers."""

    on: bool
    brightness: int | None = None
    mode: str | None = None  # "white", "colour" or None (colour left as it is)
    color_temp: int | None = None
    rgb: tuple[int, int, int] | None = None
    transition: float | int | None = None
    color_mode: str | None = None   # the light type's mode this command uses (profiles.MODE_CHANNELS)
    white: tuple[int, ...] = ()     # white channels 0-255 sent with the colour: (w,) or (cold, warm)

    @property
    def fading(self) -> bool:
        return bool(self.transition)

    @property
    def sends_color_temp(self) -> bool:
        return self.color_temp is not None and "ct" in MODE_CHANNELS.get(self.color_mode or "color_temp", {"ct"})


def device_values(profile: DeviceProfile, state: LightState, transition: float | None) -> DeviceValues:
    """What the device is told, by its light type: a white in the mode with a white of its own range, else a
    white channel, else made of colour; a colour in its colour mode. A mode that lights colour and white
    together (no interlock) gets the other's channels at 0, so nothing of the last scene stays lit."""
    caps = profile.capabilities
    trans = transition_value(profile, transition)
    if not state.lit:
        return DeviceValues(on=False, transition=trans)
    brightness = brightness_value(profile, state.brightness)
    light = caps.light_type
    colour = light.colour_mode
    rgb = state.rgb
    if state.kelvin is not None:
        white = light.white_mode
        too_warm = caps.color_temp is not None and state.kelvin < caps.color_temp.kelvin_range[0] - 0.5
        if white in TUNABLE and not (too_warm and colour):
            return DeviceValues(True, brightness, "white", color_temp_value(profile, state.kelvin),
                                (0, 0, 0) if light.mixes(white) else None, trans, white,
                                _white_channels(profile, white, state.kelvin))
        if white == "rgbw":
            rgb, w = rgbw_white(state.kelvin, caps.white_kelvin)
            return DeviceValues(True, brightness, "white", None, rgb, trans, white, (w,))
        if white == "white" and not (too_warm and colour):
            return DeviceValues(True, brightness, "white", None, None, trans, white, (255,))
        rgb = units.kelvin_to_rgb(state.kelvin) if colour else None
    if rgb is None or colour is None:
        return DeviceValues(True, brightness, transition=trans)
    zeros = (0, 0) if colour == "rgbww" else (0,) if light.mixes(colour) else ()
    return DeviceValues(True, brightness, "colour", None, rgb, trans, colour, zeros)


def _white_channels(profile: DeviceProfile, mode: str, kelvin: float) -> tuple[int, ...]:
    """rgbww: cold and warm white as ESPHome mixes a colour temperature itself (light_call.cpp
    transform_parameters_: each channel's share of the mired range over the larger share, gamma-uncorrected),
    so the mix is set directly and no colour temperature is sent; rgbct: its white channel full."""
    if mode == "rgbct":
        return (255,)
    if mode != "rgbww":
        return ()
    coolest, warmest = (units.kelvin_to_mired(k) for k in reversed(_white_range(profile).kelvin_range))
    mired = min(warmest, max(coolest, units.kelvin_to_mired(kelvin)))
    warm = (mired - coolest) / (warmest - coolest)
    top = max(warm, 1.0 - warm)
    gamma = profile.capabilities.channel_gamma
    return tuple(round(255 * (share / top) ** (1.0 / gamma)) for share in (1.0 - warm, warm))


def rgbw_white(kelvin: float, white_kelvin: float | None) -> tuple[tuple[int, int, int], int]:
    """A white on an RGBW light: as much of it from the white channel as its colour allows, the rest of the
    tint from RGB, the brightest channel at 255 (Home Assistant's color_rgb_to_rgbw, for a white channel of
    `white_kelvin`; None: pure white)."""
    target = units.kelvin_to_rgb(kelvin)
    w_colour = units.kelvin_to_rgb(white_kelvin) if white_kelvin else (255, 255, 255)
    share = min(t / c for t, c in zip(target, w_colour) if c > 0)
    rest = [max(0.0, t - share * c) for t, c in zip(target, w_colour)]
    scale = 255 / max(*rest, share * 255)
    r, g, b = (round(c * scale) for c in rest)
    return (r, g, b), round(share * 255 * scale)


def brightness_value(profile: DeviceProfile, brightness: float) -> int:
    """Perceived brightness 0-100 to the device's scale, never below its lowest value that stays on."""
    scale = profile.capabilities.brightness
    fraction = brightness / 100.0
    if scale.curve == "linear_light":
        fraction = units.lightness_to_luminance(brightness)
    return min(scale.max, max(scale.min_on, round(fraction * scale.max)))


def brightness_from_value(profile: DeviceProfile, value: float) -> float:
    scale = profile.capabilities.brightness
    fraction = min(1.0, max(0.0, value / scale.max))
    if scale.curve == "linear_light":
        return units.luminance_to_lightness(fraction)
    return fraction * 100.0


def color_temp_value(profile: DeviceProfile, kelvin: float) -> int:
    ct = _white_range(profile)
    value = units.kelvin_to_mired(kelvin) if ct.unit == "mired" else kelvin
    return round(min(ct.max, max(ct.min, value)))


def kelvin_from_value(profile: DeviceProfile, value: float) -> float:
    ct = _white_range(profile)
    value = min(ct.max, max(ct.min, value))   # within the device's range: a report of 0 mired is no colour
    return units.mired_to_kelvin(value) if ct.unit == "mired" else float(value)


def _white_range(profile: DeviceProfile) -> ColorTemp:
    """Only a light with a white range is given or reports a white value (device_values decides)."""
    ct = profile.capabilities.color_temp
    assert ct is not None, f"{profile.name} has no colour temperature"
    return ct


PER_SECOND = {"s": 1, "ds": 10, "ms": 1000, "half_s": 2}   # a transition unit's steps in one second


def transition_value(profile: DeviceProfile, seconds: float | None) -> float | int | None:
    """Seconds in the device's unit, within what it accepts; None when it has no native fade.

    `min` holds for an instant change too: a device that takes nothing shorter than 0.5 s (Shelly's RPC) gets
    0.5 s. A whole-number device (ESPHome) gets the fraction rounded up: a fade never runs shorter than asked.
    """
    spec = profile.capabilities.transition
    if spec is None or seconds is None:
        return None
    seconds = max(spec.min, min(spec.max, seconds))
    factor = PER_SECOND[spec.unit]
    if spec.integer:
        return math.ceil(seconds * factor - 1e-9)
    if spec.unit == "s":
        rounded = round(seconds, 1)
        return int(rounded) if rounded == int(rounded) else rounded
    return round(seconds * factor)


def encode(device: Device, state: LightState, transition: float | None = 0.0) -> list[MqttMessage]:
    """The messages that make `device` show `state`, fading over `transition` seconds where it can."""
    profile = device.profile
    values = device_values(profile, state, transition)
    if isinstance(profile.command, JsonCommand):
        payloads = _json_payloads(device, profile.command, values)
        topic = device.topic(profile.command.topic)
        return [MqttMessage(topic, p, profile.qos) for p in payloads]
    return _template_messages(device, profile.command, values, transition)


# -- JSON devices ---------------------------------------------------------------------------------------------

def _json_payloads(device: Device, command: JsonCommand, v: DeviceValues) -> list[str]:
    fields = command.fields
    parts: dict[str, Any] = {}
    if "state" in fields:
        parts["state"] = fields["state"].on if v.on else fields["state"].off
    if v.on and "brightness" in fields:
        parts["brightness"] = v.brightness
    if v.mode == "white" and v.sends_color_temp and "color_temp" in fields:
        parts["color_temp"] = v.color_temp
    if (v.rgb is not None or v.white) and "color" in fields:
        parts["color"] = colour_payload(fields["color"], v.rgb, v.white)
    if v.transition is not None and "transition" in fields:
        parts["transition"] = v.transition
    # A bulb that runs one transition at a time (quirks.fade_one_property) still gets one message: two would
    # start two transitions. The fade planner sends it brightness and colour changes in turn.
    body: dict[str, Any] = json.loads(device.topic(json.dumps(command.static)))
    for name in fields:  # the profile's order is the wire order
        if name in parts:
            _put(body, fields[name].path, parts[name])
    count, key = device.profile.capabilities.segments, command.segments
    if count and key and isinstance(body.get(key), dict):   # every segment by its id, selected or not
        body[key] = [{"id": i, **body[key]} for i in range(count)]
    return [json.dumps(body, separators=(",", ":"))]


def colour_payload(field: Field_, rgb: tuple[int, int, int] | None, white: tuple[int, ...] = ()) -> Any:
    """The colour in the field's format, with the white channels where the format has them: `w` (and `c`
    before it for cold and warm) in an object as Home Assistant's rgbw/rgbww modes send them, a fourth value
    in a list (WLED's `col`), the profile's keys in turn for rgb_keys. A white alone (ESPHome's white mode)
    is an object of its white channels."""
    fmt = field.format or "rgb_object"
    channels = [*(rgb or ()), *white]
    if fmt == "rgb_object":
        names = [*("rgb" if rgb is not None else ""), *(("c", "w") if len(white) == 2 else ("w",) * len(white))]
        return dict(zip(names, channels))
    if rgb is None:   # a list or keys carry the colour channels before the white: at 0
        rgb, channels = (0, 0, 0), [0, 0, 0, *white]
    if fmt == "xy_object":
        x, y = units.rgb_to_xy(rgb)
        return {"x": round(x, 4), "y": round(y, 4)}
    if fmt == "rgb_list":
        return channels
    if fmt == "rgb_nested":
        return [channels]
    if fmt == "hex":
        return units.hex_colour(rgb)
    if fmt == "hsb_string":
        return "{},{},{}".format(*units.rgb_to_hsb(rgb))
    return dict(zip(field.keys or ["red", "green", "blue", "white"], channels))  # rgb_keys: spread over the payload


def _put(body: dict, path: str, value: Any) -> None:
    """Set `value` at a dotted path such as `params.brightness` or `seg[0].col`; rgb_keys spread."""
    node: Any = body
    steps = _steps(path)
    for step, nxt in zip(steps, steps[1:]):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
            node = node[step]
        else:
            node = node.setdefault(step, [] if isinstance(nxt, int) else {})
    last = steps[-1]
    if last == "*" and isinstance(value, dict):
        node.update(value)
    elif isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for segment in path.split("."):
        match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", segment)
        if not match:
            steps.append(segment)
            continue
        steps.append(match.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return steps


def lookup(body: Any, path: str) -> Any:
    """The value at a dotted path, or KeyError."""
    node = body
    for step in _steps(path):
        if step == "*":
            return node
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise KeyError(path)
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                raise KeyError(path)
            node = node[step]
    return node


# -- template devices -----------------------------------------------------------------------------------------

def _template_messages(device: Device, command: TemplateCommand, v: DeviceValues,
                       seconds: float | None = None) -> list[MqttMessage]:
    variables = template_variables(device, v)
    flags = {"on": v.on, "off": not v.on, "white": v.on and v.mode != "colour", "colour": v.mode == "colour",
             "fading": v.fading, "instant": not v.fading, "ct": v.on and v.mode == "white" and v.sends_color_temp,
             "dim": v.on and v.mode is None}
    flags.update({f"mode_{m}": v.color_mode == m for m in MODE_CHANNELS if f"mode_{m}" in CONDITIONS})
    out = []
    for msg in command.messages:
        if not all(flags[c] for c in msg.when):
            continue
        if msg.parts is not None:
            chosen = [p for p in msg.parts if all(flags[c] for c in p.when)]
            filled = [_fill(p.text, _later(device, variables, seconds, i * msg.spacing, v.fading))
                      for i, p in enumerate(chosen)]
            texts = [t for t in filled if t is not None]
            if not texts:
                continue
            payload: str | None = msg.prefix + msg.join.join(texts)
        else:
            payload = _fill(msg.payload or "", variables)
        topic = _fill(msg.topic, variables)
        if payload is None or topic is None:
            continue
        out.append(MqttMessage(topic, payload, device.profile.qos))
    return out


def _later(device: Device, variables: dict[str, str], seconds: float | None, delay: float,
           fading: bool) -> dict[str, str]:
    """The variables for a part the device runs `delay` seconds after the first: its fade is that much shorter,
    so all parts' fades end together (still a fade, never instant, when the message fades)."""
    spec = device.profile.capabilities.transition
    if not delay or seconds is None or "transition" not in variables or spec is None:
        return variables
    rest = min(seconds, spec.max) - delay
    if fading:
        rest = max(rest, spec.min, 1.0 / PER_SECOND[spec.unit])
    return {**variables, "transition": str(transition_value(device.profile, max(0.0, rest)))}


def template_variables(device: Device, v: DeviceValues) -> dict[str, str]:
    out = {"device": device.device, "client_id": device.client_id, "state": "ON" if v.on else "OFF"}
    if v.transition is not None:
        out["transition"] = str(v.transition)
    if not v.on:
        return out
    out["brightness"] = str(v.brightness)
    if v.mode == "white" and v.color_temp is not None:
        kelvin = kelvin_from_value(device.profile, v.color_temp)
        out.update(color_temp=str(v.color_temp), kelvin=str(round(kelvin)),
                   mired=str(round(units.kelvin_to_mired(kelvin))))
    if v.white:
        out.update(zip(("cw", "ww") if len(v.white) == 2 else ("w",), map(str, v.white)))
    if v.color_mode is not None:
        out["channels"] = ",".join(map(str, level_channels(device.profile, v)))
    if v.rgb is not None:
        r, g, b = v.rgb
        hue, sat, _ = units.rgb_to_hsb(v.rgb)
        x, y = units.rgb_to_xy(v.rgb)
        out.update(r=str(r), g=str(g), b=str(b), hex=units.hex_colour(v.rgb)[1:], hue=str(hue),
                   saturation=str(sat), x=f"{x:.4f}", y=f"{y:.4f}")
    return out


def level_channels(profile: DeviceProfile, v: DeviceValues) -> tuple[int, ...]:
    """The command's channels at its level, 0-255, as Tasmota's `Color` takes them in one command
    (CmndSupportColor, xdrv_04_light.ino 2698-2757): colour then white channels scaled by the level; a white of
    a tunable range as cold and warm that sum to the level, split linearly in mired as Tasmota's setCT does."""
    level = round(v.brightness * 255 / profile.capabilities.brightness.max) if v.brightness is not None else 0
    if v.color_mode == "color_temp" and v.color_temp is not None:
        coolest, warmest = (units.kelvin_to_mired(k) for k in reversed(_white_range(profile).kelvin_range))
        mired = units.kelvin_to_mired(kelvin_from_value(profile, v.color_temp))
        warm = round(level * (mired - coolest) / (warmest - coolest))
        return level - warm, warm
    return tuple(round(c * level / 255) for c in (*(v.rgb or ()), *v.white))


def _fill(text: str, variables: dict[str, str]) -> str | None:
    """The text with its variables filled in, or None when one of them has no value for this state."""
    missing = False

    def sub(match: re.Match) -> str:
        nonlocal missing
        if match.group(1) not in variables:
            missing = True
            return ""
        return variables[match.group(1)]

    filled = _VAR.sub(sub, text)
    return None if missing else filled
