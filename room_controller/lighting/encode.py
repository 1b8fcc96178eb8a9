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

    @property
    def fading(self) -> bool:
        return bool(self.transition)


def device_values(profile: DeviceProfile, state: LightState, transition: float | None) -> DeviceValues:
    caps = profile.capabilities
    trans = transition_value(profile, transition)
    if not state.lit:
        return DeviceValues(on=False, transition=trans)
    mode, color_temp, rgb = None, None, None
    if state.kelvin is not None:
        if caps.color and (caps.color_temp is None or state.kelvin < caps.color_temp.kelvin_range[0] - 0.5):
            mode, rgb = "colour", units.kelvin_to_rgb(state.kelvin)
        elif caps.color_temp is not None:
            mode, color_temp = "white", color_temp_value(profile, state.kelvin)
    elif state.rgb is not None and caps.color:
        mode, rgb = "colour", state.rgb
    return DeviceValues(True, brightness_value(profile, state.brightness), mode, color_temp, rgb, trans)


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
    if v.mode == "white" and "color_temp" in fields:
        parts["color_temp"] = v.color_temp
    if v.mode == "colour" and v.rgb is not None and "color" in fields:
        parts["color"] = colour_payload(fields["color"], v.rgb)
    if v.transition is not None and "transition" in fields:
        parts["transition"] = v.transition
    # A bulb that runs one transition at a time (quirks.fade_one_property) still gets one message: two would
    # start two transitions. The fade planner sends it brightness and colour changes in turn.
    body: dict[str, Any] = json.loads(device.topic(json.dumps(command.static)))
    for name in fields:  # the profile's order is the wire order
        if name in parts:
            _put(body, fields[name].path, parts[name])
    return [json.dumps(body, separators=(",", ":"))]


def colour_payload(field: Field_, rgb: tuple[int, int, int]) -> Any:
    r, g, b = rgb
    fmt = field.format or "rgb_object"
    if fmt == "xy_object":
        x, y = units.rgb_to_xy(rgb)
        return {"x": round(x, 4), "y": round(y, 4)}
    if fmt == "rgb_object":
        return {"r": r, "g": g, "b": b}
    if fmt == "rgb_list":
        return [r, g, b]
    if fmt == "rgb_nested":
        return [[r, g, b]]
    if fmt == "hex":
        return units.hex_colour(rgb)
    if fmt == "hsb_string":
        return "{},{},{}".format(*units.rgb_to_hsb(rgb))
    return dict(zip(field.keys or ["red", "green", "blue"], rgb))  # rgb_keys: spread over the payload


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
             "fading": v.fading, "instant": not v.fading, "ct": v.on and v.mode == "white",
             "dim": v.on and v.mode is None}
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
    elif v.mode == "colour" and v.rgb is not None:
        r, g, b = v.rgb
        hue, sat, _ = units.rgb_to_hsb(v.rgb)
        x, y = units.rgb_to_xy(v.rgb)
        out.update(r=str(r), g=str(g), b=str(b), hex=units.hex_colour(v.rgb)[1:], hue=str(hue),
                   saturation=str(sat), x=f"{x:.4f}", y=f"{y:.4f}")
    return out


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
