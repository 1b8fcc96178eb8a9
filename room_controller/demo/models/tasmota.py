"""A Tasmota light (RGBCCT, LedTable on) as its firmware runs our commands over time.

Read from arendst/Tasmota v13.2.0 (commit ff3e3e9360d9f6702c02e0034110b0910a52ec2d); LightApplyFade is the
same in the development branch (commit 04f3df8bf6cb2ee3503b8360989479dff90dbe2c). Files under tasmota/:

- Backlog: one command now, the next SetOption34 ms later (200 by default): tasmota.ino 668-699 BacklogLoop,
  tasmota_support/support_command.ino 446 (`backlog_timer = millis() + SetOption34`), 548 (a new Backlog
  runs its first command at once), include/tasmota.h 224 (MIN_BACKLOG_DELAY 200).
- `Speed2 N` (tasmota_xdrv_driver/xdrv_04_light.ino 3171-3191): a one-shot fade (N > 0) or no fade (N = 0)
  for the next change of the output only; `Speed2 0` also stops a running fade where it is. LightAnimate
  (1936-1966) uses it for the first update after it (LightGetFadeSetting 1752-1755) and falls back to the
  stored `Fade` for any later one; LightApplyFade (2058-2123) reads the speed once (2080-2082).
- Fade time: Speed x 0.5 s with SetOption117 (fade_fixed_duration), else Speed x 0.5 s x the largest
  channel change / 1023 (2083-2085). Progress runs through the fast gamma table's inverse for the first
  1023 ms (2105: fadeGammaReverse of the elapsed ms; xdrv_04_light_utils.ino 61-66, 319-333): up to 192 ms
  ahead, then on time. A new update mid-fade starts from where the fade is (1946-1949).
- Power-on: `CT`, `HSBColor` and `Dimmer` switch an off light on at the brightness they leave (LightPreparePower
  1530-1599, ExecuteCommandPower -> LightSetPower 1721-1750 animates at once); `CT` keeps the stored
  brightness. `Dimmer` then forces one more update (3057) that the next 50 ms tick (3430-3432) runs without
  the one-shot. `White` (2762-2775) sets the white level and CT mode, with no second update.
- Reports: ResponseLightState (1448-1527) after each light command on stat/<topic>/RESULT; the power key is
  POWER, or POWER1 on a multi-relay device or with SetOption26 (GetPowerDevice).

Channels are kept as Tasmota keeps them before its gamma: red, green, blue, cold, warm, 0-1023, the two
whites summing to the white level (calcGammaBulbCW). The model interpolates them directly (the firmware
interpolates the fast-gamma inverse of the corrected values, which approximates the same line).
"""

from __future__ import annotations

import json
import math
import re

from room_controller import units
from room_controller.demo.models import Answer, Shown
from room_controller.lighting.state import MqttMessage

CT_MIN, CT_MAX = 153, 500
TICK = 0.05   # FUNC_EVERY_50_MSECOND
_FAST_GAMMA = [(0, 0), (384, 192), (768, 576), (1023, 1023)]   # (to_src, to_gamma), xdrv_04_light_utils.ino 61


def gamma_reverse_fast(value: float) -> float:
    """leddGammaReverseFast (xdrv_04_light_utils.ino 319-333, 364-366); identity above 1023."""
    for (s0, g0), (s1, g1) in zip(_FAST_GAMMA, _FAST_GAMMA[1:]):
        if value <= g1:
            return s0 + (value - g0) * (s1 - s0) / (g1 - g0)
    return value


class Tasmota:
    """One Tasmota light on `cmnd/<topic>/...`; its stored settings as a device from the shop has them."""

    def __init__(self, topic: str, *, fade: bool = False, speed: int = 1, dimmer: int = 50, ct: int = 370,
                 setoption117: bool = False, backlog_delay: float = 0.2, power_key: str = "POWER") -> None:
        self.topic = topic
        self.settings = {"Fade": fade, "Speed": speed, "SetOption117": setoption117, "SetOption34": backlog_delay}
        self.power_key = power_key
        self.power, self.dimmer, self.ct, self.hue, self.sat, self.mode = False, dimmer, ct, 30, 100, "ct"
        self._once: tuple[bool, int] | None = None   # (fade, speed) of a pending Speed2
        self._speed_once: int | None = None          # speed_once survives a fade that moved nothing
        self._queue: list[str] = []                   # backlog commands still to run
        self._backlog_at = -math.inf                  # when the next one runs
        self._forced = False                          # Light.update set by Dimmer
        self._tick: float | None = None
        self._last: tuple[float, ...] = (0.0,) * 5
        self._start: tuple[float, ...] = self._last
        self._end: tuple[float, ...] = self._last
        self._fade_at, self._fade_ms = 0.0, 0.0
        self._outbox: list[Answer] = []

    # -- the MQTT side -----------------------------------------------------------------------------------------

    def topics(self) -> list[str]:
        return [f"cmnd/{self.topic}/#"]

    def hello(self, at: float) -> list[Answer]:
        return [(at, MqttMessage(f"tele/{self.topic}/LWT", "Online", 1, True))]

    def receive(self, topic: str, payload: bytes, at: float) -> list[Answer]:
        """A command arrives: the answers published until `at` (a Backlog's later ones come from `poll`)."""
        self._run(at)
        command, text = topic.rsplit("/", 1)[1], payload.decode().strip()
        if command.lower() == "backlog":
            self._queue += [p.strip() for p in text.split(";") if p.strip()]
            self._backlog_at = at     # support_command.ino 548: the first one runs at once
        else:
            self._outbox += self._execute(f"{command} {text}".strip(), at)
        return self.poll(at)

    def next_answer(self) -> float | None:
        """When the next Backlog command runs (and answers), or None."""
        return self._backlog_at if self._queue else None

    def poll(self, at: float) -> list[Answer]:
        """The answers published from the last call until `at`."""
        self._run(at)
        out, self._outbox = self._outbox, []
        return out

    def shown(self, at: float) -> Shown:
        self._run(at)
        r, g, b, c, w = self._channels(at)
        white, colour = c + w, max(r, g, b)
        level = max(white, colour) * 100 / 1023
        if level <= 0:
            return Shown(False, 0.0)
        if white >= colour:
            return Shown(True, level, kelvin=units.mired_to_kelvin(CT_MIN + (CT_MAX - CT_MIN) * w / white))
        return Shown(True, level, rgb=(round(r * 255 / colour), round(g * 255 / colour), round(b * 255 / colour)))

    # -- time --------------------------------------------------------------------------------------------------

    def _run(self, until: float) -> None:
        """Everything the device does up to `until`: backlog commands and 50 ms animation ticks, in order."""
        while True:
            due = [t for t in (self._backlog_at if self._queue else None, self._tick) if t is not None]
            if not due or min(due) > until:
                break
            now = min(due)
            if self._tick is not None and self._tick <= now:
                self._tick = None
                self._animate(now)
            else:
                self._outbox += self._execute(self._queue.pop(0), now)
                self._backlog_at = now + self.settings["SetOption34"]

    def _needs_tick(self, now: float) -> None:
        if self._tick is None:
            self._tick = (math.floor(now / TICK + 1e-9) + 1) * TICK

    # -- commands ----------------------------------------------------------------------------------------------

    def _execute(self, command: str, now: float) -> list[Answer]:
        match = re.fullmatch(r"([A-Za-z]+?)(\d*)(?:\s+(.*))?", command.strip())
        if not match:
            return [self._result({"Command": "Error"}, now)]
        name, index, value = match.group(1).lower(), match.group(2), (match.group(3) or "").strip()
        handler = {"speed": self._speed, "fade": self._fade, "setoption": self._setoption, "power": self._power,
                   "dimmer": self._dimmer, "white": self._white, "ct": self._ct, "hsbcolor": self._hsb,
                   "state": lambda i, v, n: self._state()}.get(name)
        if handler is None:
            return [self._result({"Command": "Unknown"}, now)]
        return [self._result(handler(index, value, now), now)]

    def _speed(self, index: str, value: str, now: float) -> dict:
        if index == "2":
            if value == "!":
                self._once, self._speed_once = None, None
                return {"Speed2": "Done"}
            n = int(value)
            if 0 <= n <= 40:
                self._once, self._speed_once = (n > 0, n), n
                if n == 0:
                    self._stop_fade(now)
            return {"Speed2": n}
        if value and 0 < int(value) <= 40:
            self.settings["Speed"] = int(value)
        return {"Speed": self.settings["Speed"]}

    def _fade(self, index: str, value: str, now: float) -> dict:
        if value:
            self.settings["Fade"] = value.lower() in ("1", "on")
            if not self.settings["Fade"]:
                self._stop_fade(now)
        return {"Fade": "ON" if self.settings["Fade"] else "OFF"}

    def _setoption(self, index: str, value: str, now: float) -> dict:
        if index == "117" and value:
            self.settings["SetOption117"] = value.lower() in ("1", "on")
        elif index == "34" and value:
            self.settings["SetOption34"] = int(value) / 1000
        shown = self.settings.get(f"SetOption{index}")
        return {f"SetOption{index}": shown if index == "34" else ("ON" if shown else "OFF")}

    def _power(self, index: str, value: str, now: float) -> dict:
        if value:
            self._switch(value.lower() in ("1", "on") or (value.lower() == "toggle" and not self.power), now)
        return {self.power_key: "ON" if self.power else "OFF"}

    def _dimmer(self, index: str, value: str, now: float) -> dict:
        if value:
            self.dimmer = max(0, min(100, int(value)))
            self._switch(self.dimmer > 0, now)
            self._forced = True        # xdrv_04_light.ino 3057: Light.update = true, run on the next tick
            self._needs_tick(now)
        return self._state()

    def _white(self, index: str, value: str, now: float) -> dict:
        if value:
            self.dimmer, self.mode = max(0, min(100, int(value))), "ct"
            self._after_change(now)
        return self._state()

    def _ct(self, index: str, value: str, now: float) -> dict:
        if value and CT_MIN <= int(value) <= CT_MAX:
            self.ct, self.mode = int(value), "ct"
            self._after_change(now)
        return self._state()

    def _hsb(self, index: str, value: str, now: float) -> dict:
        if value:
            given = [int(v) for v in value.split(",")][:3]
            hue, sat, bri = given + [self.sat, self.dimmer][len(given) - 1:]
            self.hue, self.sat, self.dimmer, self.mode = min(hue, 360), min(sat, 100), min(bri, 100), "rgb"
            self._after_change(now)
        return self._state()

    def _after_change(self, now: float) -> None:
        """LightPreparePower: on at the level just set, off at 0; else the next tick sees the new channels."""
        self._switch(self.dimmer > 0, now)
        self._needs_tick(now)

    def _switch(self, on: bool, now: float) -> None:
        if on != self.power:
            self.power = on
            self._animate(now)        # SetDevicePower -> FUNC_SET_POWER -> LightSetPower -> LightAnimate

    # -- LightAnimate and LightApplyFade -----------------------------------------------------------------------

    def _target(self) -> tuple[float, ...]:
        if not self.power:
            return (0.0,) * 5
        level = self.dimmer * 1023 / 100
        if self.mode == "ct":
            warm = (self.ct - CT_MIN) / (CT_MAX - CT_MIN)
            return (0.0, 0.0, 0.0, level * (1 - warm), level * warm)
        r, g, b = _hsv(self.hue, self.sat / 100)
        return (level * r, level * g, level * b, 0.0, 0.0)

    def _animate(self, now: float) -> None:
        target = self._target()
        if target == self._last and not self._forced:
            return
        self._forced = False
        fade = self._once[0] if self._once is not None else self.settings["Fade"]
        current = self._channels(now)
        self._last = target
        if not fade:
            self._start = self._end = target
            self._fade_ms = 0.0
            self._once, self._speed_once = None, None
            return
        self._once = None
        speed = self._speed_once if self._speed_once is not None else self.settings["Speed"]
        distance = max(abs(a - b) for a, b in zip(target, current))
        self._start, self._end, self._fade_at = current, target, now
        if distance <= 0:
            self._fade_ms = 0.0
            return
        self._speed_once = None
        self._fade_ms = speed * 500.0
        if not self.settings["SetOption117"]:
            self._fade_ms = distance * self._fade_ms / 1023 + 1

    def _stop_fade(self, now: float) -> None:
        self._start = self._end = self._channels(now)
        self._fade_ms = 0.0

    def _channels(self, at: float) -> tuple[float, ...]:
        elapsed = (at - self._fade_at) * 1000
        if self._fade_ms <= 0 or elapsed >= self._fade_ms:
            return self._end
        p = min(1.0, gamma_reverse_fast(max(0.0, elapsed)) / self._fade_ms)
        return tuple(a + (b - a) * p for a, b in zip(self._start, self._end))

    # -- reports -----------------------------------------------------------------------------------------------

    def _state(self) -> dict:
        channels = [round(v * 255 / 1023) for v in self._last]
        colour_bri = self.dimmer if self.mode == "rgb" else 0
        return {self.power_key: "ON" if self.power else "OFF", "Dimmer": self.dimmer,
                "Color": "".join(f"{v:02X}" for v in channels),
                "HSBColor": f"{self.hue},{self.sat},{colour_bri}",
                "White": self.dimmer if self.mode == "ct" else 0, "CT": self.ct,
                "Channel": [round(v * 100 / 1023) for v in self._last]}

    def _result(self, body: dict, at: float) -> Answer:
        return at, MqttMessage(f"stat/{self.topic}/RESULT", json.dumps(body, separators=(",", ":")))


def _hsv(hue: float, sat: float) -> tuple[float, float, float]:
    """Full-brightness RGB (0-1) of a hue and saturation."""
    x = sat * (1 - abs((hue / 60) % 2 - 1))
    r, g, b = [(sat, x, 0), (x, sat, 0), (0, sat, x), (0, x, sat), (x, 0, sat), (sat, 0, x)][int(hue // 60) % 6]
    m = 1 - sat
    return r + m, g + m, b + m
