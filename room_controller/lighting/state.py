"""The one light model the whole controller speaks, and the message it becomes on the wire."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class LightState:
    """What a light shows: on/off, perceived brightness 0-100 (CIE L*), and either white or a colour.

    `kelvin` and `rgb` are exclusive; with neither, the light keeps whatever colour it has.
    """

    on: bool = True
    brightness: float = 100.0
    kelvin: float | None = None
    rgb: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        if self.kelvin is not None and self.rgb is not None:
            raise ValueError("a light shows either a white (kelvin) or a colour (rgb), not both")

    @property
    def lit(self) -> bool:
        """On and above zero: what the eye sees as a light that is on."""
        return self.on and self.brightness > 0

    def with_(self, **changes) -> LightState:
        return replace(self, **changes)

    @property
    def mode(self) -> str:
        """What it shows: "color" with a colour, else "white" (a white of unknown warmth is still white)."""
        return "white" if self.rgb is None else "color"

    def as_dict(self) -> dict:
        out: dict = {"on": self.lit, "brightness": round(self.brightness, 1) if self.lit else 0, "mode": self.mode}
        if self.kelvin is not None:
            out["kelvin"] = round(self.kelvin)
        if self.rgb is not None:
            out["color"] = "#{:02X}{:02X}{:02X}".format(*self.rgb)
        return out


OFF = LightState(on=False, brightness=0.0)


@dataclass(frozen=True)
class LightChange:
    """A partial change asked for by a preset, a phase scene or a slider: None means keep as is."""

    on: bool | None = None
    brightness: float | None = None
    kelvin: float | None = None
    rgb: tuple[int, int, int] | None = None

    def apply(self, base: LightState) -> LightState:
        on = self.on if self.on is not None else (True if self.brightness and self.brightness > 0 else base.on)
        brightness = base.brightness if self.brightness is None else self.brightness
        if self.brightness == 0:
            on = False
        if on and brightness <= 0:
            brightness = base.brightness if base.brightness > 0 else 1.0
        kelvin, rgb = base.kelvin, base.rgb
        if self.kelvin is not None:
            kelvin, rgb = self.kelvin, None
        elif self.rgb is not None:
            kelvin, rgb = None, self.rgb
        return LightState(on=on, brightness=brightness if on else base.brightness, kelvin=kelvin, rgb=rgb)

    def merged_over(self, under: LightChange) -> LightChange:
        """This change layered on top of `under` (fields set here win)."""
        colour_here = self.kelvin is not None or self.rgb is not None
        return LightChange(
            on=self.on if self.on is not None else under.on,
            brightness=self.brightness if self.brightness is not None else under.brightness,
            kelvin=self.kelvin if colour_here else under.kelvin,
            rgb=self.rgb if colour_here else under.rgb,
        )

    @property
    def empty(self) -> bool:
        return self.on is None and self.brightness is None and self.kelvin is None and self.rgb is None


@dataclass(frozen=True)
class MqttMessage:
    topic: str
    payload: str
    qos: int = 0
    retain: bool = False
