"""Units the room speaks in, and the conversions to what devices speak.

Inside the controller brightness is perceived lightness 0-100 (CIE L*), colour temperature is kelvin and
colour is sRGB 0-255. Devices get their own scales only at the edge (lighting.encode). Everything here is
pure and cheap: it runs on every fade step.
"""

from __future__ import annotations

import math
import re

from room_controller.i18n.said import SaidError

KELVIN_MIN = 1800
KELVIN_MAX = 6500
# The longest duration anything in the room may have: a week, far longer than any session, phase, fade or
# reminder, and far below what turns session sums into Infinity (1e308 s phases) or ints into OverflowError.
MAX_DURATION = 7 * 24 * 3600.0
# The largest number any file or request may hold (1e9 is above every port, scale, count and kelvin): a
# 401-digit integer or 1e308 is refused where it is read, not met later as OverflowError or `Infinity`.
MAX_NUMBER = 1e9

_DURATION = re.compile(r"^\s*(?:(?P<h>\d+(?:\.\d+)?)h)?\s*(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?\s*"
                       r"(?:(?P<s>\d+(?:\.\d+)?)s)?\s*(?:(?P<ms>\d+)ms)?\s*$")


def parse_duration(value: str | int | float) -> float:
    """Seconds from `90s`, `20m`, `1h30m`, `250ms` or a plain number of seconds, at most MAX_DURATION.

    Raises ValueError (a SaidError, so `check` can say it in the room's language) with the accepted forms,
    so a config error can say what would have worked, and a negative length as such.
    """
    if isinstance(value, bool):
        raise SaidError("check.duration_bool")
    if isinstance(value, int) and abs(value) > MAX_DURATION:   # before float(): a huge int overflows it
        raise SaidError("check.duration_too_long", value=f"{_short(value)} s", longest=format_duration(MAX_DURATION))
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif not isinstance(value, str) or len(value) > 40:
        raise SaidError("check.not_duration", value=_short(value))
    else:
        seconds = _seconds(value)
    if not math.isfinite(seconds):
        raise SaidError("check.not_duration", value=_short(value))
    if seconds < 0:
        raise SaidError("check.duration_negative", value=_short(value))
    if seconds > MAX_DURATION:
        raise SaidError("check.duration_too_long", value=_short(value), longest=format_duration(MAX_DURATION))
    return seconds


def _seconds(value: str) -> float:
    """A duration's text in seconds, negative when it is a duration with a minus sign before it."""
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if text.startswith("-") and not text.startswith("--"):
        try:
            return -_seconds(text[1:])
        except SaidError:
            pass
    match = _DURATION.match(text)
    if not text or not match or not any(match.groupdict().values()):
        raise SaidError("check.not_duration", value=repr(value))
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0) + parts.get("ms", 0) / 1000


def _short(value: object) -> str:
    """A value for a message, cut short: a 401-digit number is not echoed whole."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:20]}...({len(text)} characters)"


def bounded_number(value: object) -> object:
    """`value` itself if it is no number or a finite one within +-MAX_NUMBER; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise SaidError("check.not_finite", value=repr(value))
    if abs(value) > MAX_NUMBER:
        raise SaidError("check.number_too_large", value=_short(value), most=f"{MAX_NUMBER:.0e}")
    return value


def format_duration(seconds: float) -> str:
    """The short form people write (`1h30m`, `45s`), for messages and files written back."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return out or "0s"


# -- brightness ---------------------------------------------------------------------------------------------

def lightness_to_luminance(lightness: float) -> float:
    """CIE L* (0-100) to relative luminance Y (0-1): what a linear-output device needs."""
    lightness = min(100.0, max(0.0, lightness))
    if lightness > 8.0:
        return ((lightness + 16.0) / 116.0) ** 3
    return lightness / 903.3


def luminance_to_lightness(luminance: float) -> float:
    """Relative luminance Y (0-1) back to CIE L* (0-100)."""
    luminance = min(1.0, max(0.0, luminance))
    if luminance > 216 / 24389:
        return 116.0 * luminance ** (1 / 3) - 16.0
    return luminance * 903.3


# -- colour temperature -------------------------------------------------------------------------------------

def kelvin_to_mired(kelvin: float) -> float:
    return 1_000_000.0 / kelvin


def mired_to_kelvin(mired: float) -> float:
    return 1_000_000.0 / mired


def kelvin_to_xy(kelvin: float) -> tuple[float, float]:
    """CIE 1931 xy of a black body (Kim et al. 2002 cubic fit, valid 1667-25000 K)."""
    t = min(25000.0, max(1667.0, float(kelvin)))
    if t <= 4000:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def xy_to_rgb(x: float, y: float) -> tuple[int, int, int]:
    """sRGB (0-255, brightest channel at 255) of a chromaticity; brightness is sent separately."""
    y = max(y, 1e-6)
    big_x, big_y, big_z = x / y, 1.0, (1.0 - x - y) / y
    r = 3.2404542 * big_x - 1.5371385 * big_y - 0.4985314 * big_z
    g = -0.9692660 * big_x + 1.8760108 * big_y + 0.0415560 * big_z
    b = 0.0556434 * big_x - 0.2040259 * big_y + 1.0572252 * big_z
    linear = [max(0.0, c) for c in (r, g, b)]
    peak = max(linear) or 1.0

    def encode(c: float) -> int:
        c /= peak
        s = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        return round(255 * min(1.0, max(0.0, s)))

    return encode(linear[0]), encode(linear[1]), encode(linear[2])


def kelvin_to_rgb(kelvin: float) -> tuple[int, int, int]:
    """The colour of warm white light for a device with only RGB (1800 K is a deep amber)."""
    return xy_to_rgb(*kelvin_to_xy(kelvin))


def rgb_to_xy(rgb: tuple[int, int, int]) -> tuple[float, float]:
    """CIE xy of an sRGB colour, for Zigbee bulbs that take `color: {x, y}`."""
    def linear(c: int) -> float:
        s = c / 255.0
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    big_x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b
    big_y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    big_z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b
    total = big_x + big_y + big_z
    if total == 0:
        return 0.3127, 0.3290  # black has no chromaticity: use the D65 white point
    return big_x / total, big_y / total


def rgb_to_hsb(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Hue 0-360, saturation 0-100, value 0-100 (Tasmota's HSBColor)."""
    r, g, b = (c / 255.0 for c in rgb)
    high, low = max(r, g, b), min(r, g, b)
    delta = high - low
    if delta == 0:
        hue = 0.0
    elif high == r:
        hue = 60 * (((g - b) / delta) % 6)
    elif high == g:
        hue = 60 * ((b - r) / delta + 2)
    else:
        hue = 60 * ((r - g) / delta + 4)
    sat = 0.0 if high == 0 else delta / high
    return round(hue) % 360, round(sat * 100), round(high * 100)


def parse_hex_colour(text: str) -> tuple[int, int, int]:
    """`#RRGGBB` (or `RRGGBB`) to a tuple; ValueError otherwise."""
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a colour; write it as #RRGGBB")
    value = match.group(1)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)
