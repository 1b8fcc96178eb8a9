"""An ESPHome light on MQTT, reading Home Assistant's JSON schema the way ESPHome's code does.

Read from esphome/esphome (commit 0099fcc76d10860d48a724212c68b1479ea449e2),
esphome/components/light/light_json_schema.cpp:

- parse_json 148-160: `transition` is read only if `is<uint16_t>()` (156): ArduinoJson answers false for
  2.5 (a float), so the call keeps the light's default_transition_length (1 s unless configured).
- parse_color_json 79-146: `state` is<const char*> (80), `brightness` is<uint8_t> (97), `color` r/g/b
  is<uint8_t> (105-119), `color_temp` is<uint16_t> (143): a value of another type is skipped.
- dump_json 36-77: the state report: color_mode, state, brightness, `color` (always present, empty in a
  white mode: 57), color_temp.

And esphome/components/light/transformers.h (release 2024.10.2) 16-25: turning on starts from the target at
brightness 0, turning off ends at the start at brightness 0; 60: progress is eased by smootherstep
(6x^5 - 15x^4 + 10x^3). A new call starts from the values shown at that moment. The topic is
<topic_prefix>/light/<object_id>/command and .../state (components/mqtt/mqtt_component.cpp 27-46).
"""

from __future__ import annotations

import json

from room_controller import units
from room_controller.demo.models import Answer, Ramp, Shown
from room_controller.lighting.state import MqttMessage


def smootherstep(x: float) -> float:
    return x * x * x * (x * (x * 6.0 - 15.0) + 10.0)


def is_uint(value, bits: int) -> bool:
    """ArduinoJson's is<uintN_t>(): an integer (not a float, not a bool) that fits."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** bits


class EspHome:
    def __init__(self, device: str, *, default_transition: float = 1.0) -> None:
        self.device, self.default_transition = device, default_transition
        self.state: dict = {"state": "OFF", "brightness": 128, "color_temp": 370, "rgb": None}
        self._ramp = Ramp((0.0, 370.0, 255.0, 255.0, 255.0), ease=smootherstep)

    def topics(self) -> list[str]:
        return [f"{self.device}/command"]

    def hello(self, at: float) -> list[Answer]:
        return [self._report(at)]

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        root = json.loads(payload)
        s = self.state
        if isinstance(root.get("state"), str) and root["state"].upper() in ("ON", "OFF", "TOGGLE"):
            word = root["state"].upper()
            s["state"] = ("OFF" if s["state"] == "ON" else "ON") if word == "TOGGLE" else word
        if is_uint(root.get("brightness"), 8):
            s["brightness"] = root["brightness"]
        colour = root.get("color")
        if isinstance(colour, dict) and all(is_uint(colour.get(k), 8) for k in "rgb"):
            s["rgb"] = tuple(colour[k] for k in "rgb")
        if is_uint(root.get("color_temp"), 16):
            s["color_temp"], s["rgb"] = root["color_temp"], None
        seconds = root["transition"] if is_uint(root.get("transition"), 16) else self.default_transition
        on = s["state"] == "ON"
        rgb = s["rgb"] or (0, 0, 0)
        target = (s["brightness"] / 255 if on else 0.0, float(s["color_temp"]), *map(float, rgb))
        if on and self._ramp.at(at)[0] <= 0:      # turning on: from the target's colour at brightness 0
            self._ramp = Ramp((0.0, *target[1:]), ease=smootherstep)
        self._ramp.go(target, at, float(seconds))
        return [self._report(at)]

    def shown(self, at: float) -> Shown:
        brightness, mired, r, g, b = self._ramp.at(at)
        if brightness <= 0:
            return Shown(False, 0.0)
        if self.state["rgb"] is not None:
            return Shown(True, brightness * 100, rgb=(round(r), round(g), round(b)))
        return Shown(True, brightness * 100, kelvin=units.mired_to_kelvin(mired))

    def _report(self, at: float) -> Answer:
        s = self.state
        body = {"color_mode": "rgb" if s["rgb"] else "color_temp", "state": s["state"],
                "brightness": s["brightness"], "color": {}}
        if s["rgb"]:
            body["color"] = dict(zip("rgb", s["rgb"]))
        else:
            body["color_temp"] = s["color_temp"]
        return at, MqttMessage(f"{self.device}/state", json.dumps(body), 0, True)
