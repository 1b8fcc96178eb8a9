"""Shelly lights over MQTT: Gen2+ RPC (Light.Set, RGBW.Set) and the Gen1 RGBW2 in colour mode.

Shelly's firmware is closed, so these are written from its API documentation and from the client that
drives the most Shelly lights, Home Assistant's Shelly integration (home-assistant/core commit
04cd21c0e4c6adb32f3f3aff2e968c5d80c4fe9b):

- Gen2+ `Light.Set`/`RGBW.Set` (shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Light and /RGBW):
  `on`, `brightness` 1-100 %, `rgb`, `transition_duration` in seconds "between the current and the desired
  level". homeassistant/components/shelly/const.py RPC_MIN_TRANSITION_TIME_SEC = 0.5 ("max=10800") and
  light.py RpcShellyLightBase.async_turn_on/off (`max(transition, RPC_MIN_TRANSITION_TIME_SEC)`): Home
  Assistant never sends less than 0.5 s. What the device does with less is not documented: this model
  refuses it (an RPC error, the light unchanged), the safe reading, so a test fails if the room ever sends it.
- Gen1 RGBW2 (shelly-api-docs.shelly.cloud/gen1/#shelly-rgbw2-color): `transition` 0-5000 ms is documented
  for the HTTP /color/0 call; the MQTT color/0/set payload lists turn, red, green, blue, white, gain and
  effect only. Unverified either way, so `honours_transition` says which device is modelled; by default
  it is ignored and every command applies at once.
- Brightness and gain drive the LEDs' PWM: light output is linear in them. A fade is a straight line from
  where the light is (the documentation's "from current ... to desired"), in light output.
"""

from __future__ import annotations

import json

from room_controller import units
from room_controller.demo.models import Answer, Ramp, Shown
from room_controller.lighting.state import MqttMessage

RPC_MIN_TRANSITION = 0.5
RPC_MAX_TRANSITION = 10800


class ShellyGen2:
    """One `light:0` (Light.Set) or `rgbw:0` (RGBW.Set) component under an MQTT topic prefix."""

    def __init__(self, prefix: str, *, rgbw: bool = False, brightness: int = 50) -> None:
        self.prefix, self.key = prefix, "rgbw:0" if rgbw else "light:0"
        self.output, self.brightness = False, brightness
        self.rgb: tuple[int, ...] = (255, 255, 255)
        self._ramp = Ramp((0.0, 255.0, 255.0, 255.0))

    def topics(self) -> list[str]:
        return [f"{self.prefix}/rpc"]

    def hello(self, at: float) -> list[Answer]:
        return [(at, MqttMessage(f"{self.prefix}/online", "true", 1, True))]

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        call = json.loads(payload)
        params, reply_to = call.get("params", {}), f"{call.get('src', 'unknown')}/rpc"
        duration = params.get("transition_duration")
        if duration is not None and not RPC_MIN_TRANSITION <= duration <= RPC_MAX_TRANSITION:
            error = {"code": -103, "message": f"transition_duration {duration} out of range"}
            return [(at, MqttMessage(reply_to, json.dumps({"id": call.get("id"), "src": self.prefix,
                                                           "error": error})))]
        if "on" in params:
            self.output = bool(params["on"])
        if "brightness" in params:
            self.brightness = max(1, min(100, int(params["brightness"])))
        if "rgb" in params:
            self.rgb = tuple(int(c) for c in params["rgb"])
        level = self.brightness if self.output else 0
        self._ramp.go((float(level), *map(float, self.rgb)), at, duration or 0.0)
        status: dict[str, object] = {"id": 0, "output": self.output, "brightness": self.brightness}
        if self.key == "rgbw:0":
            status.update(rgb=list(self.rgb), white=0)
        notify = {"src": self.prefix, "dst": f"{self.prefix}/events", "method": "NotifyStatus",
                  "params": {"ts": at, self.key: status}}
        return [(at, MqttMessage(reply_to, json.dumps({"id": call.get("id"), "src": self.prefix, "result": {}}))),
                (at, MqttMessage(f"{self.prefix}/events/rpc", json.dumps(notify))),
                (at, MqttMessage(f"{self.prefix}/status/{self.key}", json.dumps(status)))]

    def shown(self, at: float) -> Shown:
        level, r, g, b = self._ramp.at(at)
        if level <= 0:
            return Shown(False, 0.0)
        rgb = (round(r), round(g), round(b)) if self.key == "rgbw:0" else None
        return Shown(True, units.luminance_to_lightness(level / 100), kelvin=None if rgb else 3000.0, rgb=rgb)


class ShellyRgbw2:
    """A Gen1 RGBW2 in colour mode on shellies/<id>/color/0/set."""

    def __init__(self, device: str, *, honours_transition: bool = False) -> None:
        self.device, self.honours_transition = device, honours_transition
        self.state: dict = {"ison": False, "mode": "color", "red": 255, "green": 255, "blue": 255, "white": 0,
                      "gain": 50, "effect": 0}
        self._ramp = Ramp((0.0, 255.0, 255.0, 255.0))

    def topics(self) -> list[str]:
        return [f"shellies/{self.device}/color/0/set", f"shellies/{self.device}/color/0/command"]

    def hello(self, at: float) -> list[Answer]:
        return [(at, MqttMessage(f"shellies/{self.device}/online", "true", 1, True))]

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        if topic.endswith("/command"):
            command = {"turn": payload.decode().strip()}
        else:
            command = json.loads(payload)
        if command.get("turn") in ("on", "off", "toggle"):
            turn = command["turn"]
            self.state["ison"] = (not self.state["ison"]) if turn == "toggle" else turn == "on"
        for key, top in (("red", 255), ("green", 255), ("blue", 255), ("white", 255), ("gain", 100)):
            if key in command:
                self.state[key] = max(0, min(top, int(command[key])))
        seconds = min(5000, int(command.get("transition", 0))) / 1000 if self.honours_transition else 0.0
        s = self.state
        self._ramp.go((float(s["gain"] if s["ison"] else 0), float(s["red"]), float(s["green"]), float(s["blue"])),
                      at, seconds)
        return [(at, MqttMessage(f"shellies/{self.device}/color/0", "on" if s["ison"] else "off")),
                (at, MqttMessage(f"shellies/{self.device}/color/0/status",
                                 json.dumps({**s, "power": 0.0, "overpower": False})))]

    def shown(self, at: float) -> Shown:
        gain, r, g, b = self._ramp.at(at)
        if gain <= 0:
            return Shown(False, 0.0)
        top = max(r, g, b) or 1.0
        return Shown(True, units.luminance_to_lightness(gain / 100 * top / 255),
                     rgb=(round(r * 255 / top), round(g * 255 / top), round(b * 255 / top)))
