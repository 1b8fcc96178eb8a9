"""A WLED strip as its firmware runs `wled/<id>/api` JSON over time: its segments, and RGB or RGBW LEDs.

Read from wled/WLED v16.0.1 (commit 29b389df1c1aaec6ff53aea742d17063b985906c), wled00/:

- json.cpp 379-383 deserializeState: `bri` is read first, then `on` (toggleOnOff when on and bri disagree:
  off keeps the level in briLast, on without `bri` restores it).
- json.cpp 411-415: `tt` is a one-shot transition, `strip.setTransition(tt * 100)`: 100 ms units into a
  uint16_t of ms (FX.h 908), so 656 and more wrap round to a short one. json.cpp 398-405: `transition`
  changes the default instead (transitionDelay) and is not what the room sends.
- json.cpp 461-488: `seg` as an object without `id` applies to every active, selected segment (467-477), with
  an `id` to that one (479); as an array, element by element, each to its own `id` or else to the segment of
  its place (483-486, deserializeSegment 72): `[{...}]` changes segment 0 only. An id past the last segment
  with no `stop` is ignored (79-80). Segments are made selected (FX.h 571, `options(SELECTED | SEGMENT_ON)`);
  the app's checkbox (`sel`, json.cpp 159) deselects one.
- json.cpp 205-263: `col`'s first element an array of ints is copied into {0,0,0,0} (`copyArray`, 249), so
  `[r,g,b]` sets the white channel to 0 and `[r,g,b,w]` sets it; an object keeps the channels it lacks.
- bus_manager.cpp 102-126 autoWhiteCalc: with the default per-bus white mode, manual (cfg.cpp 240,
  RGBW_MODE_MANUAL_ONLY), the white LEDs show exactly the `w` sent: an RGB colour alone leaves them dark.
  An RGB strip's driver has no white LEDs.
- led.cpp 125-139 stateUpdated: a zero transition applies at once; otherwise a transition starts now, from
  where a running one is (briOld = briT). led.cpp 162-183 handleTransitions: briT = briOld + (bri - briOld)
  x elapsed / duration, linear in `bri`, which drives the LEDs' PWM (light output); when it ends, a one-shot
  `tt` gives way to the default again. Segment colours cross-fade over the same time.
- mqtt.cpp 165-190 publishMqtt: `/g` the target brightness, `/c` "#%06X" of W<<24|RGB of the main segment
  (the first selected), `/status` online.
"""

from __future__ import annotations

import json

from room_controller import units
from room_controller.demo.models import Answer, Ramp, Shown, encoded_rgb, linear_rgb
from room_controller.lighting.state import MqttMessage

START = (255, 160, 80, 0)   # a strip as it comes: WLED's warm orange (DEFAULT_COLOR)


class Wled:
    def __init__(self, device: str, *, bri: int = 128, default_transition_ms: int = 750, segments: int = 1,
                 rgbw: bool = False, white_kelvin: float = 4000.0) -> None:
        self.device, self.rgbw, self.white_kelvin = device, rgbw, white_kelvin
        self.on, self.bri, self.bri_last = False, 0, bri
        self.col: list[tuple[int, ...]] = [START] * segments
        self.selected = [True] * segments
        self.default_ms = default_transition_ms
        self._bri = Ramp((0.0,))
        self._col = [Ramp(tuple(float(c) for c in START)) for _ in range(segments)]

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
        for index, segment in self._segments(command.get("seg")):
            self._segment(index, segment)
        self._bri.go((float(self.bri),), at, duration_ms / 1000)
        for ramp, col in zip(self._col, self.col):
            ramp.go(tuple(float(c) for c in col), at, duration_ms / 1000)
        return self._report(at)

    def _segments(self, seg) -> list[tuple[int, dict]]:
        """Which segment each part of `seg` applies to (json.cpp 461-488)."""
        if isinstance(seg, dict):
            if "id" in seg:
                return [(int(seg["id"]), seg)]
            return [(i, seg) for i, selected in enumerate(self.selected) if selected]
        if isinstance(seg, list):
            return [(int(elem.get("id", i)), elem) for i, elem in enumerate(seg) if isinstance(elem, dict)]
        return []

    def _segment(self, index: int, segment: dict) -> None:
        if not 0 <= index < len(self.col):     # past the last segment, no stop: ignored
            return
        if "sel" in segment:
            self.selected[index] = bool(segment["sel"])
        col = segment.get("col")
        if isinstance(col, list) and col:
            first = col[0]
            if isinstance(first, list) and first:
                self.col[index] = tuple(int(c) for c in (list(first) + [0, 0, 0, 0])[:4])
            elif isinstance(first, dict):
                self.col[index] = tuple(int(first.get(k, old)) for k, old in zip("rgbw", self.col[index]))

    def shown(self, at: float) -> Shown:
        """The whole strip: its segments together (a segment left behind shows in the mix)."""
        parts = self.segments_shown(at)
        if all(p == parts[0] for p in parts):
            return parts[0]
        lit = [p for p in parts if p.on]
        if not lit:
            return parts[0]
        linear = [sum(linear_rgb(p.colour)[i] for p in lit) / len(lit) for i in range(3)]
        return Shown(True, lit[0].level, rgb=encoded_rgb(linear))

    def segments_shown(self, at: float) -> list[Shown]:
        bri_t = int(self._bri.at(at)[0])            # briT is a byte
        if bri_t <= 0:
            return [Shown(False, 0.0) for _ in self.col]
        level = units.luminance_to_lightness(bri_t / 255)
        return [self._emitted(level, tuple(round(c) for c in ramp.at(at))) for ramp in self._col]

    def _emitted(self, level: float, col: tuple[int, ...]) -> Shown:
        """One segment's light: its RGB LEDs plus, on an RGBW strip, its white LEDs of `white_kelvin`."""
        r, g, b, w = col
        w = w if self.rgbw else 0
        if (r, g, b) == (0, 0, 0):
            return Shown(w > 0, level if w else 0.0, kelvin=self.white_kelvin) if w else Shown(False, 0.0)
        if not w:
            return Shown(True, level, rgb=(r, g, b))
        white = linear_rgb(units.kelvin_to_rgb(self.white_kelvin))
        mix = [c + w / 255 * wc for c, wc in zip(linear_rgb((r, g, b)), white)]
        return Shown(True, level, rgb=encoded_rgb(mix))

    def _report(self, at: float) -> list[Answer]:
        main = next((i for i, s in enumerate(self.selected) if s), 0)
        r, g, b, w = self.col[main]
        return [(at, MqttMessage(f"wled/{self.device}/g", str(self.bri))),
                (at, MqttMessage(f"wled/{self.device}/c", "#%06X" % ((w << 24) | (r << 16) | (g << 8) | b)))]

