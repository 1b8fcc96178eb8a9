"""A WLED strip as its firmware runs `wled/<id>/api` JSON over time.

Read from wled/WLED v16.0.1 (commit 29b389df1c1aaec6ff53aea742d17063b985906c), wled00/:

- json.cpp 379-383 deserializeState: `bri` is read first, then `on` (toggleOnOff when on and bri disagree:
  off keeps the level in briLast, on without `bri` restores it).
- json.cpp 411-415: `tt` is a one-shot transition, `strip.setTransition(tt * 100)`: 100 ms units into a
  uint16_t of ms (FX.h 908), so 656 and more wrap round to a short one. json.cpp 398-405: `transition`
  changes the default instead (transitionDelay) and is not what the room sends.
- led.cpp 125-139 stateUpdated: a zero transition applies at once; otherwise a transition starts now, from
  where a running one is (briOld = briT). led.cpp 162-183 handleTransitions: briT = briOld + (bri - briOld)
  x elapsed / duration, linear in `bri`, which drives the LEDs' PWM (light output); when it ends, a one-shot
  `tt` gives way to the default again. Segment colours cross-fade over the same time.
- mqtt.cpp 165-190 publishMqtt: `/g` the target brightness, `/c` "#%06X" of W<<24|RGB, `/status` online.
"""

from __future__ import annotations

import json

from room_controller import units
from room_controller.demo.models import Answer, Ramp, Shown
from room_controller.lighting.state import MqttMessage


class Wled:
    def __init__(self, device: str, *, bri: int = 128, default_transition_ms: int = 750) -> None:
        self.device = device
        self.on, self.bri, self.bri_last = False, 0, bri
        self.col: tuple[int, ...] = (255, 160, 80, 0)
        self.default_ms = default_transition_ms
        self._bri = Ramp((0.0,))
        self._col = Ramp(tuple(float(c) for c in self.col))

    def topics(self) -> list[str]:
        return [f"wled/{self.device}/api"]

    def hello(self, at: float) -> list[Answer]:
        return [(at, MqttMessage(f"wled/{self.device}/status", "online", 1, True))] + self._report(at)

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        command = json.loads(payload)
        if "bri" in command:
            self.bri = max(0, min(255, int(command["bri"])))
        on = command.get("on", self.bri > 0)
        if (not on) != (not self.bri):                  # toggleOnOff
            if self.bri == 0:
                self.bri = self.bri_last
            else:
                self.bri_last, self.bri = self.bri, 0
        duration_ms = self.default_ms
        if "transition" in command:
            self.default_ms = duration_ms = (int(command["transition"]) * 100) % 65536
        if "tt" in command and int(command["tt"]) >= 0:
            duration_ms = (int(command["tt"]) * 100) % 65536   # uint16_t setTransition
        for segment in command.get("seg", [])[:1]:
            if segment.get("col"):
                first = list(segment["col"][0]) + [0]
                self.col = tuple(int(c) for c in first[:4])
        self._bri.go((float(self.bri),), at, duration_ms / 1000)
        self._col.go(tuple(float(c) for c in self.col), at, duration_ms / 1000)
        return self._report(at)

    def shown(self, at: float) -> Shown:
        bri_t = int(self._bri.at(at)[0])            # briT is a byte
        if bri_t <= 0:
            return Shown(False, 0.0)
        r, g, b, _ = (round(c) for c in self._col.at(at))
        return Shown(True, units.luminance_to_lightness(bri_t / 255), rgb=(r, g, b))

    def _report(self, at: float) -> list[Answer]:
        r, g, b, w = self.col
        return [(at, MqttMessage(f"wled/{self.device}/g", str(self.bri))),
                (at, MqttMessage(f"wled/{self.device}/c", "#%06X" % ((w << 24) | (r << 16) | (g << 8) | b)))]
