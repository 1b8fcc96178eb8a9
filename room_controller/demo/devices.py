"""Simulated light devices for the demo room, answering on MQTT as the real ones document it.

Written from the devices' own documentation, not from our encoders, so the demo also shows that the room
speaks each family's language: a Zigbee2MQTT bulb (`<name>/set` JSON in, retained state JSON out,
availability `{"state":"online"}`), a Tasmota lamp (`cmnd/<topic>/Backlog` in, one `stat/<topic>/RESULT`
per command out, LWT `Online`), and a WLED strip (`wled/<id>/api` JSON in, brightness on `/g` and colour
on `/c` out). Each fades over the transition it is given, so the room picture moves as the room would.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from room_controller import units
from room_controller.demo.models import zigbee
from room_controller.lighting.state import MqttMessage

log = logging.getLogger(__name__)
Publish = Callable[[MqttMessage], object]


@dataclass
class Output:
    """What a lamp emits: colour (sRGB, brightest channel 255) and perceived level 0-1."""

    rgb: tuple[int, int, int] = (255, 180, 110)
    level: float = 0.0


class Lamp:
    """A light whose output fades linearly from where it is to a target over a transition."""

    def __init__(self, light_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.id = light_id
        self._clock = clock
        self._from, self._to = Output(), Output()
        self._start, self._duration = 0.0, 0.0
        self._lock = threading.Lock()

    def go(self, target: Output, seconds: float) -> None:
        with self._lock:
            self._from = self._output(self._clock())
            self._to, self._start, self._duration = target, self._clock(), max(0.0, seconds)

    def output(self) -> Output:
        with self._lock:
            return self._output(self._clock())

    def _output(self, now: float) -> Output:
        p = 1.0 if self._duration <= 0 else min(1.0, (now - self._start) / self._duration)
        a, b = self._from, self._to
        return Output(tuple(round(x + (y - x) * p) for x, y in zip(a.rgb, b.rgb)), a.level + (b.level - a.level) * p)


class ZigbeeBulb:
    """A Zigbee2MQTT bulb: a Hue colour bulb, or an IKEA white spectrum bulb (one transition at a time, deaf
    during a white transition), as room_controller/demo/models/zigbee.py models them."""

    def __init__(self, light_id: str, name: str, colour: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.id, self._clock = light_id, clock
        self.model = zigbee.Zigbee2MqttBulb(name, zigbee.HUE_COLOUR if colour else zigbee.IKEA_WHITE_SPECTRUM)
        self._lock = threading.Lock()

    def topics(self) -> list[str]:
        return self.model.topics()

    def hello(self) -> list[MqttMessage]:
        return [m for _, m in self.model.hello(self._clock())]

    def handle(self, topic: str, payload: bytes) -> list[MqttMessage]:
        with self._lock:
            return [m for _, m in self.model.receive(topic, payload, self._clock())]

    def output(self) -> Output:
        with self._lock:
            shown = self.model.shown(self._clock())
        return Output(shown.colour, shown.level / 100)


def zigbee_bridge(devices: list) -> list[MqttMessage]:
    """Zigbee2MQTT's retained bridge/devices for the simulated Zigbee bulbs, from which the room learns them."""
    bulbs = [d.model for d in devices if isinstance(getattr(d, "model", None), zigbee.Zigbee2MqttBulb)]
    return [zigbee.bridge_devices(bulbs)] if bulbs else []


class TasmotaLamp(Lamp):
    """Tasmota with SetOption117 (fixed-duration fades): Dimmer 0-100, CT mired, HSBColor, Speed2 in 0.5 s."""

    def __init__(self, light_id: str, topic: str) -> None:
        super().__init__(light_id)
        self.topic = topic
        self.state = {"POWER": "OFF", "Dimmer": 50, "CT": 370, "HSBColor": "30,100,50", "Fade": "OFF", "Speed": 1}
        self.mode = "ct"

    def topics(self) -> list[str]:
        return [f"cmnd/{self.topic}/#"]

    def hello(self) -> list[MqttMessage]:
        return [MqttMessage(f"tele/{self.topic}/LWT", "Online", 1, True)]

    def handle(self, topic: str, payload: bytes) -> list[MqttMessage]:
        command = topic.rsplit("/", 1)[1]
        text = payload.decode().strip()
        if command.lower() == "backlog":
            parts = [p.strip() for p in text.split(";") if p.strip()]
        else:
            parts = [f"{command} {text}".strip()]
        speed, out = None, []
        for part in parts:
            name, _, value = part.partition(" ")
            result = self._apply(name.lower(), value.strip())
            if name.lower() == "speed2":
                speed = float(value) / 2
            if result:
                out.append(MqttMessage(f"stat/{self.topic}/RESULT", json.dumps(result)))
        fade = self.state["Fade"] == "ON"
        seconds = (speed if speed is not None else self.state["Speed"] / 2) if fade else 0.0
        if self.mode == "ct":
            rgb = units.kelvin_to_rgb(1e6 / self.state["CT"])
        else:
            hue, sat, _ = (float(v) for v in self.state["HSBColor"].split(","))
            rgb = _hsv(hue, sat / 100)
        self.go(Output(rgb, self.state["Dimmer"] / 100 if self.state["POWER"] == "ON" else 0.0), seconds)
        return out

    def _apply(self, name: str, value: str) -> dict | None:
        s = self.state
        if name == "state" or not name:
            return dict(s)
        if name == "power":
            s["POWER"] = "ON" if value.upper() in ("ON", "1") else "OFF"
            return {"POWER": s["POWER"]}
        if name == "dimmer":
            s["Dimmer"], s["POWER"] = max(0, min(100, int(value))), "ON" if int(value) > 0 else "OFF"
            return {"POWER": s["POWER"], "Dimmer": s["Dimmer"]}
        if name == "ct":
            s["CT"], s["POWER"], self.mode = max(153, min(500, int(value))), "ON", "ct"
            return {"POWER": "ON", "Dimmer": s["Dimmer"], "CT": s["CT"]}
        if name == "hsbcolor":
            hue, sat, bri = (int(v) for v in value.split(","))
            s.update(HSBColor=f"{hue},{sat},{bri}", Dimmer=bri, POWER="ON")
            self.mode = "hsb"
            return {"POWER": "ON", "Dimmer": bri, "HSBColor": s["HSBColor"]}
        if name == "fade":
            s["Fade"] = "ON" if value in ("1", "ON", "on") else "OFF"
            return {"Fade": s["Fade"]}
        if name in ("speed", "speed2"):
            if name == "speed":
                s["Speed"] = max(1, min(40, int(value)))
            return {"Speed": int(value)}
        if name == "setoption117":
            return {"SetOption117": "ON" if value == "1" else "OFF"}
        return {"Command": "Unknown"}


class WledStrip(Lamp):
    """WLED: `bri` 0-255 (linear light), segment colour `col`, one-shot transition `tt` in 100 ms."""

    def __init__(self, light_id: str, device: str) -> None:
        super().__init__(light_id)
        self.device = device
        self.on, self.bri, self.rgb = False, 128, (255, 160, 80)

    def topics(self) -> list[str]:
        return [f"wled/{self.device}/api"]

    def hello(self) -> list[MqttMessage]:
        return [MqttMessage(f"wled/{self.device}/status", "online", 1, True)] + self._report()

    def handle(self, topic: str, payload: bytes) -> list[MqttMessage]:
        command = json.loads(payload)
        self.on = bool(command.get("on", self.on))
        self.bri = max(0, min(255, int(command.get("bri", self.bri))))
        for segment in command.get("seg", [])[:1]:
            if segment.get("col"):
                self.rgb = tuple(int(c) for c in segment["col"][0][:3])
        level = units.luminance_to_lightness(self.bri / 255) / 100 if self.on else 0.0
        self.go(Output(self.rgb, level), int(command.get("tt", 7)) / 10)
        return self._report()

    def _report(self) -> list[MqttMessage]:
        return [MqttMessage(f"wled/{self.device}/g", str(self.bri if self.on else 0)),
                MqttMessage(f"wled/{self.device}/c", units.hex_colour(self.rgb))]


def _hsv(hue: float, sat: float) -> tuple[int, int, int]:
    x = sat * (1 - abs((hue / 60) % 2 - 1))
    r, g, b = [(sat, x, 0), (x, sat, 0), (0, sat, x), (0, x, sat), (x, 0, sat), (sat, 0, x)][int(hue // 60) % 6]
    m = 1 - sat
    return round((r + m) * 255), round((g + m) * 255), round((b + m) * 255)


class DeviceHub:
    """Routes MQTT messages to the simulated devices and publishes their answers."""

    def __init__(self, devices: list, publish: Publish) -> None:
        self.devices = devices
        self._publish = publish

    def topics(self) -> list[str]:
        return [t for d in self.devices for t in d.topics()]

    def connected(self) -> None:
        for message in zigbee_bridge(self.devices):
            self._publish(message)
        for device in self.devices:
            for message in device.hello():
                self._publish(message)

    def message(self, topic: str, payload: bytes, retained: bool) -> None:
        for device in self.devices:
            if any(_matches(pattern, topic) for pattern in device.topics()):
                try:
                    answers = device.handle(topic, payload)
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    log.warning("simulated %s ignored %r on %s: %s", device.id, payload[:80], topic, exc)
                    continue
                for message in answers:
                    self._publish(message)

    def picture(self) -> list[dict]:
        out = []
        for device in self.devices:
            shown = device.output()
            out.append({"id": device.id, "color": units.hex_colour(shown.rgb), "level": round(shown.level, 3)})
        return out


def _matches(pattern: str, topic: str) -> bool:
    if pattern.endswith("/#"):
        return topic.startswith(pattern[:-1])
    return pattern == topic
