"""What a bridge says each bulb is (Zigbee2MQTT's retained `bridge/devices`), and the profile a light gets from it.

A room file names each bulb and its family; which bulbs take colour, which white range they have and whether
they run one transition at a time is known better by Zigbee2MQTT, which identified them. It publishes, per
device, `friendly_name` and `definition: {vendor, model, exposes}`; a light's `exposes` entry has features
`brightness`, `color_temp` (`value_min`/`value_max` in mired) and `color_xy`/`color_hs` (zigbee2mqtt
lib/extension/bridge.ts publishDevices and getDefinitionPayload). Pure: parsing here, applying on the core loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from room_controller.lighting.profiles import DeviceProfile, deep_merge


class BridgeError(ValueError):
    """A bridge/devices payload this module cannot read: nothing is learned from it."""


@dataclass(frozen=True)
class Learned:
    """One bulb as the bridge describes it."""

    name: str
    vendor: str
    model: str
    color: bool
    color_temp: tuple[int, int] | None   # mired (coolest, warmest); None: one white only

    def summary(self) -> dict:
        return {"vendor": self.vendor, "model": self.model, "color": self.color,
                "color_temp": list(self.color_temp) if self.color_temp else None}


def topics(devices: Iterable) -> set[str]:
    """The bridge topics the room's lights learn from."""
    return {d.configured.bridge.topic for d in devices if d.configured.bridge is not None}


def parse_devices(payload: bytes) -> dict[str, Learned]:
    """Every light the payload describes, by friendly name. Devices that are not lights, not interviewed yet
    or unsupported (no definition) are left out; anything malformed refuses the whole payload."""
    try:
        devices = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BridgeError(f"bridge/devices is not JSON: {exc}") from None
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
    lights = [e for e in exposes if isinstance(e, dict) and e.get("type") == "light"]
    if not lights:
        return None
    features = lights[0].get("features")
    if not isinstance(features, list) or not all(isinstance(f, dict) for f in features):
        raise BridgeError(f"{name}: the light's features must be a list of objects")
    names = {f.get("name") for f in features}
    ct = next((f for f in features if f.get("name") == "color_temp"), None)
    return Learned(name, vendor, model, color=bool(names & {"color_xy", "color_hs"}),
                   color_temp=None if ct is None else _range(name, ct))


def _range(name: str, feature: dict) -> tuple[int, int]:
    low, high = feature.get("value_min"), feature.get("value_max")
    if not (_number(low) and _number(high) and 0 < low < high):
        raise BridgeError(f"{name}: color_temp needs value_min < value_max, both above 0 (got {low!r}, {high!r})")
    return round(low), round(high)


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def profile_for(configured: DeviceProfile, learned: Learned, capabilities: dict | None = None,
                quirks: dict | None = None) -> DeviceProfile:
    """`configured` with what the bridge says about the bulb laid over it, and the room file's own
    `capabilities`/`quirks` for the light over that again: what a person wrote down wins."""
    data = configured.model_dump(by_alias=True)
    ct = learned.color_temp
    data["capabilities"] = deep_merge(data["capabilities"], {
        "color": learned.color,
        "color_temp": None if ct is None else {"unit": "mired", "min": ct[0], "max": ct[1]}})
    for rule in configured.bridge.models if configured.bridge else []:
        if rule.vendor == learned.vendor and (not rule.models or learned.model in rule.models):
            data["quirks"] = deep_merge(data["quirks"], rule.quirks.model_dump(exclude_unset=True))
    data["capabilities"] = deep_merge(data["capabilities"], capabilities or {})
    data["quirks"] = deep_merge(data["quirks"], quirks or {})
    return DeviceProfile.model_validate(data)
