"""A Zigbee bulb behind Zigbee2MQTT, as it behaves over time: what it shows after the commands it was sent.

Two layers, both written from the devices' code rather than from our encoder:

- `zcl_for`: what Zigbee2MQTT sends the bulb for a `<name>/set` JSON message, for the keys the room uses.
  zigbee-herdsman-converters src/converters/toZigbee.ts light_onoff_brightness (1258-1434: OFF with a
  transition is moveToLevelWithOnOff to 0; ON without brightness but with a transition restores the level
  with it), light_colortemp (166-205: clamped to the bulb's range) and light_color (50-165: xy as
  moveToColor), src/lib/utils.ts getTransition (433-464: for IKEA, a brightness sent with color or
  color_temp gets no transition, issue Koenkk/zigbee2mqtt#1810) and src/lib/ikea.ts trackFreezing
  (1144-1185: a command to a bulb still in a colour transition is preceded by genLevelCtrl stop), as of
  26.99.0; zigbee2mqtt lib/extension/publish.ts 145-156 orders state and brightness first for a bulb being
  switched on. The tests check this against the real converters (tests/devices/z2m).
- `Bulb`: how the bulb runs those commands. An IKEA bulb runs one transition at a time (a new command ends
  the running one where it is) and ignores every command during a colour or colour-temperature transition
  (Koenkk/zigbee2mqtt#4316: a 30 min color_temp transition leaves the bulb deaf for 30 min; ikea.ts 1088-1111:
  genLevelCtrl stop aborts it where it is). A Hue bulb runs level and colour transitions side by side.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field

from room_controller import units
from room_controller.demo.models import Answer, Shown
from room_controller.lighting.state import MqttMessage

Zcl = tuple[str, str, dict]   # cluster, command, payload


@dataclass(frozen=True)
class Model:
    """What decides a bulb's behaviour: its range, colour, and whether it is an IKEA bulb."""

    vendor: str
    model: str
    description: str
    color: bool
    color_temp: tuple[int, int] | None   # mired (coolest, warmest) as its converter definition exposes it

    @property
    def one_at_a_time(self) -> bool:
        return self.vendor == "IKEA"


# From zigbee-herdsman-converters 26.99.0 src/devices/ikea.ts:311 (LED2002G5, ikeaLight with colorTemp: 250-454
# mired, src/lib/ikea.ts:85) and src/devices/philips.ts:1620 (9290022166: colorTemp range [153, 500], colour).
IKEA_WHITE_SPECTRUM = Model("IKEA", "LED2002G5", "TRADFRI bulb E14/E12/E17, white spectrum, globe, clear, 440/470 lm",
                            False, (250, 454))
HUE_COLOUR = Model("Philips", "9290022166", "Hue white and color ambiance E26/E27", True, (153, 500))


def zcl_for(model: Model, message: dict, state: dict, now: float, frozen_until: float | None,
            unfreeze: bool = True) -> tuple[list[Zcl], dict, float | None]:
    """The ZCL commands for one message, Zigbee2MQTT's state after it, and until when it thinks the bulb frozen.
    `unfreeze`: Zigbee2MQTT's unfreeze_support option (ikea.ts 1149: false skips the tracking; Zigbee2MQTT
    before it had none)."""
    out: list[Zcl] = []
    state = dict(state)
    if unfreeze and frozen_until is not None and now <= frozen_until:
        out.append(("genLevelCtrl", "stop", {}))
    frozen_until = None
    ticks = round(float(message["transition"]) * 10) if "transition" in message else None
    colour_given = "color" in message or "color_temp" in message
    level_ticks = 0 if model.one_at_a_time and colour_given else (ticks or 0)
    level_specified = ticks is not None and not (model.one_at_a_time and colour_given)
    switch = str(message.get("state", "")).lower()
    if switch == "off":
        out.append(("genLevelCtrl", "moveToLevelWithOnOff", {"level": 0, "transtime": level_ticks})
                   if level_specified else ("genOnOff", "off", {}))
        state["state"] = "OFF"
    elif "brightness" in message or switch == "on":
        level = message.get("brightness")
        if level is None and level_specified:
            level = state.get("brightness", 254)
        if level is None:
            out.append(("genOnOff", "on", {}))
        else:
            out.append(("genLevelCtrl", "moveToLevelWithOnOff", {"level": int(level), "transtime": level_ticks}))
            state["brightness"] = int(level)
        state["state"] = "ON"
    if "color_temp" in message and model.color_temp:
        low, high = model.color_temp
        mired = min(high, max(low, int(message["color_temp"])))
        out.append(("lightingColorCtrl", "moveToColorTemp", {"colortemp": mired, "transtime": ticks or 0}))
        state.update(color_temp=mired, color_mode="color_temp")
    if "color" in message and model.color:
        x, y = float(message["color"]["x"]), float(message["color"]["y"])
        out.append(("lightingColorCtrl", "moveToColor",
                    {"colorx": round(x * 65535), "colory": round(y * 65535), "transtime": ticks or 0}))
        state.update(color={"x": x, "y": y}, color_mode="xy")
    if model.one_at_a_time and colour_given and ticks:
        frozen_until = now + ticks / 10
    return out, state, frozen_until


@dataclass
class _Move:
    start: float | tuple[float, float]
    end: float | tuple[float, float]
    begin: float
    seconds: float

    def at(self, t: float):
        p = 1.0 if self.seconds <= 0 else min(1.0, max(0.0, (t - self.begin) / self.seconds))
        if isinstance(self.start, tuple) and isinstance(self.end, tuple):
            return tuple(a + (b - a) * p for a, b in zip(self.start, self.end))
        assert not isinstance(self.start, tuple) and not isinstance(self.end, tuple)   # both a level or both a colour
        return self.start + (self.end - self.start) * p

    def running(self, t: float) -> bool:
        return self.begin <= t < self.begin + self.seconds


@dataclass
class Bulb:
    """A bulb's level (0-254) and colour (mired, or CIE xy) over time, from the ZCL commands it receives in
    time order. What it showed is kept for the last `HISTORY` commands, so a test can look back."""

    HISTORY = 20_000

    model: Model
    on: bool = False
    level: _Move = field(default_factory=lambda: _Move(0.0, 0.0, 0.0, 0.0))
    colour: _Move = field(default_factory=lambda: _Move(370.0, 370.0, 0.0, 0.0))
    ignored: list[tuple[float, str]] = field(default_factory=list)
    _past: list[tuple[float, bool, _Move, _Move]] = field(default_factory=list)

    def receive(self, at: float, cluster: str, command: str, payload: dict) -> bool:
        """Run one command at time `at`; False if the bulb ignored it."""
        if self.model.one_at_a_time:
            if self.colour.running(at) and command != "stop":
                self.ignored.append((at, command))
                return False
            self._stop(at)
        seconds = payload.get("transtime", 0) / 10
        if command == "stop":
            self._stop(at)
        elif command in ("on", "off"):
            self.on = command == "on"
        elif command in ("moveToLevel", "moveToLevelWithOnOff"):
            self.level = _Move(self.level.at(at), float(payload["level"]), at, seconds)
            self.on = self.on if command == "moveToLevel" else payload["level"] > 0 or self.on
        elif command == "moveToColorTemp":
            assert self.model.color_temp is not None, "moveToColorTemp reaches only a bulb with a white range"
            low, high = self.model.color_temp
            self.colour = _Move(self._as_mired(at), float(min(high, max(low, payload["colortemp"]))), at, seconds)
        elif command == "moveToColor":
            self.colour = _Move(self._as_xy(at), (payload["colorx"] / 65535, payload["colory"] / 65535), at, seconds)
        self._past = self._past[-self.HISTORY:] + [(at, self.on, self.level, self.colour)]
        return True

    def _then(self, t: float) -> tuple[bool, _Move, _Move]:
        i = bisect.bisect_right([p[0] for p in self._past], t)
        return (self.on, self.level, self.colour) if i == len(self._past) else self._past[i - 1][1:] if i else \
            (False, _Move(0.0, 0.0, 0.0, 0.0), _Move(370.0, 370.0, 0.0, 0.0))

    def changes(self, begin: float, end: float) -> list[float]:
        """When the bulb took a command between `begin` and `end`: the only moments it can jump."""
        return [p[0] for p in self._past if begin <= p[0] <= end]

    def brightness(self, t: float) -> float:
        """The level the bulb shows at `t`, 0 when off (a transition to 0 switches off at its end)."""
        on, level, _ = self._then(t)
        value = level.at(t)
        return value if on and value > 0 else 0.0

    def rgb(self, t: float) -> tuple[int, int, int]:
        colour = self._then(t)[2].at(t)
        if isinstance(colour, tuple):
            return units.xy_to_rgb(*colour)
        return units.kelvin_to_rgb(units.mired_to_kelvin(colour))

    def mired(self, t: float) -> float | None:
        colour = self._then(t)[2].at(t)
        return None if isinstance(colour, tuple) else colour

    def _stop(self, at: float) -> None:
        self.level = _Move(self.level.at(at), self.level.at(at), at, 0.0)
        self.colour = _Move(self.colour.at(at), self.colour.at(at), at, 0.0)

    def _as_mired(self, at: float) -> float:
        colour = self.colour.at(at)
        if isinstance(colour, tuple):
            return units.kelvin_to_mired(_xy_to_kelvin(*colour))
        return colour

    def _as_xy(self, at: float) -> tuple[float, float]:
        colour = self.colour.at(at)
        return colour if isinstance(colour, tuple) else units.kelvin_to_xy(units.mired_to_kelvin(colour))


def _xy_to_kelvin(x: float, y: float) -> float:
    """McCamy's approximation, as zigbee-herdsman-converters' colour sync uses it (src/lib/color.ts:240)."""
    n = (x - 0.3320) / (0.1858 - y)
    return 437 * n ** 3 + 3601 * n ** 2 + 6861 * n + 5517


class Zigbee2MqttBulb:
    """One bulb as the room meets it through Zigbee2MQTT: `<name>/set` in, retained state out, and what it shows.

    The demo's interface for models (room_controller/demo/models/__init__.py): messages in at a moment,
    answers out, `shown(at)`.
    """

    def __init__(self, name: str, model: Model, unfreeze: bool = True) -> None:
        self.name, self.model, self.unfreeze = name, model, unfreeze
        self.bulb = Bulb(model)
        self.state: dict = {"state": "OFF", "brightness": 0}
        self._frozen_until: float | None = None

    def topics(self) -> list[str]:
        return [f"zigbee2mqtt/{self.name}/set", f"zigbee2mqtt/{self.name}/get"]

    def hello(self, at: float) -> list[Answer]:
        return [(at, MqttMessage(f"zigbee2mqtt/{self.name}/availability", '{"state":"online"}', 1, True)),
                self._report(at)]

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        if topic.endswith("/get"):
            return [self._report(at)]
        message = json.loads(payload)
        if not isinstance(message, dict):
            raise ValueError("a set payload is a JSON object")
        commands, self.state, self._frozen_until = zcl_for(self.model, message, self.state, at, self._frozen_until,
                                                           self.unfreeze)
        for cluster, command, body in commands:
            self.bulb.receive(at, cluster, command, body)
        return [self._report(at)]

    def shown(self, at: float) -> Shown:
        level = self.bulb.brightness(at) / 254 * 100
        mired = self.bulb.mired(at)
        if mired is not None:
            return Shown(level > 0, level, kelvin=units.mired_to_kelvin(mired))
        return Shown(level > 0, level, rgb=self.bulb.rgb(at))

    def _report(self, at: float) -> Answer:
        return at, MqttMessage(f"zigbee2mqtt/{self.name}", json.dumps({**self.state, "linkquality": 120}), 0, True)


def bridge_devices(bulbs: list[Zigbee2MqttBulb]) -> MqttMessage:
    """The retained `zigbee2mqtt/bridge/devices` for these bulbs, shaped as Zigbee2MQTT publishes it (lib/extension/
    bridge.ts publishDevices; a light's exposes as zigbee-herdsman-converters' lib/exposes.ts Light builds them)."""
    return MqttMessage("zigbee2mqtt/bridge/devices", json.dumps([
        {"friendly_name": b.name, "ieee_address": f"0x00158d00000000{i:02x}", "type": "Router", "supported": True,
         "interview_state": "SUCCESSFUL",
         "definition": {"model": b.model.model, "vendor": b.model.vendor, "description": b.model.description,
                        "source": "native", "exposes": [_light_exposes(b.model)], "options": [], "supports_ota": True}}
        for i, b in enumerate(bulbs)]), 1, True)


def _light_exposes(model: Model) -> dict:
    features = [{"name": "state", "property": "state", "type": "binary", "access": 7, "value_on": "ON",
                 "value_off": "OFF", "value_toggle": "TOGGLE"},
                {"name": "brightness", "property": "brightness", "type": "numeric", "access": 7, "value_min": 0,
                 "value_max": 254}]
    if model.color_temp:
        features.append({"name": "color_temp", "property": "color_temp", "type": "numeric", "access": 7,
                         "unit": "mired", "value_min": model.color_temp[0], "value_max": model.color_temp[1]})
    if model.color:
        features.append({"name": "color_xy", "property": "color", "type": "composite", "access": 7,
                         "features": [{"name": "x", "property": "x", "type": "numeric", "access": 7},
                                      {"name": "y", "property": "y", "type": "numeric", "access": 7}]})
    return {"type": "light", "features": features}
