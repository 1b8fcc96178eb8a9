"""Device payloads back to the light model: what a device says it shows, and whether it is there.

Pure, like the encoders, and driven by the same profile data. Each field of a report is read on its own:
a bad field becomes a line in `Report.problems` and the good fields of the same report are kept. A
payload with nothing readable in it raises `DecodeError`; the caller logs either and carries on.

Devices report a white and a colour at once (Zigbee2MQTT's colour sync, Tasmota's CT beside HSBColor), so
the device's own word for its mode (`color_mode`) decides which of the two it shows; without one, a
report keeps both and the reader prefers the white. docs/devices.md, "Reading reports", has the sources.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from room_controller import units
from room_controller.lighting.encode import (
    brightness_from_value,
    kelvin_from_value,
    lookup,
)
from room_controller.lighting.profiles import Device, StateField, StateSource

MAX_PAYLOAD = 64 * 1024  # no light reports more than this; larger payloads are refused before parsing
_READ_ERRORS = (TypeError, ValueError, KeyError, IndexError, ArithmeticError)
_COLOUR_KEYS = {"x", "y", "r", "g", "b", "h", "s", "hue", "saturation"}


class DecodeError(ValueError):
    pass


@dataclass(frozen=True)
class Report:
    """What a device reported; None means it said nothing about that property.

    `mode` is what the device says it shows ("white" or "color"); `problems` are the fields that could not
    be read, one line each, for the caller to log.
    """

    online: bool | None = None
    on: bool | None = None
    brightness: float | None = None
    kelvin: float | None = None
    rgb: tuple[int, int, int] | None = None
    mode: Literal["white", "color"] | None = None
    problems: tuple[str, ...] = ()

    returned: bool = False   # went offline and came back since the last report the core saw (folded)

    def then(self, newer: Report) -> Report:
        """This report and a newer one as one, for a core that could not keep up: the newer wins wherever
        it says anything; white or colour is taken whole from whichever said it last."""
        shows = newer if any(v is not None for v in (newer.kelvin, newer.rgb, newer.mode)) else self
        return Report(
            online=self.online if newer.online is None else newer.online,
            on=self.on if newer.on is None else newer.on,
            brightness=self.brightness if newer.brightness is None else newer.brightness,
            kelvin=shows.kelvin, rgb=shows.rgb, mode=shows.mode,
            problems=(self.problems + newer.problems)[-4:],
            returned=self.returned or newer.returned or (self.online is False and newer.online is True))

    @property
    def says_state(self) -> bool:
        """Does it say anything about what the light shows (not only whether it is there)?"""
        return any(v is not None for v in (self.on, self.brightness, self.kelvin, self.rgb, self.mode))


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
            value = str(lookup(_parse(text), spec.path))
        except KeyError:
            raise DecodeError(f"availability payload {text[:80]!r} has no {spec.path!r}") from None
    lowered = value.lower()
    if lowered in (v.lower() for v in spec.online):
        return True
    if lowered in (v.lower() for v in spec.offline):
        return False
    raise DecodeError(f"availability payload {text[:80]!r} is neither {spec.online} nor {spec.offline}")


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):   # 64 KiB of "[" nests deeper than Python's JSON reader goes
        raise DecodeError(f"not JSON: {text[:80]!r}") from None


def _plain(device: Device, source: StateSource, text: str) -> Report:
    if source.plain == "brightness":
        try:
            value = _number(float(text))
        except ValueError:
            raise DecodeError(f"brightness {text[:80]!r} is not a number") from None
        if value <= 0:
            return Report(on=False)
        return Report(on=True, brightness=brightness_from_value(device.profile, value))
    if source.plain == "hex":
        try:
            return _settled(_wled_colour(text))
        except ValueError as exc:
            raise DecodeError(str(exc)) from None
    if text.upper() in ("ON", "TRUE", "1"):
        return Report(on=True)
    if text.upper() in ("OFF", "FALSE", "0"):
        return Report(on=False)
    raise DecodeError(f"state {text[:80]!r} is neither ON nor OFF")


def _wled_colour(text: str) -> Report:
    """WLED's `/c`: `#%06X` of W << 24 | R << 16 | G << 8 | B, 6 to 8 hex digits (wled00/mqtt.cpp:172).

    The white LEDs of an RGBW strip add to every channel as the eye sees it; white alone is white.
    """
    match = re.fullmatch(r"#?([0-9a-fA-F]{6,8})", text)
    if not match:
        raise ValueError(f"colour {text[:80]!r} is not #RRGGBB or WLED's #WWRRGGBB")
    value = int(match.group(1), 16)
    white, rgb = value >> 24, ((value >> 16) & 255, (value >> 8) & 255, value & 255)
    if white and any(rgb):
        rgb = tuple(min(255, c + white) for c in rgb)  # type: ignore[assignment]
    return Report(rgb=rgb)


def _json(device: Device, source: StateSource, text: str) -> Report:
    body = _parse(text)
    if not isinstance(body, dict):
        raise DecodeError(f"expected a JSON object, got {text[:80]!r}")
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, field in source.fields.items():
        raw = _find(body, field)
        if raw is None:   # absent, or null: Shelly's NotifyStatus nulls a key that went away
            continue
        try:
            values.update(_field(device, name, field, raw))
        except _READ_ERRORS as exc:
            problems.append(f"{field.path}: cannot read {_short(raw)}: {exc}")
    if problems and not values:
        raise DecodeError("; ".join(problems))
    return _settled(Report(**values, problems=tuple(problems)))


def _find(body: dict, field: StateField) -> Any:
    for path in [field.path, *field.also]:
        try:
            return lookup(body, path)
        except KeyError:
            continue
    return None


def _short(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def _settled(report: Report) -> Report:
    """One of white and colour, as the device says: a black colour shows only the white channels. A device
    that says no mode but reports only one of the two shows that one."""
    mode, rgb = report.mode, report.rgb
    if rgb is not None and not any(rgb):
        mode, rgb = "white", None
    if mode is None and (report.kelvin is None) != (rgb is None):
        mode = "white" if rgb is None else "color"
    if mode == "white":
        return replace(report, mode=mode, rgb=None)
    if mode == "color":
        return replace(report, mode=mode, kelvin=None, rgb=rgb)
    return report


def _field(device: Device, name: str, field: StateField, raw: Any) -> dict[str, Any]:
    profile = device.profile
    if name == "state":
        if _same(raw, field.on):
            return {"on": True}
        if _same(raw, field.off):
            return {"on": False}
        raise ValueError(f"neither {field.on!r} nor {field.off!r}")
    if name == "brightness":
        return {"brightness": brightness_from_value(profile, _number(raw))}
    if name == "color_temp":
        if profile.capabilities.color_temp is None:
            return {}
        if _number(raw) <= 0:
            raise ValueError("a colour temperature is above zero")
        return {"kelvin": kelvin_from_value(profile, _number(raw))}
    if name == "color_mode":
        return {"mode": _mode(field, raw)}
    rgb = _colour(field, raw)
    return {} if rgb is None else {"rgb": rgb}


def _mode(field: StateField, raw: Any) -> str:
    if field.white_above is not None:
        return "white" if _number(raw) > field.white_above else "color"
    if isinstance(raw, str):
        if raw.lower() in (v.lower() for v in field.white):
            return "white"
        if raw.lower() in (v.lower() for v in field.color):
            return "color"
    raise ValueError(f"not a colour mode this device has ({', '.join(field.white + field.color)})")


def _same(raw: Any, expected: Any) -> bool:
    if isinstance(raw, str) and isinstance(expected, str):
        return raw.lower() == expected.lower()
    return raw == expected and type(raw) is type(expected)


def _number(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise ValueError("not a number")   # Python's JSON reads NaN and Infinity: no device means them
    return float(raw)


def _colour(field: StateField, raw: Any) -> tuple[int, int, int] | None:
    fmt = field.format or "rgb_object"
    if fmt in ("xy_object", "rgb_object"):
        return _colour_object(raw, xy_first=fmt == "xy_object")
    if fmt == "rgb_list":
        return _rgb(*raw[:3])
    if fmt == "rgb_nested":
        return _rgb(*raw[0][:3])
    if fmt == "hex":
        if not isinstance(raw, str):
            raise TypeError("not a #RRGGBB string")
        return units.parse_hex_colour(raw)
    if fmt == "hsb_string":
        hue, sat, _ = (_number(float(p)) for p in str(raw).split(","))
        return _hsv_rgb(hue, sat)
    keys = field.keys or ["red", "green", "blue"]
    if not any(k in raw for k in keys):   # rgb_keys spread over the whole report: a report without them
        return None
    return _rgb(*(raw[k] for k in keys))


def _colour_object(raw: Any, xy_first: bool) -> tuple[int, int, int] | None:
    """Whichever colour the object holds: ESPHome sends `{}` in white mode, Home Assistant's schema and
    Zigbee2MQTT send rgb, xy or hue/saturation by mode."""
    if not isinstance(raw, dict):
        raise TypeError("not a colour object")
    if not _COLOUR_KEYS & raw.keys():   # {} or white channels only ({"w": 255}, {"c": 200, "w": 55})
        return None
    readers = [(("x", "y"), _xy), (("r", "g", "b"), _rgb), (("hue", "saturation"), _hsv_rgb), (("h", "s"), _hsv_rgb)]
    if not xy_first:
        readers[0], readers[1] = readers[1], readers[0]
    for keys, read in readers:
        if all(k in raw for k in keys):
            return read(*(raw[k] for k in keys))
    raise KeyError(f"no colour among {sorted(raw)[:8]}")


def _xy(x: Any, y: Any) -> tuple[int, int, int]:
    x, y = _number(x), _number(y)
    if not (0 <= x <= 1 and 0 < y <= 1):
        raise ValueError("chromaticity x and y lie between 0 and 1")
    return units.xy_to_rgb(x, y)


def _rgb(*channels: Any) -> tuple[int, int, int]:
    values = tuple(int(_number(c)) for c in channels)
    if len(values) != 3 or any(not 0 <= c <= 255 for c in values):
        raise ValueError("colour channels must be three numbers 0-255")
    return values


def _hsv_rgb(hue: Any, sat: Any) -> tuple[int, int, int]:
    """Full-value colour of a hue (degrees) and saturation (0-100); the brightness is reported apart."""
    hue, sat = _number(hue) % 360, _number(sat)
    if not 0 <= sat <= 100:
        raise ValueError("saturation is 0-100")
    c = sat / 100
    x = c * (1 - abs((hue / 60) % 2 - 1))
    r, g, b = [(c, x, 0), (x, c, 0), (0, c, x), (0, x, c), (x, 0, c), (c, 0, x)][int(hue // 60) % 6]
    m = 1 - c
    return round((r + m) * 255), round((g + m) * 255), round((b + m) * 255)
