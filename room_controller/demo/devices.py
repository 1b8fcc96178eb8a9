"""Simulated light devices for the demo room: behaviour models written from each device's own code.

Each model (room_controller/demo/models/) answers on MQTT in the device's own format, when the device would,
and fades as its firmware does: a Zigbee2MQTT bulb (`<name>/set` JSON in, retained state JSON out), a
Tasmota lamp (`cmnd/<topic>/Backlog` in, a `stat/<topic>/RESULT` as each command runs, 200 ms apart, LWT
`Online`), a WLED strip of two segments (`wled/<id>/api` JSON in, `/g` and `/c` out) and an ESPHome RGBWW light
(`<topic>/command` JSON in, retained `<topic>/state` out). The room picture shows what the
models show, so the demo looks as a real room would.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from room_controller import units
from room_controller.demo.models import esphome, tasmota, wled, zigbee
from room_controller.lighting.state import MqttMessage

log = logging.getLogger(__name__)
Publish = Callable[[MqttMessage], object]


@dataclass
class Output:
    """What a lamp emits: colour (sRGB, brightest channel 255) and perceived level 0-1."""

    rgb: tuple[int, int, int] = (255, 180, 110)
    level: float = 0.0


class Simulated:
    """One of our device models on the demo's broker, on the real clock."""

    def __init__(self, light_id: str, model, clock: Callable[[], float] = time.monotonic) -> None:
        self.id, self.model, self._clock = light_id, model, clock
        self._lock = threading.Lock()

    def topics(self) -> list[str]:
        return self.model.topics()

    def hello(self) -> list[MqttMessage]:
        return [m for _, m in self.model.hello(self._clock())]

    def handle(self, topic: str, payload: bytes) -> list[MqttMessage]:
        with self._lock:
            return [m for _, m in self.model.receive(topic, payload, self._clock())]

    def later(self) -> float | None:
        """Seconds until the device answers again by itself (a Backlog still running), or None."""
        with self._lock:
            due = self.model.next_answer() if hasattr(self.model, "next_answer") else None
        return None if due is None else max(0.0, due - self._clock())

    def poll(self) -> list[MqttMessage]:
        with self._lock:
            return [m for _, m in self.model.poll(self._clock())]

    def output(self) -> Output:
        with self._lock:
            shown = self.model.shown(self._clock())
        return Output(shown.colour, shown.level / 100)


def TasmotaLamp(light_id: str, topic: str, light_type: int = 5) -> Simulated:  # noqa: N802 - a device, as the demo names it
    """A Tasmota light as it leaves the shop: Fade off, Speed 1, SetOption117 off until the room's setup; an RGBCCT
    lamp, or another light type (3: an RGB strip controller, which has no white of its own)."""
    return Simulated(light_id, tasmota.Tasmota(topic, light_type=light_type))


def WledStrip(light_id: str, device: str) -> Simulated:  # noqa: N802
    """A WLED strip of two segments (a shelf's two sides): each must follow the room."""
    return Simulated(light_id, wled.Wled(device, segments=2))


def EspHomeLight(light_id: str, device: str) -> Simulated:  # noqa: N802
    """An ESPHome RGBWW light without color_interlock: colour and white channels lit together."""
    return Simulated(light_id, esphome.EspHome(device, platform="rgbww", interlock=False))


def ZigbeeBulb(light_id: str, name: str, colour: bool) -> Simulated:  # noqa: N802
    """A Zigbee2MQTT bulb: a Hue colour bulb, or an IKEA white spectrum bulb (one transition at a time, deaf
    during a white transition)."""
    return Simulated(light_id, zigbee.Zigbee2MqttBulb(name, zigbee.HUE_COLOUR if colour else zigbee.IKEA_WHITE_SPECTRUM))


def zigbee_bridge(devices: list) -> list[MqttMessage]:
    """Zigbee2MQTT's retained bridge/devices for the simulated Zigbee bulbs, from which the room learns them."""
    bulbs = [d.model for d in devices if isinstance(getattr(d, "model", None), zigbee.Zigbee2MqttBulb)]
    return [zigbee.bridge_devices(bulbs)] if bulbs else []


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
                self._answer_later(device)

    def _answer_later(self, device) -> None:
        """A device still running a Backlog publishes each command's answer as it runs it."""
        delay = device.later() if hasattr(device, "later") else None
        if delay is None:
            return
        timer = threading.Timer(delay + 0.01, self._poll, [device])
        timer.daemon = True
        timer.start()

    def _poll(self, device) -> None:
        for message in device.poll():
            self._publish(message)
        self._answer_later(device)

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
