"""What a bridge says each bulb is (Zigbee2MQTT's retained `bridge/devices`), and the profile a light gets from it.

A room file names each bulb and its family; which bulbs take colour, which white range they have and whether
they run one transition at a time is known better by Zigbee2MQTT, which identified them. It publishes, per
device, `friendly_name` and `definition: {vendor, model, exposes}`; a light's `exposes` entry has features
`brightness`, `color_temp` (`value_min`/`value_max` in mired) and `color_xy`/`color_hs` (zigbee2mqtt
lib/extension/bridge.ts publishDevices and getDefinitionPayload). Pure: parsing here, applying on the core loop.

Anyone who may publish on the broker can publish this topic (the shipped ACL allows only Zigbee2MQTT's own
user), so what is learned is bounded by what the family can be: a white range only within the family's
own, a payload that cannot be read refused whole with a short reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from room_controller.i18n.said import Said
from room_controller.lighting.profiles import DeviceProfile, deep_merge


class BridgeError(ValueError):
    """A bridge/devices payload this module cannot read: nothing is learned from it."""


@dataclass(frozen=True)
class Learned:
    """One device as the bridge describes it: a light, or (`light` False) something else a light may have
    been set up on by mistake."""

    name: str
    vendor: str
    model: str
    color: bool
    color_temp: tuple[int, int] | None   # mired (coolest, warmest); None: one white only
    light: bool = True
    description: str = field(default="", compare=False)

    @property
    def what(self) -> str:
        """Vendor, model and what it is, short enough for a line of the panel (a forged list may say anything)."""
        text = f"{self.vendor} {self.model}" + (f" ({self.description})" if self.description else "")
        return text if len(text) <= 80 else text[:77] + "..."

    def summary(self) -> dict:
        return {"vendor": self.vendor, "model": self.model, "color": self.color,
                "color_temp": list(self.color_temp) if self.color_temp else None}


def topics(devices: Iterable) -> set[str]:
    """The bridge topics the room's lights learn from."""
    return {d.configured.bridge.topic for d in devices if d.configured.bridge is not None}


def parse_devices(payload: bytes) -> dict[str, Learned]:
    """Every device the payload describes, by friendly name (those that are not lights with `light` False).
    Devices not interviewed yet (no definition) are left out; anything malformed refuses the whole payload."""
    try:
        devices = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BridgeError(f"bridge/devices is not JSON: {exc}") from None
    except RecursionError:   # "[[[[..." deeper than Python's JSON reader goes: no device list nests like that
        raise BridgeError("bridge/devices nests too deep to be a device list") from None
    if not isinstance(devices, list):
        raise BridgeError("bridge/devices must be a list of devices")
    out: dict[str, Learned] = {}
    for i, device in enumerate(devices):
        if not isinstance(device, dict) or not isinstance(device.get("friendly_name"), str):
            raise BridgeError(f"device {i}: no friendly_name")
        learned = _light(device["friendly_name"], device.get("definition"))
        if learned is not None:
            out[learned.name] = learned
    return out


def _light(name: str, definition: Any) -> Learned | None:
    if definition is None:
        return None
    if not isinstance(definition, dict):
        raise BridgeError(f"{name}: definition must be an object")
    vendor, model, exposes = definition.get("vendor"), definition.get("model"), definition.get("exposes")
    if not isinstance(vendor, str) or not isinstance(model, str) or not isinstance(exposes, list):
        raise BridgeError(f"{name}: definition needs vendor, model and a list of exposes")
    description = definition.get("description")
    description = description if isinstance(description, str) else ""
    lights = [e for e in exposes if isinstance(e, dict) and e.get("type") == "light"]
    if not lights:
        return Learned(name, vendor, model, color=False, color_temp=None, light=False, description=description)
    features = lights[0].get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise BridgeError(f"{name}: the light's features must be a list of objects")
    names = {f.get("name") for f in features if isinstance(f.get("name"), str)}
    ct = next((f for f in features if f.get("name") == "color_temp"), None)
    return Learned(name, vendor, model, color=bool(names & {"color_xy", "color_hs"}),
                   color_temp=None if ct is None else _range(name, ct), description=description)


def _range(name: str, feature: dict) -> tuple[int, int]:
    low, high = feature.get("value_min"), feature.get("value_max")
    if not (_number(low) and _number(high) and 0 < low < high):
        raise BridgeError(f"{name}: color_temp needs value_min < value_max, both finite numbers above 0 "
                          f"(got {_short(low)}, {_short(high)})")
    return round(low), round(high)


def _number(value: object) -> TypeGuard[float]:
    """A finite number: Python's JSON reader takes Infinity and NaN, which no bulb's range is."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def bounded(configured: DeviceProfile, learned: Learned) -> tuple[int, int] | None:
    """The learned white range within the family's own (`configured`'s, in mired): a device list that says a
    bulb is whiter or warmer than the family can be (forged, or mistaken) widens nothing. Refused
    (BridgeError) when nothing of it lies within."""
    ct, family = learned.color_temp, configured.capabilities.color_temp
    if ct is None or family is None or family.unit != "mired":
        return ct
    low, high = max(ct[0], math.ceil(family.min)), min(ct[1], math.floor(family.max))
    if low >= high:
        raise BridgeError(f"{learned.name}: white range {ct[0]}-{ct[1]} mired is outside the family's "
                          f"{family.min:g}-{family.max:g}")
    return low, high


def profile_for(configured: DeviceProfile, learned: Learned, capabilities: dict | None = None,
                quirks: dict | None = None) -> DeviceProfile:
    """`configured` with what the bridge says about the bulb laid over it (its white range within the
    family's), and the room file's own `capabilities`/`quirks` for the light over that again: what a person
    wrote down wins."""
    data = configured.model_dump(by_alias=True)
    ct = bounded(configured, learned)
    data["capabilities"] = deep_merge(data["capabilities"], {
        "color": learned.color,
        "color_temp": None if ct is None else {"unit": "mired", "min": ct[0], "max": ct[1]}})
    known = configured.bridge.quirks if configured.bridge else None   # no longer a bulb of unknown make
    if known is not None:
        data["quirks"] = deep_merge(data["quirks"], known.model_dump(exclude_unset=True))
    for rule in configured.bridge.models if configured.bridge else []:
        if rule.vendor == learned.vendor and (not rule.models or learned.model in rule.models):
            data["quirks"] = deep_merge(data["quirks"], rule.quirks.model_dump(exclude_unset=True))
    data["capabilities"] = deep_merge(data["capabilities"], capabilities or {})
    data["quirks"] = deep_merge(data["quirks"], quirks or {})
    return DeviceProfile.model_validate(data)


def findings(configured: DeviceProfile, found: Learned, label: str, first: Learned) -> dict[str, Said | None]:
    """What the panel's problems say of one light once its bridge has described its device, by kind (None:
    nothing to say, any earlier line goes): a device that is no light; a white range other than the first
    the bridge gave since the start (as the room would use it, within the family's)."""
    out: dict[str, Said | None] = {"zigbee_not_light": None, "zigbee_range": None}
    if not found.light:
        out["zigbee_not_light"] = Said.of("problems.zigbee_not_light", light=label, device=found.name,
                                          model=found.what)
        return out
    new = _usable_range(configured, found)
    old = _usable_range(configured, first) if first.light else new
    if new != old:
        out["zigbee_range"] = Said.of("problems.zigbee_range_changed", light=label, new=kelvin_text(new),
                                      old=kelvin_text(old))
    return out


def _usable_range(configured: DeviceProfile, learned: Learned) -> tuple[int, int] | None:
    try:
        return bounded(configured, learned)
    except BridgeError:
        return learned.color_temp   # refused, so not used: said as the bridge gave it


def kelvin_text(mired: tuple[int, int] | None) -> str:
    """A white range as people read it: "2203-4000 K" (a bulb with one white only: "-")."""
    if mired is None:
        return "-"
    return f"{round(1e6 / mired[1])}-{round(1e6 / mired[0])} K"
