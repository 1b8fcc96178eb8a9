"""A Tasmota light of any light type (1-5 PWM channels, RGB and white split by SetOption37) as its firmware runs
our commands over time.

Read from arendst/Tasmota, development branch commit 04f3df8bf6cb2ee3503b8360989479dff90dbe2c (the fade code is
as in release v13.2.0, commit ff3e3e9360d9). Lines are of tasmota/tasmota_xdrv_driver/xdrv_04_light.ino unless
another file is named:

- Light types (header 24-40): 1 PWM1 one channel, 2 PWM2 cold/warm, 3 PWM3 RGB, 4 PWM4 RGBW, 5 PWM5 RGBCW.
  LightInit (1176-1252): SetOption37 >= 128 on RGBW and RGBCW unlinks RGB and white (setCTRGBLinked 759-767),
  two devices (1134-1136, 1200-1203): RGB is Power1/Dimmer1, white Power2/Dimmer2.
- LightStateClass (360-737): RGB kept at full level with its own briRGB, the whites (cold + warm = 255) with
  briCT; setColorMode (385-419) forces the modes a type has and, linked, one of RGB and white at a time.
  calcLevels (901-940) maps them to the type's channels; getActualRGBCW (464-474) scales them by level.
- Commands: CmndWhite (2773-2786) acts only on cold/warm, RGBW and RGBCW; CmndColorTemperature (2927-2951)
  only on cold/warm and RGBCW; CmndHsbColor (2836-2871) from RGB up; CmndColor (2759-2771, CmndSupportColor
  2698-2757, LightColorEntry 2596-2694) from cold/warm up, all channels in one command; CmndChannel
  (2788-2834); CmndDimmer (3001-3074) forces one more update (`Light.update = true`, 3068). Any of them that
  does not apply leaves no response: `{"Command":"Error"}` (tasmota_support/support_command.ino 471-483).
- Power: LightPreparePower (1535-1611) switches a light (or, split, each half) on or off by its level and
  animates at once through LightSetPower (1732-1761); a command that changes nothing for the type publishes
  the light's state (ResponseLightState 1453-1533) all the same.
- Backlog: one command now, the next SetOption34 ms later (200 by default): tasmota.ino 707-738 BacklogLoop,
  support_command.ino 445 and 539.
- `Speed2 N` (CmndSpeed 3182-3222): a one-shot fade (N > 0) or no fade (N = 0) for the next change of the
  output only; `Speed2 0` also stops a running fade. LightAnimate (1783-1963, 1948-1956) uses it for the first update
  after it and the stored `Fade` for any later one; LightApplyFade (2070-2139) reads the speed once.
- Fade time: Speed x 0.5 s with SetOption117, else Speed x 0.5 s x the largest channel change / 1023
  (2093-2096). Progress runs through the fast gamma table's inverse (2117; xdrv_04_light_utils.ino 61-66,
  319-333): up to 192 ms ahead in the first 1023 ms. A new update mid-fade starts from where the fade is.

Channels are kept before Tasmota's gamma (LedTable), 0-1023 from the 8-bit levels (change8to10), and
interpolated directly; the firmware interpolates the fast-gamma inverse of the corrected values, which
approximates the same line. Integer scaling is Tasmota's own (changeUIntScale, tasmota_support/support_float.ino
385-428), so a report says what the device would say.
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
SINGLE, COLDWARM, RGB, RGBW, RGBCW = 1, 2, 3, 4, 5   # LST_ subtypes
LCM_RGB, LCM_CT, LCM_BOTH = 1, 2, 3
_FAST_GAMMA = [(0, 0), (384, 192), (768, 576), (1023, 1023)]   # (to_src, to_gamma), xdrv_04_light_utils.ino 61


def gamma_reverse_fast(value: float) -> float:
    """leddGammaReverseFast (xdrv_04_light_utils.ino 319-333, 364-366); identity above 1023."""
    for (s0, g0), (s1, g1) in zip(_FAST_GAMMA, _FAST_GAMMA[1:]):
        if value <= g1:
            return s0 + (value - g0) * (s1 - s0) / (g1 - g0)
    return value


def scale(num: int, from_min: int, from_max: int, to_min: int, to_max: int) -> int:
    """changeUIntScale (support_float.ino 385-428), rounding as the firmware does."""
    if from_min >= from_max:
        return min(to_min, to_max)
    num = min(from_max, max(from_min, num))
    if to_min > to_max:
        num, to_min, to_max = from_max - num + from_min, to_max, to_min
    if num == from_min:
        return to_min
    if num == from_max:
        return to_max
    if to_max - to_min > from_max - from_min:
        return ((num - from_min) * (to_max - to_min) * 2 // (from_max - from_min) + 1) // 2 + to_min
    return ((num - from_min) * 2 + 1) * (to_max - to_min + 1) // ((from_max - from_min + 1) * 2) + to_min


def bri(dimmer: int) -> int:
    return scale(dimmer, 0, 100, 0, 255)      # DimmerToBri


def dimmer_of(level: int) -> int:
    d = scale(level, 0, 255, 0, 100)          # BriToDimmer: never 0 for a light that is on
    return 1 if d == 0 and level > 0 else d


class _State:
    """LightStateClass (360-737) with the controller's changes (LightControllerClass 742-1008)."""

    def __init__(self, subtype: int, linked: bool, dimmer: int, ct: int) -> None:
        self.subtype, self.linked = subtype, linked
        self.r, self.g, self.b, self.hue, self.sat = 255, 128, 0, 30, 255
        self.ct, self.wc, self.ww = CT_MIN, 255, 0
        self.bri_rgb, self.bri_ct, self.mode = 0, 0, LCM_RGB
        self.set_ct(ct)
        if subtype in (SINGLE, RGB):
            self.bri_rgb = bri(dimmer)
        elif not linked:
            self.bri_rgb = self.bri_ct = bri(dimmer)
            self.mode = LCM_BOTH
        else:
            self.bri_ct, self.mode = bri(dimmer), LCM_CT

    def set_color_mode(self, cm: int) -> None:   # 385-419
        top = max(self.bri_rgb, self.bri_ct)
        self.mode = LCM_CT if self.subtype == COLDWARM else cm if self.subtype >= RGBW else LCM_RGB
        if self.mode == LCM_RGB:
            self.bri_ct = 0
            self.bri_rgb = self.bri_rgb or top
        if self.mode == LCM_CT:
            self.bri_rgb = 0
            self.bri_ct = self.bri_ct or top

    def set_bri_rgb(self, level: int) -> None:   # 555-560
        self.bri_rgb = level
        if level > 0:
            self.set_color_mode(self.mode | LCM_RGB)

    def set_bri_ct(self, level: int) -> None:    # 563-568
        self.bri_ct = level
        if level > 0:
            self.set_color_mode(self.mode | LCM_CT)

    def set_bri(self, level: int) -> None:       # 546-552
        self.set_bri_rgb(level if self.mode & LCM_RGB else 0)
        self.set_bri_ct(level if self.mode & LCM_CT else 0)

    def set_ct(self, ct: int) -> None:           # 582-596
        ct = min(CT_MAX, max(CT_MIN, ct))
        self.ww = scale(ct, CT_MIN, CT_MAX, 0, 255)
        self.wc, self.ct = 255 - self.ww, ct
        self.set_color_mode(self.mode | LCM_CT)

    def set_cw(self, c: int, w: int) -> None:    # 612-637, as setChannels calls it (free range)
        top, total = max(c, w), c + w
        free = total > 257
        if top == 0:
            self.bri_ct = 0
            self.set_color_mode(LCM_RGB)
            return
        if free:
            self.ww, self.wc = scale(w, 0, top, 0, 255), scale(c, 0, top, 0, 255)
        else:
            self.ww = scale(w, 0, total, 0, 255)
            self.wc = 255 - self.ww
        self.ct = scale(w, 0, total, CT_MIN, CT_MAX)
        self.set_color_mode(self.mode | LCM_CT)
        if self.mode & LCM_CT:
            self.bri_ct = top if free else min(total, 255)

    def set_rgb(self, r: int, g: int, b: int) -> None:   # 639-675
        top = max(r, g, b)
        if top == 0:
            r = g = b = 255
            self.set_color_mode(LCM_CT)
        else:
            r, g, b = (scale(v, 0, top, 0, 255) for v in (r, g, b))
            self.set_color_mode(self.mode | LCM_RGB)
        self.bri_rgb = top if self.mode & LCM_RGB else 0
        self.r, self.g, self.b = r, g, b
        self.hue, self.sat = _rgb_to_hs(r, g, b)

    def set_hs(self, hue: int, sat: int) -> None:       # 677-691
        self.r, self.g, self.b = _hs_to_rgb(hue, sat)
        self.hue, self.sat = hue, sat
        self.set_color_mode(self.mode | LCM_RGB)

    # -- LightControllerClass --------------------------------------------------------------------------------

    def change_ctb(self, ct: int, level: int) -> None:   # 839-852
        self.set_ct(ct)
        self.set_bri_ct(level)
        if self.linked:
            self.set_color_mode(LCM_CT)

    def change_dimmer(self, dimmer: int, mode: int = 0) -> None:   # 857-871
        level = bri(dimmer)
        if mode == 1:
            self.set_bri_rgb(level)
            if self.linked:
                self.set_color_mode(LCM_RGB)
        elif mode == 2:
            self.set_bri_ct(level)
            if self.linked:
                self.set_color_mode(LCM_CT)
        else:
            self.set_bri(level)

    def change_hsb(self, hue: int, sat: int, level: int) -> None:   # 944-950
        self.set_hs(hue, sat)
        self.set_bri_rgb(level)
        if self.linked:
            self.set_color_mode(LCM_RGB)

    def change_channels(self, channels: list[int]) -> None:    # 995-1008, setChannels 717-736
        if self.subtype == COLDWARM:
            channels = [0, 0, 0, channels[0], channels[1]]
        self.set_rgb(*channels[:3])
        self.set_cw(channels[3], channels[4])

    def levels(self) -> list[int]:
        """calcLevels (900-940): the type's channels, 8 bits, in Tasmota's order."""
        rgb_on, ct_on = self.mode & LCM_RGB, self.mode & LCM_CT
        r, g, b = ((scale(v, 0, 255, 0, self.bri_rgb) if rgb_on else 0) for v in (self.r, self.g, self.b))
        c, w = ((scale(v, 0, 255, 0, self.bri_ct) if ct_on else 0) for v in (self.wc, self.ww))
        return {SINGLE: [self.bri_rgb, 0, 0, 0, 0], COLDWARM: [c, w, 0, 0, 0], RGB: [r, g, b, 0, 0],
                RGBW: [r, g, b, self.bri_ct, 0], RGBCW: [r, g, b, c, w]}[self.subtype]

    def dimmer(self, mode: int = 0) -> int:     # getDimmer 519-532
        level = {1: self.bri_rgb, 2: self.bri_ct}.get(mode, max(self.bri_rgb, self.bri_ct))
        return dimmer_of(level)


class Tasmota:
    """One Tasmota light on `cmnd/<topic>/...`; its stored settings as a device from the shop has them.

    `light_type` is the number of PWM channels (1-5); `split` is SetOption37 >= 128 (RGBW and RGBCW only).
    """

    def __init__(self, topic: str, *, light_type: int = RGBCW, split: bool = False, fade: bool = False,
                 speed: int = 1, dimmer: int = 50, ct: int = 370, setoption117: bool = False,
                 backlog_delay: float = 0.2, power_key: str = "POWER") -> None:
        if split and light_type < RGBW:
            raise ValueError("SetOption37 splits only RGBW and RGBCW lights (LightModuleInit 1134)")
        self.topic = topic
        self.settings = {"Fade": fade, "Speed": speed, "SetOption117": setoption117, "SetOption34": backlog_delay}
        self.subtype, self.split = light_type, split
        self.power_key = power_key
        self.light = _State(light_type, not split, dimmer, ct)
        self.power = 0                                # a bit per device: 1 the light (split: RGB), 2 split white
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
        self.refused: list[str] = []                  # commands answered {"Command":"Error"}: not for this type

    @property
    def dimmer(self) -> int:
        return self.light.dimmer()

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
            self._backlog_at = at     # support_command.ino 539: the first one runs at once
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
        """What the light emits: the white channels' mix as a colour temperature, RGB as a colour, at the level
        of its brightest channel. An RGBW light's white channel counts as white light in each of R, G and B (as
        Home Assistant's rgbw assumes); a one-channel light is a white of its own LEDs' colour."""
        self._run(at)
        r, g, b, c, w = self._channels(at)
        level = min(100.0, max(r, g, b, c + w) * 100 / 1023)
        if self.subtype == RGBW and (r or g or b):
            r, g, b, c = r + c, g + c, b + c, 0.0
        white, colour = c + w, max(r, g, b)
        if level <= 0:
            return Shown(False, 0.0)
        if white >= colour:
            kelvin = None if self.subtype in (SINGLE, RGBW) else units.mired_to_kelvin(
                CT_MIN + (CT_MAX - CT_MIN) * w / white)
            return Shown(True, level, kelvin=kelvin)
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
            return [self._result({"Command": "Unknown"}, now)]
        name, index, value = match.group(1).lower(), match.group(2), (match.group(3) or "").strip()
        handler = {"speed": self._speed, "fade": self._fade, "setoption": self._setoption, "power": self._power,
                   "dimmer": self._dimmer, "white": self._white, "ct": self._ct, "hsbcolor": self._hsb,
                   "color": self._color, "channel": self._channel,
                   "state": lambda i, v, n: self._state()}.get(name)
        if handler is None:
            return [self._result({"Command": "Unknown"}, now)]
        body = handler(index, value, now)
        if body is None:     # support_command.ino 471-483: a command that did nothing says so
            body = {"Command": "Error", "Input": command.strip()}
            self.refused.append(command.strip())
        return [self._result(body, now)]

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

    def _power(self, index: str, value: str, now: float) -> dict | None:
        device = int(index or "1")
        if device > (2 if self.split else 1):
            return None
        bit = 1 << (device - 1)
        if value:
            on = value.lower() in ("1", "on") or (value.lower() == "toggle" and not self.power & bit)
            self._set_power((self.power | bit) if on else (self.power & ~bit), now)
        return {self._power_name(device): "ON" if self.power & bit else "OFF"}

    def _dimmer(self, index: str, value: str, now: float) -> dict | None:
        if not value:
            return self._state()
        dimmer, i = max(0, min(100, int(value))), int(index or "0")
        skip = i == 3                     # Dimmer3: no fade (3014-3017)
        i = 0 if skip else (1 if i > 4 else i)
        if self.light.linked or i in (0, 4):
            if self.light.linked:
                self.light.change_dimmer(dimmer)
            else:
                self.light.change_dimmer(dimmer, 1)
                self.light.change_dimmer(dimmer, 2)
            self._prepare_power(now)
        else:
            self.light.change_dimmer(dimmer, i)
            self._prepare_power(now, 1 << (i - 1))
        self._forced = True               # 3068: Light.update = true, run on the next tick
        if skip:
            self._animate(now, fade=False)
        else:
            self._needs_tick(now)
        return self._state()

    def _white(self, index: str, value: str, now: float) -> dict | None:
        if not (self.subtype >= RGBW or self.subtype == COLDWARM) or index not in ("", "1"):
            return None
        if not value:
            return {"White": self.light.dimmer(2)}
        self.light.change_dimmer(max(0, min(100, int(value))), 2)
        return self._prepare_power(now, 2)

    def _ct(self, index: str, value: str, now: float) -> dict | None:
        if self.subtype not in (COLDWARM, RGBCW):
            return None
        if value and CT_MIN <= int(value) <= CT_MAX:
            self.light.change_ctb(int(value), self.light.bri_ct)
            return self._prepare_power(now, 2)
        return {"CT": self.light.ct}

    def _hsb(self, index: str, value: str, now: float) -> dict | None:
        if self.subtype < RGB:
            return None
        if not value:
            return self._state()
        hsb = [self.light.hue, self.light.sat, self.light.bri_rgb]
        if index in ("2", "3"):
            hsb[int(index) - 1] = scale(min(100, int(value)), 0, 100, 0, 255)
        else:
            given = [int(v) for v in value.split(",")][:3]
            hsb[0] = min(360, given[0])
            for i in range(1, len(given)):
                hsb[i] = scale(min(100, given[i]), 0, 100, 0, 255)
        self.light.change_hsb(*hsb)
        return self._prepare_power(now, 1)

    def _color(self, index: str, value: str, now: float) -> dict | None:
        if self.subtype <= SINGLE or index not in ("", "1") or not value:
            return None if self.subtype <= SINGLE else self._state()
        text = value.lstrip("#")
        if "," in text:
            entry = [int(v) for v in text.split(",")[:5]]
        elif len(text) == 2 * self.subtype or len(text) > 3:
            entry = [int(text[i:i + 2], 16) for i in range(0, min(len(text), 10), 2)]
        else:
            return None
        self.light.change_channels((entry + [0] * 5)[:5])
        return self._prepare_power(now)

    def _channel(self, index: str, value: str, now: float) -> dict | None:
        i = int(index or "1") - 1
        if not 0 <= i < self.subtype or not value:
            return None
        levels = self.light.levels()
        levels[i] = scale(max(0, min(100, int(value))), 0, 100, 0, 255)
        if i < 3:
            levels[3:] = [0, 0] if self.subtype != COLDWARM else levels[3:]
        if self.subtype == COLDWARM:
            self.light.change_channels(levels[:2] + [0, 0, 0])
        elif self.subtype == SINGLE:
            self.light.change_channels([levels[0], 0, 0, 0, 0])
        else:
            if i >= 3 and self.light.linked:
                levels[:3] = [0, 0, 0]
            self.light.change_channels(levels)
        return self._prepare_power(now, (1 if i < 3 or self.light.linked else 2))

    def _prepare_power(self, now: float, channels: int = 3) -> dict:
        """LightPreparePower (1535-1611): on or off by the level just set; else the next tick shows it."""
        light, power = self.light, self.power
        if light.linked:
            level = max(light.bri_rgb, light.bri_ct)
            power = 1 if level else 0
        else:
            for bit, level in ((1, light.bri_rgb), (2, light.bri_ct)):
                if channels & bit:
                    power = (power | bit) if level else (power & ~bit)
        self._set_power(power, now)
        self._needs_tick(now)
        return self._state()

    def _set_power(self, power: int, now: float) -> None:
        if power != self.power:
            self.power = power
            self._animate(now)        # ExecuteCommandPower -> FUNC_SET_POWER -> LightSetPower -> LightAnimate

    # -- LightAnimate and LightApplyFade -----------------------------------------------------------------------

    def _target(self) -> tuple[float, ...]:
        """The output, before gamma, in the order red, green, blue, cold, warm (an RGBW light's white in cold,
        a one-channel light's in cold): LightApplyPower (2141-2170) zeroes what is off."""
        levels = self.light.levels()
        out = {SINGLE: [0, 0, 0, levels[0], 0], COLDWARM: [0, 0, 0, levels[0], levels[1]]}.get(self.subtype, levels)
        rgb_on = self.power & 1
        white_on = self.power & (1 if self.light.linked else 2)
        out = [v if (rgb_on if i < 3 else white_on) else 0 for i, v in enumerate(out)]
        return tuple(float(scale(v, 0, 255, 0, 1023)) for v in out)    # change8to10

    def _animate(self, now: float, fade: bool | None = None) -> None:
        target = self._target()
        if target == self._last and not self._forced:
            return
        self._forced = False
        if fade is None:
            fade = self._once[0] if self._once is not None else bool(self.settings["Fade"])
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

    def _power_name(self, device: int) -> str:
        return f"POWER{device}" if self.split else self.power_key

    def _state(self) -> dict:
        """ResponseLightState (1452-1533) for this light type."""
        light, out = self.light, {}
        if self.split:
            out.update({"POWER1": _on(self.power & 1), "Dimmer1": light.dimmer(1),
                        "POWER2": _on(self.power & 2), "Dimmer2": light.dimmer(2)})
        else:
            out.update({self.power_key: _on(self.power & 1), "Dimmer": light.dimmer()})
        if self.subtype > SINGLE:
            levels = light.levels()[:self.subtype]
            out["Color"] = "".join(f"{v:02X}" for v in levels)
            if self.subtype >= RGB:
                out["HSBColor"] = f"{light.hue},{scale(light.sat, 0, 255, 0, 100)},{scale(light.bri_rgb, 0, 255, 0, 100)}"
            if self.subtype in (COLDWARM, RGBW, RGBCW):
                out["White"] = light.dimmer(2)
            if self.subtype in (COLDWARM, RGBCW):
                out["CT"] = light.ct
            out["Channel"] = [max(1 if v else 0, scale(v, 0, 255, 0, 100)) for v in levels]
        return out

    def _result(self, body: dict, at: float) -> Answer:
        return at, MqttMessage(f"stat/{self.topic}/RESULT", json.dumps(body, separators=(",", ":")))


def _on(bit: int) -> str:
    return "ON" if bit else "OFF"


def _rgb_to_hs(r: int, g: int, b: int) -> tuple[int, int]:
    """RgbToHsb (xdrv_04_light_utils.ino 121-149): hue in degrees, saturation 0-255."""
    top, low = max(r, g, b), min(r, g, b)
    d = top - low
    if d == 0:
        return 0, 0
    sat = scale(d, 0, top, 0, 255)
    if r == top:
        hue = scale(g - b, 0, d, 0, 60) if g > b else 360 - scale(b - g, 0, d, 0, 60)
    elif g == top:
        hue = 120 + scale(b - r, 0, d, 0, 60) if b > r else 120 - scale(r - b, 0, d, 0, 60)
    else:
        hue = 240 + scale(r - g, 0, d, 0, 60) if r > g else 240 - scale(g - r, 0, d, 0, 60)
    return hue % 360, sat


def _hs_to_rgb(hue: int, sat: int) -> tuple[int, int, int]:
    """HsToRgb (xdrv_04_light_utils.ino 151-200): full-level RGB of a hue and saturation 0-255."""
    if sat <= 0:
        return 255, 255, 255
    hue %= 360
    i, f = hue // 60, hue % 60
    q = 255 - scale(f, 0, 60, 0, sat)
    p = 255 - sat
    t = 255 - scale(60 - f, 0, 60, 0, sat)
    return [(255, t, p), (q, 255, p), (p, 255, t), (p, q, 255), (t, p, 255), (255, p, q)][i]
