"""The room configuration file (docs/interface.md): models, built-in presets, and the checks across sections.

Models are frozen and reject unknown keys with a suggestion; `load_room()` returns a validated `RoomConfig`
or raises `ConfigError` whose problems name file, line and field; `read_room()` is what `check` and `serve`
see of the file, every problem at once and the parts that loaded. Relative paths are relative to the file.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from room_controller import i18n
from room_controller.audio.settings import AudioSettings, MusicSpec
from room_controller.buttons import ButtonMapping
from room_controller.fields import Colour, Duration, Identifier, Kelvin, Percent
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Model, Problem
from room_controller.i18n.said import Said
from room_controller.lighting.profiles import Catalogue, deep_merge
from room_controller.lighting.state import LightChange
from room_controller.vitals.model import Settings as VitalsSettings


class LightSetting(Model):
    """How one light (or every light) should look; what is left out stays as it is."""

    on: bool | None = None
    brightness: Percent | None = None
    kelvin: Kelvin | None = None
    color: Colour | None = Field(None, description="#RRGGBB or [r, g, b]")

    @model_validator(mode="after")
    def _white_or_colour(self) -> LightSetting:
        if self.kelvin is not None and self.color is not None:
            raise ValueError("give kelvin (a white) or color, not both")
        return self

    def change(self) -> LightChange:
        return LightChange(on=self.on, brightness=self.brightness, kelvin=self.kelvin, rgb=self.color)


MAX_FADE = 24 * 3600.0   # longer than any session; a fade of 1e300 s planned its steps without end (fuzzing)


class LightScene(LightSetting):
    """A setting for the whole room, with exceptions per group and per light, reached by a fade."""

    transition: Duration = Field(0.0, le=MAX_FADE, description="fade length, at most 24h")
    per_group: dict[str, LightSetting] = Field(default_factory=dict)
    per_light: dict[str, LightSetting] = Field(default_factory=dict)

    def changes(self, lights: list[LightConfig]) -> dict[str, LightChange]:
        """Each light's change: the room setting, then its groups', then its own (most specific wins)."""
        out = {}
        for light in lights:
            change = LightSetting.change(self)
            for group in light.groups:
                if group in self.per_group:
                    change = self.per_group[group].change().merged_over(change)
            if light.id in self.per_light:
                change = self.per_light[light.id].change().merged_over(change)
            if not change.empty:
                out[light.id] = change
        return out


class Preset(Model):
    label: str | None = None
    lights: LightScene | None = None
    music: MusicSpec | None = None


BUILTIN_PRESETS: dict[str, dict] = {
    "calm": {"label": "Calm", "lights": {"brightness": 15, "kelvin": 2200, "transition": "3s"},
             "music": {"playlist": "calm.m3u", "volume": 35}},
    "check-in": {"label": "Check-in", "lights": {"brightness": 40, "kelvin": 2700, "transition": "20s"}},
    "emergency": {"label": "Emergency light", "lights": {"brightness": 100, "kelvin": 4000, "transition": "0s"},
                  "music": "stop"},
}


IDLE_SCENE = {"brightness": 40, "kelvin": 2700, "transition": "1m"}


class RoomInfo(Model):
    id: Identifier
    name: str = ""
    language: str = Field("en", description="BCP 47 tag of the room's language (de, nl, en-AU, pt-BR): the panel, "
                                            "the report; a tablet may choose its own")

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return i18n.check_tag(value)


class MqttSettings(Model):
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    base_topic: str = Field("therapy-room", pattern=r"^[^#+\s]+$")
    keepalive: int = Field(15, ge=5, le=600)
    reconnect_max: Duration = Field(1.0, gt=0, le=5, description="longest wait between reconnection attempts")

    @field_validator("base_topic")
    @classmethod
    def _no_edge_slash(cls, v: str) -> str:
        if v.startswith("/") or v.endswith("/"):
            raise ValueError("base_topic must not start or end with /")
        return v


class WebSettings(Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    pin: SecretStr | None = None
    admin_pin: SecretStr | None = Field(None, description="for the clinic tools (profile editor); not the therapist's")
    api_token: SecretStr | None = None
    idle_logout: Duration = Field(7200.0, ge=60, le=7 * 86400, description="a panel login unused this long ends "
                                  "(the room's tablet, marked at login, never)")
    allowed_hosts: list[str] = Field(default_factory=list, description="names the panel is reached by besides IP "
                                     "addresses, localhost and this computer's name (a Host check: DNS rebinding)")
    threads: int = Field(32, ge=4, le=256, description="server threads: open panels hold one each")
    max_event_streams: int = Field(16, ge=1, le=200)
    max_event_streams_per_login: int = Field(8, ge=1, le=200, description="live panels of one login (or the "
                                             "api_token); a browser itself opens at most 6 connections per host")
    calm_threads: int = Field(2, ge=1, le=8, description="threads only for calm, emergency and release")
    max_connections: int = Field(500, ge=16, le=900, description="open connections in all; over it the "
                                 "longest-waiting unfinished or idle one is closed, never one being answered")
    max_connections_per_client: int = Field(32, ge=4, le=900, description="open connections per client address; "
                                            "beyond them a client may only press calm (or release) and log in")
    request_timeout: Duration = Field(10.0, ge=1, le=120, description="a request's line, headers and body must "
                                      "arrive within this, however slowly they trickle")
    trusted_proxy: str | None = Field(None, description="the TLS terminator on this computer (127.0.0.1) whose "
                                      "X-Forwarded-Proto and -For are believed: under HTTPS the login cookie is "
                                      "Secure and the PIN limit counts the tablet's address, not the proxy's")

    @field_validator("trusted_proxy")
    @classmethod
    def _proxy_on_this_computer(cls, value: str | None) -> str | None:
        """Only a proxy on this computer: a forwarded header from anywhere else could claim HTTPS or any address."""
        try:
            local = value is None or ipaddress.ip_address(value).is_loopback
        except ValueError:
            local = False
        if not local:
            raise ValueError("trusted_proxy must be a loopback address such as 127.0.0.1 (the proxy on this computer)")
        return value

    @model_validator(mode="after")
    def _secrets_off_loopback(self) -> WebSettings:
        if not _is_loopback(self.host) and (not self.pin or not self.api_token):
            raise ValueError(f"listening on {self.host} (beyond this computer) needs both a pin and an api_token")
        if self.api_token is not None and len(self.api_token.get_secret_value()) < 16:
            raise ValueError("api_token must be at least 16 characters")
        if self.pin is not None and not (4 <= len(self.pin.get_secret_value()) <= 12):
            raise ValueError("pin must be 4 to 12 characters")
        if self.admin_pin is not None:
            if not (6 <= len(self.admin_pin.get_secret_value()) <= 32):
                raise ValueError("admin_pin must be 6 to 32 characters")
            if self.pin is not None and self.admin_pin.get_secret_value() == self.pin.get_secret_value():
                raise ValueError("admin_pin must differ from the therapist's pin")
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LightConfig(Model):
    id: Identifier
    profile: str
    device: str = Field(min_length=1, description="the light's name or topic in its own system")
    name: str | None = None
    groups: list[Identifier] = Field(default_factory=list)
    capabilities: dict[str, Any] | None = Field(None, description="changes to the family's capabilities")
    quirks: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


class LightingSettings(Model):
    max_rate: float = Field(2.0, gt=0, le=20, description="commands per second per light during long fades")
    reassert_transition: Duration = Field(1.0, le=10, description="fade used when putting a light right again")
    min_toggle_interval: Duration = Field(1.0, ge=1.0, description="never switch a light on/off more often")


class HomeAssistantSettings(Model):
    """MQTT discovery, so the room shows up in the clinic's Home Assistant (integrations/homeassistant/)."""

    discovery: bool = False
    prefix: str = Field("homeassistant", pattern=r"^[^#+\s/]+$", description="Home Assistant's discovery prefix")
    room_light: bool = Field(False, description="all the room's lights as one light entity (brightness and white, "
                                                "a manual adjustment like the panel's)")
    panel_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/\S*)?$", description="the panel's address as "
                                  "staff open it, e.g. http://room-3.clinic.lan:8080/ (the device page links to it)")


class AlertSettings(Model):
    """What the room tells the clinic floor besides what always goes out (core/alerts.py, docs/interface.md)."""

    calm_pressed: bool = Field(False, description="an alert (not urgent) each time calm is pressed")


class RoomConfig(Model):
    room: RoomInfo
    mqtt: MqttSettings = MqttSettings()
    web: WebSettings = WebSettings()
    audio: AudioSettings = AudioSettings()
    lighting: LightingSettings = LightingSettings()
    lights: list[LightConfig] = Field(default_factory=list)
    presets: dict[Identifier, Preset] = Field(default_factory=dict)
    idle: LightScene = Field(default_factory=lambda: LightScene.model_validate(IDLE_SCENE),
                             description="what the room shows with no session: after a session ends (over its "
                                         "transition) and when a preset is released")
    buttons: list[ButtonMapping] = Field(default_factory=list, description="MQTT messages that act like the panel")
    homeassistant: HomeAssistantSettings = HomeAssistantSettings()
    alerts: AlertSettings = AlertSettings()
    vitals: VitalsSettings = Field(default_factory=VitalsSettings, description="limits and a live pulse sensor "
                                   "(docs/vitals.md); health data, never on MQTT state or in Home Assistant")
    profiles_dir: Path = Path("profiles")
    playlists_dir: Path = Path("playlists")
    data_dir: Path = Path("data")
    device_profiles_dir: Path | None = None
    clinic: Path | None = Field(None, description="the clinic file (relative to this file) whose `day:` holds this "
                                "room's bookings (docs/day.md); unset: no day plan")
    retention_days: int | None = Field(None, ge=1, le=36500, description="sessions that ended longer ago are "
                                       "deleted from the journal each night (journaled); unset: kept for ever")

    @field_validator("lights")
    @classmethod
    def _unique_ids(cls, lights: list[LightConfig]) -> list[LightConfig]:
        seen: set[str] = set()
        for light in lights:
            if light.id in seen:
                raise ValueError(f"two lights have the id {light.id!r}")
            seen.add(light.id)
        return lights

    @property
    def topic_prefix(self) -> str:
        return f"{self.mqtt.base_topic}/{self.room.id}"

    @property
    def groups(self) -> set[str]:
        return {g for light in self.lights for g in light.groups}


ALL_PARTS = frozenset({"lights", "presets", "profiles_dir", "playlists_dir", "device_profiles_dir"})


@dataclass
class RoomRead:
    """A room file as far as it could be read: every problem in it, and the room made of its parts that
    loaded (None when not even its `room:` did), with the parts the other checks lean on that stand whole
    as written (`whole`): a light taken out would make every preset naming it look wrong."""

    doc: yamlfile.Document
    config: RoomConfig | None
    catalogue: Catalogue | None
    problems: list[Problem]
    whole: frozenset[str] = ALL_PARTS


def load_room(path: str | Path) -> tuple[RoomConfig, Catalogue]:
    """The validated room and its device catalogue, or ConfigError listing every problem found."""
    room = read_room(path)
    if room.problems or room.config is None or room.catalogue is None:
        raise ConfigError(room.problems)
    return room.config, room.catalogue


def read_room(path: str | Path) -> RoomRead:
    """Every problem of the room file, its own and across its sections, each found in one pass: the checks
    across sections run on the parts that loaded (ConfigError only when the file is no YAML)."""
    path = Path(path)
    doc = yamlfile.load(path)
    if not isinstance(doc.data, dict):
        return RoomRead(doc, None, None, [doc.problem((), Said.of("check.room_not_mapping"))])
    data = dict(doc.data)
    user_presets = data.get("presets") or {}
    if isinstance(user_presets, dict):
        data["presets"] = {**BUILTIN_PRESETS, **{k: deep_merge(BUILTIN_PRESETS.get(k, {}), v)
                                                  if isinstance(v, dict) else v for k, v in user_presets.items()}}
    base = path.resolve().parent
    for key, default in (("profiles_dir", "profiles"), ("playlists_dir", "playlists"), ("data_dir", "data"),
                         ("device_profiles_dir", None), ("clinic", None)):
        value = data.get(key, default)
        if isinstance(value, str):
            data[key] = str(base / value)  # an absolute path stays as it is
    config, problems = yamlfile.read(RoomConfig, doc, data)
    if config is None:
        return RoomRead(doc, None, None, problems)
    whole = _whole(config, data)
    catalogue = None
    if "device_profiles_dir" in whole:
        try:
            catalogue = Catalogue.load(config.device_profiles_dir)
        except ConfigError as exc:
            problems += exc.problems
    return RoomRead(doc, config, catalogue, problems + cross_check(config, catalogue, doc, whole), whole)


def _whole(config: RoomConfig, data: dict) -> frozenset[str]:
    """The parts of the (perhaps partly) loaded room that are as the file has them."""
    lights = data.get("lights") or []
    written = [(light.get("id"), light.get("groups", [])) if isinstance(light, dict) else None
               for light in (lights if isinstance(lights, list) else [None])]
    loaded = {
        "lights": [(light.id, list(light.groups)) for light in config.lights] == written,
        "presets": isinstance(data.get("presets"), dict) and set(config.presets) == set(data["presets"]),
        **{key: data.get(key) == (None if getattr(config, key) is None else str(getattr(config, key)))
           for key in ("profiles_dir", "playlists_dir", "device_profiles_dir")},
    }
    return frozenset(part for part, same in loaded.items() if same)


def cross_check(config: RoomConfig, catalogue: Catalogue | None, doc: yamlfile.Document,
                whole: frozenset[str] = ALL_PARTS) -> list[Problem]:
    """What each section is right about alone but wrong about together (on the parts `whole` as written)."""
    problems = [] if catalogue is None else families(config, catalogue, doc)
    if "lights" in whole:
        for name, preset in config.presets.items():
            problems += preset_problems(preset, config, doc, ("presets", name))
        problems += idle_problems(config, doc)
    for i, button in enumerate(config.buttons if "presets" in whole else []):
        named = button.do.get("preset")
        if named is not None and named not in config.presets:
            problems.append(doc.problem(("buttons", i, "do", "preset"), Said.of(
                "check.no_preset", name=repr(named), hint=hint(named, config.presets))))
    return problems


def families(config: RoomConfig, catalogue: Catalogue, doc: yamlfile.Document) -> list[Problem]:
    """Each light's device family is in the catalogue, and its changes to the family's capabilities fit."""
    problems = []
    for i, light in enumerate(config.lights):
        if light.profile not in catalogue.profiles:
            problems.append(doc.problem(("lights", i, "profile"), Said.of(
                "check.unknown_device_profile", name=repr(light.profile), hint=hint(light.profile, catalogue.profiles))))
            continue
        try:
            catalogue.resolve(light.profile, light.capabilities, light.quirks)
        except ValueError as exc:
            first = exc.errors()[0] if hasattr(exc, "errors") else None  # pydantic ValidationError
            where = ".".join(str(p) for p in first["loc"]) if first else ""
            message = first["msg"] if first else str(exc)
            problems.append(doc.problem(("lights", i, where.split(".")[0] or "capabilities"),
                                        f"{where}: {message}" if where else message))
    return problems


def preset_problems(preset: Preset, config: RoomConfig, doc: yamlfile.Document,
                    where: yamlfile.Path_) -> list[Problem]:
    """A preset's lights and groups that the room does not have (the file's check and the preset editor's)."""
    return [] if preset.lights is None else scene_problems(preset.lights, config, doc, where + ("lights",))


def scene_problems(scene: LightScene, config: RoomConfig, doc: yamlfile.Document,
                   where: yamlfile.Path_) -> list[Problem]:
    ids = {light.id for light in config.lights}
    problems = [doc.problem(where + ("per_light", light_id),
                            Said.of("check.no_light_id", id=repr(light_id), hint=hint(light_id, ids)))
                for light_id in scene.per_light if light_id not in ids]
    return problems + [doc.problem(where + ("per_group", group),
                                   Said.of("check.no_group", group=repr(group), hint=hint(group, config.groups)))
                       for group in scene.per_group if group not in config.groups]


def idle_problems(config: RoomConfig, doc: yamlfile.Document) -> list[Problem]:
    """The idle scene is where a release returns with no session, so it must say how bright every light is:
    'unknown, so send nothing' would leave a light at the preset's level."""
    problems = scene_problems(config.idle, config, doc, ("idle",))
    changes = config.idle.changes(config.lights)
    unset = [light.id for light in config.lights
             if light.id not in changes or (changes[light.id].brightness is None and changes[light.id].on is not False)]
    if unset:
        problems.append(doc.problem(("idle",), Said.of("check.idle_brightness", lights=", ".join(unset))))
    return problems


def hint(word: str, known) -> Said | str:
    """'; did you mean ...?' with the nearest of `known`, or all of them (nothing when there are none)."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    if close:
        return Said.of("check.near", near=repr(close[0]))
    return Said.of("check.known", known=", ".join(sorted(known))) if known else ""
