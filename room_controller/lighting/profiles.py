"""Device families as data: the models of `device_profiles/*.yaml` and the catalogue that loads them.

A profile says where a device listens and reports (topics with `{device}` in them), what it can do
(brightness scale, white range and unit, colour, the longest native fade), its quirks, and how its payloads
are shaped. Adding a family is a new file, never new code; a clinic can keep its own in
`device_profiles_dir`. A room's light may narrow or widen its family's capabilities with `capabilities:`
and `quirks:` of its own (one bulb of a family has no colour, another is an IKEA bulb).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Model, Problem

# package data (a wheel ships it; in the repository a symlink to the top-level device_profiles/, the source)
BUILTIN_DIR = Path(str(resources.files("room_controller") / "device_profiles"))

# Words that name device effects (blink, breathe, colour loops, WLED effects): never sent to a room.
_EFFECT_WORDS = re.compile(r"\b(effect|effects|blink|breathe|flash|colorloop|colourloop|strobe|scheme|fx|okay)\b",
                           re.IGNORECASE)
TEMPLATE_VARS = {"device", "client_id", "brightness", "color_temp", "kelvin", "mired", "r", "g", "b", "hex",
                 "hue", "saturation", "x", "y", "transition", "state",
                 "w", "cw", "ww",  # white channels 0-255: one (rgbw, rgbct, white), cold and warm (rgbww)
                 "channels"}  # the mode's channels at the level, 0-255, comma-separated (Tasmota's Color)
CONDITIONS = {"on", "off", "white", "colour", "fading", "instant",
              "ct", "dim",  # ct: a white with its temperature; dim: brightness only, colour kept
              # the colour mode this command uses (Capabilities.light_type)
              "mode_white", "mode_color_temp", "mode_rgb", "mode_rgbw", "mode_rgbww", "mode_rgbct"}


class Brightness(Model):
    max: int = Field(gt=0, description="the device's full brightness, e.g. 254 or 100")
    min_on: int = Field(1, ge=0, description="the lowest value that is still on (2 for bulbs that turn off at 1)")
    curve: Literal["perceptual", "linear_light"] = Field(
        "perceptual", description="perceptual: the device dims along the eye's curve itself; "
                                  "linear_light: light output follows the value, the controller applies CIE L*")


class ColorTemp(Model):
    unit: Literal["mired", "kelvin"]
    min: float = Field(gt=0, description="lowest value in the device's unit")
    max: float = Field(gt=0)

    @model_validator(mode="after")
    def _range(self) -> ColorTemp:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self

    @property
    def kelvin_range(self) -> tuple[float, float]:
        """(warmest, coolest) white this device makes, in kelvin."""
        if self.unit == "mired":
            return 1_000_000 / self.max, 1_000_000 / self.min
        return self.min, self.max


class Transition(Model):
    unit: Literal["s", "ds", "ms", "half_s"] = "s"
    max: float = Field(gt=0, description="the longest native fade, in seconds")
    min: float = Field(0, ge=0, description="the shortest native fade the device takes, in seconds")
    integer: bool = Field(False, description="whole numbers of the unit only (ESPHome reads is<uint16_t>): "
                                             "a fraction is rounded up, never shorter than asked")


ColorMode = Literal["onoff", "brightness", "white", "color_temp", "rgb", "rgbw", "rgbww", "rgbct"]
# What each colour mode drives at one time (Home Assistant's light colour modes, with ESPHome's rgbct):
# `rgb` the colour channels, `ct` a white of tunable temperature, `w` one white channel, `cw` cold and warm
# white channels set one by one (docs/devices.md, "Light types").
MODE_CHANNELS: dict[str, frozenset[str]] = {
    "onoff": frozenset(), "brightness": frozenset(), "white": frozenset({"w"}), "color_temp": frozenset({"ct"}),
    "rgb": frozenset({"rgb"}), "rgbw": frozenset({"rgb", "w"}), "rgbww": frozenset({"rgb", "cw"}),
    "rgbct": frozenset({"rgb", "w", "ct"}),
}
TUNABLE = ("color_temp", "rgbww", "rgbct")   # modes with a white of the device's own range (color_temp)


class Capabilities(Model):
    brightness: Brightness
    color_temp: ColorTemp | None = None
    color: bool = False
    transition: Transition | None = Field(None, description="native fades; none means software steps only")
    color_modes: list[ColorMode] | None = Field(
        None, min_length=1,
        description="the light's type as Home Assistant's supported_color_modes: one mode with colour and white "
                    "channels (rgbw, rgbww, rgbct) mixes them, so leaving a colour sends the colour channels at 0; "
                    "several modes are interlocked (one at a time). None: [color_temp, rgb] as color and "
                    "color_temp say")
    white_kelvin: float | None = Field(None, gt=0, description="the colour of a single white channel (rgbw, "
                                                               "white); None: pure white, as Home Assistant assumes")
    channel_gamma: float = Field(1.0, gt=0, description="the gamma the device applies to each channel it is sent "
                                                        "(ESPHome: 2.8): a white mix is sent uncorrected")
    segments: int | None = Field(None, ge=1, description="segments the strip has (WLED): each is addressed by its "
                                                         "id; None: one command to every selected segment")

    @model_validator(mode="after")
    def _modes_fit(self) -> Capabilities:
        for mode in self.color_modes or []:
            if mode in TUNABLE and self.color_temp is None:
                raise ValueError(f"colour mode {mode} needs color_temp: the range of the light's whites")
            if "rgb" in MODE_CHANNELS[mode] and not self.color:
                raise ValueError(f"colour mode {mode} has colour: set color: true, or leave the mode out")
        return self

    @property
    def light_type(self) -> LightType:
        if self.color_modes is not None:
            return LightType(tuple(self.color_modes))
        derived = [m for m, has in (("color_temp", self.color_temp is not None), ("rgb", self.color)) if has]
        return LightType(tuple(derived or ["brightness"]))


@dataclass(frozen=True)
class LightType:
    """The colour modes of one light, and which of them the room uses for a white and for a colour."""

    modes: tuple[str, ...]

    @property
    def white_mode(self) -> str | None:
        """The mode the colours use when it lights white channels too (a light keeps a mode that suits a call:
        light_call.cpp compute_color_mode_ 389-394, so rgbct's colour temperature alone would keep its colour);
        else a white of the device's own range, then a white channel, then whites made of colour."""
        colour = self.colour_mode
        if colour is not None and self.mixes(colour):
            return colour
        return next((m for m in (*TUNABLE, "rgbw", "white", "rgb") if m in self.modes), None)

    @property
    def colour_mode(self) -> str | None:
        return next((m for m in ("rgb", "rgbw", "rgbct", "rgbww") if m in self.modes), None)

    @staticmethod
    def mixes(mode: str) -> bool:
        """Colour and white channels lit together (no interlock): a white sends the colour channels at 0 and a
        colour the white channels at 0, or the other stays lit (ESPHome light_call.cpp transform_parameters_)."""
        return "rgb" in MODE_CHANNELS[mode] and len(MODE_CHANNELS[mode]) > 1


class Quirks(Model):
    fade_one_property: bool = Field(False, description="runs one transition at a time (IKEA): each command fades "
                                                       "brightness or colour, never both, and waits for the last")
    color_fade_max: float | None = Field(None, gt=0, description="seconds: the longest colour or white transition "
                                                                 "to send; the bulb ignores commands during one")
    color_resets_brightness: bool = False


class ModelQuirks(Model):
    """Quirks of the models a bridge names (vendor, and model unless every model of the vendor has them)."""

    vendor: str
    models: list[str] = Field(default_factory=list, description="empty: every model of the vendor")
    quirks: Quirks


class Bridge(Model):
    """Where a bridge publishes what each device is (Zigbee2MQTT's bridge/devices), and what follows from it."""

    topic: str
    quirks: Quirks | None = Field(None, description="what a device the bridge has described starts from, in place "
                                                    "of the family's quirks for a device not described yet")
    models: list[ModelQuirks] = Field(default_factory=list)


class Availability(Model):
    topic: str
    path: str | None = Field(None, description="key of the value in a JSON payload (plain payloads work too)")
    online: list[str] = ["online"]
    offline: list[str] = ["offline"]


class Field_(Model):
    """Where one property sits in a JSON payload, and how its values read."""

    path: str
    on: Any = None
    off: Any = None
    format: Literal["xy_object", "rgb_object", "rgb_list", "rgb_nested", "rgb_keys", "hex", "hsb_string"] | None = None
    keys: list[str] | None = Field(None, description="for rgb_keys: the three keys of red, green and blue")


class JsonCommand(Model):
    schema_: Literal["json"] = Field(alias="schema")
    topic: str
    fields: dict[Literal["state", "brightness", "color_temp", "color", "transition"], Field_]
    static: dict[str, Any] = Field(default_factory=dict, description="constant keys sent with every command")
    segments: str | None = Field(None, description="the key of an object that applies to every selected segment "
                                                   "(WLED's seg); a light with capabilities.segments gets a list "
                                                   "of it instead, one per segment with its id")


class _Conditional(Model):
    """A template part or message sent only `when` its conditions hold (one name or a list)."""

    when: list[str] = Field(default_factory=list)

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class TemplatePart(_Conditional):
    text: str

    @model_validator(mode="after")
    def _conditions(self) -> TemplatePart:
        _check_conditions(self.when)
        _check_variables(self.text)
        return self


class TemplateMessage(_Conditional):
    topic: str
    payload: str | None = None
    parts: list[TemplatePart] | None = None
    join: str = " "
    prefix: str = ""
    spacing: float = Field(0, ge=0, description="seconds the device waits between two parts (Tasmota's Backlog: "
                                                 "SetOption34, 200 ms): a later part's {transition} is that much "
                                                 "shorter, so every part's fade ends together")

    @model_validator(mode="after")
    def _payload_or_parts(self) -> TemplateMessage:
        if (self.payload is None) == (self.parts is None):
            raise ValueError("give either payload or parts")
        _check_conditions(self.when)
        _check_variables(self.topic + (self.payload or ""))
        return self


class TemplateCommand(Model):
    schema_: Literal["template"] = Field(alias="schema")
    messages: list[TemplateMessage] = Field(min_length=1)


class StateField(Field_):
    """Where one property sits in a report. Devices name a value differently by set-up (Tasmota's POWER is
    POWER1 on multi-relay devices or with SetOption26), and say white or colour in their own words."""

    also: list[str] = Field(default_factory=list, description="other paths the same value comes under")
    white: list[str] = Field(default_factory=list, description="color_mode: values that mean white")
    color: list[str] = Field(default_factory=list, description="color_mode: values that mean colour")
    white_above: float | None = Field(None, description="color_mode: a white level; above it means white, "
                                                        "at or below it colour (Tasmota's White)")

    @model_validator(mode="after")
    def _one_way_to_read_a_mode(self) -> StateField:
        if self.white_above is not None and (self.white or self.color):
            raise ValueError("give either white/color value lists or white_above, not both")
        return self


class StateSource(Model):
    """A topic the device reports on, and where each property sits in it."""

    topic: str
    format: Literal["json", "plain"] = "json"
    fields: dict[Literal["state", "brightness", "color_temp", "color", "color_mode"], StateField] = Field(
        default_factory=dict)
    plain: Literal["brightness", "hex", "state"] | None = Field(None, description="what a plain payload is")


class StaticMessage(Model):
    topic: str
    payload: str


class DeviceProfile(Model):
    name: str
    description: str = ""
    extends: str | None = None
    qos: Literal[0, 1, 2] = 0
    capabilities: Capabilities
    quirks: Quirks = Quirks()
    command: JsonCommand | TemplateCommand = Field(discriminator="schema_")
    state: list[StateSource] = Field(default_factory=list)
    availability: Availability | None = None
    query: list[StaticMessage] = Field(default_factory=list, description="sent on connect to learn the state")
    setup: list[StaticMessage] = Field(default_factory=list, description="sent when the device comes online")
    bridge: Bridge | None = Field(None, description="learn each device's capabilities from its bridge")

    @model_validator(mode="after")
    def _no_effects(self) -> DeviceProfile:
        for text in _texts(self.command.model_dump(by_alias=True)) + [m.payload for m in self.setup]:
            if _EFFECT_WORDS.search(text):
                raise ValueError(f"device effects are never sent to a therapy room: {text!r}")
        return self


def _check_conditions(when: list[str]) -> None:
    bad = set(when) - CONDITIONS
    if bad:
        raise ValueError(f"unknown condition(s) {sorted(bad)}; known: {', '.join(sorted(CONDITIONS))}")


def _check_variables(text: str) -> None:
    unknown = set(re.findall(r"\{(\w+)\}", text)) - TEMPLATE_VARS
    if unknown:
        raise ValueError(f"unknown template variable(s) {sorted(unknown)}; known: {', '.join(sorted(TEMPLATE_VARS))}")


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [str(k)] + _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def deep_merge(base: dict, over: dict) -> dict:
    """`over` on top of `base`, recursively for dicts; None in `over` removes a key's value."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


class Catalogue:
    """Every device profile the room can use: the built-in ones and the clinic's own."""

    def __init__(self, profiles: dict[str, DeviceProfile], raw: dict[str, dict]) -> None:
        self.profiles = profiles
        self._raw = raw

    @classmethod
    def load(cls, *dirs: Path | None) -> Catalogue:
        raw: dict[str, dict] = {}
        docs: dict[str, yamlfile.Document] = {}
        problems: list[Problem] = []
        for folder in [BUILTIN_DIR, *dirs]:
            if folder is None:
                continue
            for path in sorted(Path(folder).glob("*.yaml")):
                try:
                    stat = path.stat()
                    doc = copy.deepcopy(_parsed(path, stat.st_mtime_ns, stat.st_size))
                except ConfigError as exc:
                    problems += exc.problems
                    continue
                name = doc.data.get("name") if isinstance(doc.data, dict) else None
                if not isinstance(name, str):
                    problems.append(doc.problem(("name",), "a device profile needs a name"))
                    continue
                raw[name], docs[name] = doc.data, doc
        profiles: dict[str, DeviceProfile] = {}
        for name in raw:
            try:
                merged = _resolve(name, raw, ())
            except ValueError as exc:
                problems.append(docs[name].problem(("extends",), str(exc)))
                continue
            try:
                profiles[name] = yamlfile.validate(DeviceProfile, docs[name], merged)
            except ConfigError as exc:
                problems += exc.problems
        if problems:
            raise ConfigError(problems)
        return cls(profiles, raw)

    def resolve(self, name: str, capabilities: dict | None = None, quirks: dict | None = None,
                ) -> DeviceProfile:
        """The named profile with one light's own capability and quirk changes laid over it."""
        profile = self.profiles[name]
        if not capabilities and not quirks:
            return profile
        data = profile.model_dump(by_alias=True)
        data["capabilities"] = deep_merge(data["capabilities"], capabilities or {})
        data["quirks"] = deep_merge(data["quirks"], quirks or {})
        return DeviceProfile.model_validate(data)


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, mtime_ns: int, size: int) -> yamlfile.Document:
    """A device profile file as parsed, kept while the file is unchanged: every room load (and `check`, and
    each test's room) reads all the built-in profiles, and parsing YAML in Python is most of a load's time."""
    return yamlfile.load(path)


def _resolve(name: str, raw: dict[str, dict], seen: tuple[str, ...]) -> dict:
    data = raw[name]
    parent = data.get("extends")
    if not parent:
        return data
    if parent in seen or parent == name:
        raise ValueError(f"profiles extend each other in a circle: {' -> '.join(seen + (name, parent))}")
    if parent not in raw:
        raise ValueError(f"extends an unknown profile {parent!r}; known: {', '.join(sorted(raw))}")
    merged = deep_merge(_resolve(parent, raw, seen + (name,)), {k: v for k, v in data.items() if k != "extends"})
    merged.pop("extends", None)
    return merged


class Device:
    """One light of the room bound to its device family: the names its topics are made from."""

    def __init__(self, light_id: str, device: str, profile: DeviceProfile, client_id: str) -> None:
        self.id = light_id
        self.device = device
        self.profile = profile
        self.configured = profile   # as the room file made it: what learning from a bridge starts from each time
        self.client_id = client_id

    def topic(self, template: str) -> str:
        return template.replace("{device}", self.device).replace("{client_id}", self.client_id)

    def __repr__(self) -> str:
        return f"Device({self.id!r}, {self.profile.name}:{self.device!r})"
