"""An ESPHome light on MQTT, reading Home Assistant's JSON schema and choosing its colour mode as ESPHome's
code does, for each light platform: rgb, rgbw, rgbww, rgbct (with and without `color_interlock`), cwww and
color_temperature.

Read from esphome/esphome at commit 33fdbbe30c4d (2024-10-25), esphome/components/light/ (line numbers there):

- light_json_schema.cpp parse_color_json 75-141: `color` r/g/b set the channels and their largest the colour
  brightness (99-118); `c` the cold white and then `w` the warm white, or `w` alone the white channel
  (120-131); `color_temp` 138-140. The value types are checked as the newer parse does (commit 0099fcc76d10,
  `is<uint8_t>`/`is<uint16_t>`): a fractional `transition` is not a whole number and the light keeps its
  default_transition_length.
- light_call.cpp validate_ 133-336: the mode is computed when none is given (145-147, compute_color_mode_
  367-412: a single supported mode; else the current one if it suits the call; else the first suitable one the
  light supports, get_suitable_color_modes_ 413-456); channels the mode lacks are dropped (153-205); a colour
  with no colour brightness given starts at full (238-242); the call is laid over the current values
  (244-267), then normalize_color (269: r=g=b=0 becomes 1,1,1 at colour brightness 0).
- light_call.cpp transform_parameters_ 337-366: in a mode with cold/warm white channels but no colour
  temperature of its own (rgbww, cwww) a colour temperature sets both channels, each its share of the mired
  range over the larger share, gamma-uncorrected (353-361); it leaves the colour channels alone. Before
  commit 1775c73e53 (ESPHome 2024.5) the channels were scaled by the white level already shown, 0 while a
  colour shows (`cwww_from_shown_white`).
- light_color_values.h as_rgb/as_rgbw/as_rgbww/as_rgbct/as_cwww/as_ct 138-209: each channel's output is its
  value x state x brightness, gamma-corrected; white channels only in modes with them (so an interlocked light
  shows one or the other); rgbct's white level is `white` in its RGB mode, 1 in its white mode (201).
- The platforms' supported modes (components/<platform>/<platform>_light_output.h get_traits): rgb {RGB};
  rgbw {RGB_WHITE} or interlocked {RGB, WHITE}; rgbww {RGB_COLD_WARM_WHITE} or {RGB, COLD_WARM_WHITE};
  rgbct {RGB_COLOR_TEMPERATURE, COLOR_TEMPERATURE} or {RGB, COLOR_TEMPERATURE} (interlock is its default).
- transformers.h 14-60: turning on starts from the target at brightness 0, turning off ends at brightness 0;
  a change of colour mode goes through off halfway (30-51); progress eased by smootherstep. A new call starts
  from the values shown at that moment.
- dump_json 11-73: the state report: color_mode, state, brightness, `color` (always; r/g/b in colour modes,
  `w` with a white channel, `c`/`w` with cold/warm), color_temp in modes with one. Topics
  <topic_prefix>/light/<object_id>/command and .../state (components/mqtt/mqtt_component.cpp 27-46).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace

from room_controller import units
from room_controller.demo.models import Answer, Shown, encoded_rgb, linear_rgb
from room_controller.lighting.state import MqttMessage

# color_mode.h: capabilities, and the modes as their sets
ON_OFF, BRIGHTNESS, WHITE, CT, CWWW, RGB = 1, 2, 4, 8, 16, 32
MODES = {"onoff": ON_OFF, "brightness": ON_OFF | BRIGHTNESS, "white": ON_OFF | BRIGHTNESS | WHITE,
         "color_temp": ON_OFF | BRIGHTNESS | CT, "cwww": ON_OFF | BRIGHTNESS | CWWW,
         "rgb": ON_OFF | BRIGHTNESS | RGB, "rgbw": ON_OFF | BRIGHTNESS | RGB | WHITE,
         "rgbct": ON_OFF | BRIGHTNESS | RGB | WHITE | CT, "rgbww": ON_OFF | BRIGHTNESS | RGB | CWWW}
PLATFORMS = {  # (without interlock, with interlock)
    "rgb": (["rgb"], ["rgb"]), "rgbw": (["rgbw"], ["rgb", "white"]), "rgbww": (["rgbww"], ["rgb", "cwww"]),
    "rgbct": (["rgbct", "color_temp"], ["rgb", "color_temp"]), "cwww": (["cwww"], ["cwww"]),
    "color_temperature": (["color_temp"], ["color_temp"]),
}
# get_suitable_color_modes_ 426-446, keyed (white, ct, cwww, rgb)
SUITABLE = {
    (1, 0, 0, 0): ["white", "rgbw", "rgbct", "cwww", "rgbww"], (0, 1, 0, 0): ["color_temp", "rgbct", "cwww", "rgbww"],
    (1, 1, 0, 0): ["cwww", "rgbct", "rgbww"], (0, 0, 1, 0): ["cwww", "rgbww"],
    (0, 0, 0, 0): ["rgbw", "rgbct", "rgbww", "rgb", "white", "color_temp", "cwww"],
    (1, 0, 0, 1): ["rgbw", "rgbct", "rgbww"], (0, 1, 0, 1): ["rgbct", "rgbww"], (1, 1, 0, 1): ["rgbct", "rgbww"],
    (0, 0, 1, 1): ["rgbww"], (0, 0, 0, 1): ["rgb", "rgbw", "rgbct", "rgbww"],
}


def smootherstep(x: float) -> float:
    return x * x * x * (x * (x * 6.0 - 15.0) + 10.0)


def is_uint(value, bits: int) -> bool:
    """ArduinoJson's is<uintN_t>(): an integer (not a float, not a bool) that fits."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** bits


@dataclass(frozen=True)
class Values:
    """LightColorValues: every channel as a fraction, and the mode that says which of them light."""

    mode: str
    state: float = 0.0
    brightness: float = 1.0
    color_brightness: float = 1.0
    red: float = 1.0
    green: float = 1.0
    blue: float = 1.0
    white: float = 1.0
    color_temperature: float = 370.0
    cold_white: float = 1.0
    warm_white: float = 1.0

    def has(self, capability: int) -> bool:
        return bool(MODES[self.mode] & capability)


def lerp(a: Values, b: Values, p: float) -> Values:
    """LightColorValues::lerp (light_color_values.h 86-100): the end's mode, every value in a straight line."""
    numbers = {f.name: getattr(a, f.name) + (getattr(b, f.name) - getattr(a, f.name)) * p
               for f in fields(Values) if f.name != "mode"}
    return Values(b.mode, **numbers)


class EspHome:
    def __init__(self, device: str, *, platform: str = "rgbct", interlock: bool = True,
                 default_transition: float = 1.0, mireds: tuple[float, float] = (153.0, 500.0), gamma: float = 2.8,
                 cwww_from_shown_white: bool = False, white_kelvin: float = 4000.0) -> None:
        """`mireds`: the cold and warm white LEDs (cold_white_color_temperature, warm_white_color_temperature);
        `white_kelvin`: the colour of an RGBW light's one white LED."""
        self.device, self.default_transition, self.gamma = device, default_transition, gamma
        self.white_mired = units.kelvin_to_mired(white_kelvin)
        self.supported = PLATFORMS[platform][interlock]
        self.mireds, self.old_transform = mireds, cwww_from_shown_white
        self.remote = Values(self.supported[0], color_temperature=370.0)
        self._start = self._end = self.remote
        self._middle: Values | None = None
        self._began, self._length = 0.0, 0.0

    def topics(self) -> list[str]:
        return [f"{self.device}/command"]

    def hello(self, at: float) -> list[Answer]:
        return [self._report(at)]

    # -- a call: parse_json, validate_, then the transition -----------------------------------------------------

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        root = json.loads(payload)
        call: dict = {}
        if isinstance(root.get("state"), str) and root["state"].upper() in ("ON", "OFF", "TOGGLE"):
            word = root["state"].upper()
            call["state"] = (not self.remote.state) if word == "TOGGLE" else word == "ON"
        if is_uint(root.get("brightness"), 8):
            call["brightness"] = root["brightness"] / 255
        colour = root.get("color")
        if isinstance(colour, dict):
            rgb = {k: colour[k] / 255 for k in "rgb" if is_uint(colour.get(k), 8)}
            call.update({"red" if k == "r" else "green" if k == "g" else "blue": v for k, v in rgb.items()})
            if rgb:
                call["color_brightness"] = max(rgb.values())
            if is_uint(colour.get("c"), 8):
                call["cold_white"] = colour["c"] / 255
            if is_uint(colour.get("w"), 8):
                call["warm_white" if "c" in colour else "white"] = colour["w"] / 255
        if is_uint(root.get("color_temp"), 16):
            call["color_temperature"] = float(root["color_temp"])
        seconds = root["transition"] if is_uint(root.get("transition"), 16) else self.default_transition
        target = self._validate(call)
        self._transition(target, at, float(seconds))
        self.remote = target
        return [self._report(at)]

    def _validate(self, call: dict) -> Values:
        mode = self._compute_mode(call)
        self._transform(call, mode)
        caps = MODES[mode]
        drop = {"brightness": BRIGHTNESS, "color_brightness": RGB, "cold_white": CWWW, "warm_white": CWWW}
        for key, needs in drop.items():
            if call.get(key, 0) > 0 and not caps & needs:
                call.pop(key)
        if any(call.get(k, 0) > 0 for k in ("red", "green", "blue")) and not caps & RGB:
            for key in ("red", "green", "blue"):
                call.pop(key, None)
        if call.get("white", 0) > 0 and not caps & (WHITE | CWWW):
            call.pop("white")
        if "color_temperature" in call:
            if not caps & (CT | CWWW):
                call.pop("color_temperature")
            else:
                call["color_temperature"] = min(self.mireds[1], max(self.mireds[0], call["color_temperature"]))
        if call.get("brightness") == 0:
            call.update(state=False, brightness=1.0)
        if any(k in call for k in ("red", "green", "blue")) and "color_brightness" not in call \
                and self.remote.color_brightness == 0:
            call["color_brightness"] = 1.0
        v = replace(self.remote, mode=mode, **{k: float(x) for k, x in call.items()})
        if v.has(RGB):   # normalize_color
            top = max(v.red, v.green, v.blue)
            v = replace(v, red=1.0, green=1.0, blue=1.0) if top == 0 else \
                replace(v, red=v.red / top, green=v.green / top, blue=v.blue / top)
        return v

    def _compute_mode(self, call: dict) -> str:
        if len(self.supported) == 1:
            return self.supported[0]
        current = self.remote.mode
        if call.get("state") is False:
            return current
        key = (int(call.get("white", 0) > 0), int("color_temperature" in call),
               int(call.get("cold_white", 0) > 0 or call.get("warm_white", 0) > 0),
               int(call.get("color_brightness", 0) > 0 or any(k in call for k in ("red", "green", "blue"))))
        suitable = SUITABLE.get(key, [])
        if current in suitable:
            return current
        for mode in sorted(suitable, key=MODES.__getitem__):   # std::set<ColorMode>: by the enum's value
            if mode in self.supported:
                return mode
        return current

    def _transform(self, call: dict, mode: str) -> None:
        caps = MODES[mode]
        wants = call.get("white", 0) > 0 or "color_temperature" in call
        if not (wants and caps & CWWW and not caps & WHITE and not caps & CT):
            return
        if "color_temperature" in call:
            low, high = self.mireds
            warm = (min(high, max(low, call["color_temperature"])) - low) / (high - low)
            top = max(warm, 1 - warm)
            level = 1.0
            if self.old_transform:
                level = call.get("white", max(self.remote.cold_white, self.remote.warm_white))
            call["cold_white"] = level * ((1 - warm) / top) ** (1 / self.gamma)
            call["warm_white"] = level * (warm / top) ** (1 / self.gamma)
        if "white" in call and not self.old_transform:
            call["brightness"] = call["white"]

    def _transition(self, target: Values, at: float, seconds: float) -> None:
        start = self.values(at)
        end = target
        if not start.state and target.state:
            start = replace(target, brightness=0.0)
        if start.state and not target.state:
            end = replace(start, brightness=0.0)
        self._start, self._end, self._began, self._length = start, end, at, seconds
        self._middle = replace(start, state=0.0) if start.mode != target.mode else None
        self._target = target

    def values(self, at: float) -> Values:
        """What the light runs at `at` (transformers.h apply 38-55)."""
        if self._length <= 0 or at >= self._began + self._length:
            return self._end
        p = max(0.0, (at - self._began) / self._length)
        if self._middle is None:
            return lerp(self._start, self._end, smootherstep(p))
        if p < 0.5:
            return lerp(self._start, self._middle, smootherstep(p * 2))
        return lerp(replace(self._target, state=0.0), self._end, smootherstep(p * 2 - 1))

    # -- what it shows -------------------------------------------------------------------------------------------

    def outputs(self, at: float) -> dict[str, float]:
        """The channels' outputs 0-1 in light (as_rgb, as_rgbw, as_cwww, as_ct with the light's gamma)."""
        v, g = self.values(at), self.gamma
        level = v.state * v.brightness
        out = {"red": 0.0, "green": 0.0, "blue": 0.0, "white": 0.0, "cold": 0.0, "warm": 0.0}
        if v.has(RGB):
            out.update(red=(level * v.color_brightness * v.red) ** g, green=(level * v.color_brightness * v.green) ** g,
                       blue=(level * v.color_brightness * v.blue) ** g)
        if v.has(CWWW):
            out.update(cold=level ** g * v.cold_white ** g, warm=level ** g * v.warm_white ** g)
        elif v.has(CT):      # as_ct: a white of the set temperature, split over the two white LEDs
            low, high = self.mireds
            warm = (v.color_temperature - low) / (high - low)
            white = (level * (v.white if v.has(RGB) else 1.0)) ** g
            out.update(cold=white * (1 - warm), warm=white * warm)
        elif v.has(WHITE):
            out["white"] = (level * v.white) ** g
        return out

    def shown(self, at: float) -> Shown:
        """The light's colour from its channels: the white LEDs' own whites, the colour LEDs' sRGB primaries."""
        out, v = self.outputs(at), self.values(at)
        whites = out["cold"] + out["warm"] + out["white"]
        colours = out["red"] + out["green"] + out["blue"]
        if whites + colours <= 1e-6:
            return Shown(False, 0.0)
        level = v.state * v.brightness * 100
        if colours <= 1e-6:
            mired = (out["cold"] * self.mireds[0] + out["warm"] * self.mireds[1] + out["white"] * self.white_mired) / whites
            return Shown(True, level, kelvin=units.mired_to_kelvin(mired))
        mix = [out[c] for c in ("red", "green", "blue")]
        for share, mired in ((out["cold"], self.mireds[0]), (out["warm"], self.mireds[1]), (out["white"], self.white_mired)):
            white = linear_rgb(units.kelvin_to_rgb(units.mired_to_kelvin(mired)))
            mix = [m + share * w for m, w in zip(mix, white)]
        return Shown(True, level, rgb=encoded_rgb(mix))

    def _report(self, at: float) -> Answer:
        v = self.remote
        body: dict = {"color_mode": v.mode, "state": "ON" if v.state else "OFF", "brightness": int(v.brightness * 255)}
        colour: dict = {}
        if v.has(RGB):
            colour.update({k: int(v.color_brightness * c * 255) for k, c in zip("rgb", (v.red, v.green, v.blue))})
        if v.has(WHITE):
            colour["w"] = int(v.white * 255)
        if v.has(CWWW):
            colour.update(c=int(v.cold_white * 255), w=int(v.warm_white * 255))
        body["color"] = colour
        if v.has(CT):
            body["color_temp"] = int(v.color_temperature)
        return at, MqttMessage(f"{self.device}/state", json.dumps(body), 0, True)

