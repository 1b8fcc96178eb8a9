"""Device payloads back to the light model: what a device says it shows, and whether it is there.

Pure, like the encoders, and driven by the same profile data. A payload that does not parse raises
`DecodeError`; the caller logs it and carries on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from room_controller import units
from room_controller.lighting.encode import (
    brightness_from_value,
    kelvin_from_value,
    lookup,
)
from room_controller.lighting.profiles import Device, Field_, StateSource

MAX_PAYLOAD = 64 * 1024  # no light reports more than this; larger payloads are refused before parsing


class DecodeError(ValueError):
    pass


@dataclass(frozen=True)
class Report:
    """What a device reported; None means it said nothing about that property."""

    online: bool | None = None
    on: bool | None = None
    brightness: float | None = None
    kelvin: float | None = None
    rgb: tuple[int, int, int] | None = None


def topics(device: Device) -> list[str]:
    """Every topic this device reports on (state and availability)."""
    out = [device.topic(s.topic) for s in device.profile.state]
    if device.profile.availability:
        out.append(device.topic(device.profile.availability.topic))
    return out


def decode(device: Device, topic: str, payload: bytes) -> Report | None:
    """The report in a message on one of the device's topics, or None if the topic is not its."""
    profile = device.profile
    if len(payload) > MAX_PAYLOAD:
        raise DecodeError(f"{len(payload)} bytes is too large for a light's report")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise DecodeError("payload is not UTF-8 text") from None
    if profile.availability and topic == device.topic(profile.availability.topic):
        return Report(online=_availability(profile.availability, text))
    for source in profile.state:
        if topic == device.topic(source.topic):
            return _plain(device, source, text) if source.format == "plain" else _json(device, source, text)
    return None


def _availability(spec, text: str) -> bool:
    value = text
    if spec.path and text.startswith("{"):
        try:
            value = str(lookup(json.loads(text), spec.path))
        except (ValueError, KeyError):
            raise DecodeError(f"availability payload {text[:80]!r} has no {spec.path!r}") from None
    lowered = value.lower()
    if lowered in (v.lower() for v in spec.online):
        return True
    if lowered in (v.lower() for v in spec.offline):
        return False
    raise DecodeError(f"availability payload {text[:80]!r} is neither {spec.online} nor {spec.offline}")


def _plain(device: Device, source: StateSource, text: str) -> Report:
    if source.plain == "brightness":
        try:
            value = float(text)
        except ValueError:
            raise DecodeError(f"brightness {text[:80]!r} is not a number") from None
        if not math.isfinite(value):
            raise DecodeError(f"brightness {text[:80]!r} is not a number")
        if value <= 0:
            return Report(on=False)
        return Report(on=True, brightness=brightness_from_value(device.profile, value))
    if source.plain == "hex":
        try:
            return Report(rgb=units.parse_hex_colour(text))
        except ValueError as exc:
            raise DecodeError(str(exc)) from None
    if text.upper() in ("ON", "TRUE", "1"):
        return Report(on=True)
    if text.upper() in ("OFF", "FALSE", "0"):
        return Report(on=False)
    raise DecodeError(f"state {text[:80]!r} is neither ON nor OFF")


def _json(device: Device, source: StateSource, text: str) -> Report:
    try:
        body = json.loads(text)
    except ValueError:
        raise DecodeError(f"not JSON: {text[:80]!r}") from None
    if not isinstance(body, dict):
        raise DecodeError(f"expected a JSON object, got {text[:80]!r}")
    values: dict[str, Any] = {}
    for name, field in source.fields.items():
        try:
            raw = lookup(body, field.path)
        except KeyError:
            continue
        try:
            values.update(_field(device, name, field, raw))
        except (TypeError, ValueError, KeyError, ArithmeticError) as exc:   # a zero mired, an infinite hue
            raise DecodeError(f"{field.path}: cannot read {raw!r}: {exc}") from None
    return Report(**values)


def _field(device: Device, name: str, field: Field_, raw: Any) -> dict[str, Any]:
    profile = device.profile
    if name == "state":
        if _same(raw, field.on):
            return {"on": True}
        if _same(raw, field.off):
            return {"on": False}
        raise ValueError(f"neither {field.on!r} nor {field.off!r}")
    if name == "brightness":
        if raw is None:
            return {}
        return {"brightness": brightness_from_value(profile, _number(raw))}
    if name == "color_temp":
        if raw is None or profile.capabilities.color_temp is None:
            return {}
        return {"kelvin": kelvin_from_value(profile, _number(raw))}
    return {"rgb": _colour(field, raw)}


def _same(raw: Any, expected: Any) -> bool:
    if isinstance(raw, str) and isinstance(expected, str):
        return raw.lower() == expected.lower()
    return raw == expected and type(raw) is type(expected)


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise ValueError("not a number")   # Python's JSON reads NaN and Infinity: no device means them
    return float(raw)


def _colour(field: Field_, raw: Any) -> tuple[int, int, int]:
    fmt = field.format or "rgb_object"
    if fmt == "xy_object":
        return units.xy_to_rgb(_number(raw["x"]), _number(raw["y"]))
    if fmt == "rgb_object":
        return _rgb(raw["r"], raw["g"], raw["b"])
    if fmt == "rgb_list":
        return _rgb(*raw[:3])
    if fmt == "rgb_nested":
        return _rgb(*raw[0][:3])
    if fmt == "hex":
        return units.parse_hex_colour(raw)
    if fmt == "hsb_string":
        hue, sat, _ = (float(p) for p in str(raw).split(","))
        return _hsv_rgb(hue, sat / 100)
    keys = field.keys or ["red", "green", "blue"]
    return _rgb(*(raw[k] for k in keys))


def _rgb(*channels: Any) -> tuple[int, int, int]:
    values = tuple(int(_number(c)) for c in channels)
    if len(values) != 3 or any(not 0 <= c <= 255 for c in values):
        raise ValueError("colour channels must be three numbers 0-255")
    return values  # type: ignore[return-value]


def _hsv_rgb(hue: float, sat: float) -> tuple[int, int, int]:
    """Full-value colour of a hue and saturation (the brightness is reported separately)."""
    c = sat
    x = c * (1 - abs((hue / 60) % 2 - 1))
    sector = int(hue // 60) % 6
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][sector]
    m = 1 - c
    return round((r + m) * 255), round((g + m) * 255), round((b + m) * 255)
