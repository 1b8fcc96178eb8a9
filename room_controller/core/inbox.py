"""What arrives from the broker, routed to the part of the room that acts on it.

paho's network thread calls `on_mqtt_message`: the payload is decoded there (pure work, no room state), and
the latest of each source is handed to the core through the intake, which keeps a flood from any one source
from reaching the core (core/intake.py). On the core loop the inbox then runs the commands, merges device
reports (availability, and a device back again is put right), and takes in what a bridge says its bulbs are.
A bad payload is logged, counted per topic, never acted on.

A flood repeats itself: a stuck remote sends the same bytes thousands of times a second, a flapping lamp
two payloads in turn. What each topic's last two payloads decoded to is kept (`Recent`), so a repeat costs
paho's thread a comparison of bytes, not a JSON parse, and the interpreter stays free for calm.

It is given only what it uses (core/room.py wires it): the room's configuration as it is now (a callable, since
the room file may be read again), the lights and their settings from the room file, the core loop and the clock,
the intake, the room's problems, its `emit` (journal an event, tell the followers) and `touch` (a new snapshot),
a way to run a command from a source, the announcement of Home Assistant's entities, Home Assistant's status
topic as it is now, and the vitals desk's pulse topic and its `offer_pulse`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from room_controller.buttons import pressed
from room_controller.commands import CommandError, PresetCommand, parse_command
from room_controller.core.intake import SUMMARY_WINDOW
from room_controller.lighting import bridge
from room_controller.lighting.decode import DecodeError, Report, decode, topics
from room_controller.lighting.state import MqttMessage
from room_controller.pace import Budget

if TYPE_CHECKING:
    from room_controller.config import LightConfig, RoomConfig
    from room_controller.core.intake import Intake
    from room_controller.core.lights import Light
    from room_controller.core.loop import Loop
    from room_controller.infrastructure.clock import Clock

log = logging.getLogger(__name__)

COMMAND_PACE = 0.25       # seconds: one command source (a button, the command topic) acts at most this often
REPEAT_GAP = 2.0          # seconds: the same command again, sooner than this after the last message, is a repeat
REPORT_PACE = 0.1         # seconds: one light's reports reach the core at most this often, folded meanwhile
DISCOVERY_PACE = 1.0      # seconds: a bridge's device list, Home Assistant's birth message
BAD_PAYLOAD_LINES = 60.0  # seconds: at most one log line per topic about its bad payloads
AVAILABILITY_ROWS = 3     # journal rows per light per SUMMARY_WINDOW about going offline and back; then a summary


class Recent:
    """What the last two payloads under each key decoded to, and on what basis (a light's device profile,
    which a bridge may relearn: then the payload is decoded anew). Only paho's thread uses it."""

    def __init__(self) -> None:
        self._seen: dict[Hashable, tuple[tuple[bytes, object, Any], ...]] = {}

    def decoded(self, key: Hashable, payload: bytes, basis: object, decode: Callable[[], Any]) -> Any:
        """`decode()`'s result, or the error it raised (returned, not raised: the same exception raised
        again and again would grow its traceback)."""
        seen = self._seen.get(key, ())
        for earlier, earlier_basis, result in seen:
            if earlier == payload and earlier_basis is basis:
                return result
        try:
            result = decode()
        except (CommandError, DecodeError) as exc:
            result = exc
        self._seen[key] = ((payload, basis, result), *seen[:1])
        return result


class Inbox:
    def __init__(self, *, config: Callable[[], RoomConfig], lights: dict[str, Light],
                 light_configs: dict[str, LightConfig], loop: Loop, clock: Clock, intake: Intake,
                 problems: dict[str, str], emit: Callable[..., bool], touch: Callable[[], None],
                 run_command: Callable[[Any, str], Any], announce_discovery: Callable[[], None],
                 discovery_topic: Callable[[], str | None], pulse_topic: Callable[[], str | None],
                 offer_pulse: Callable[[bytes, Callable[[str], None]], None]) -> None:
        self._config, self._lights, self._light_configs = config, lights, light_configs
        self._loop, self._clock, self._intake, self._problems = loop, clock, intake, problems
        self._emit, self._touch, self._run_command = emit, touch, run_command
        self._announce_discovery, self._discovery_topic = announce_discovery, discovery_topic
        self._pulse_topic, self._offer_pulse = pulse_topic, offer_pulse
        self.command_topic = f"{config().topic_prefix}/command"
        self._by_topic: dict[str, list[str]] = {}   # a device topic: the lights that report on it
        for light in lights.values():
            for topic in topics(light.device):
                self._by_topic.setdefault(topic, []).append(light.id)
        self._bridge_topics = bridge.topics(light.device for light in lights.values())
        self._bad_payloads: dict[str, int] = {}
        self._bad_payload_lines: dict[str, Budget] = {}
        self._recent = Recent()
        self._availability_rows: dict[str, Budget] = {}
        self._first_learned: dict[str, bridge.Learned] = {}   # per light: what its bridge said first since the start
        loop.call_later(SUMMARY_WINDOW, self._summarise)

    @property
    def subscriptions(self) -> list[str]:
        optional = (self._discovery_topic(), self._pulse_topic())
        extra = {b.topic for b in self._config().buttons} | {t for t in optional if t is not None} \
            | self._bridge_topics
        return sorted(self._by_topic) + [self.command_topic] + sorted(extra - set(self._by_topic))

    # -- paho's network thread -----------------------------------------------------------------------------------

    def on_mqtt_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if topic == self.command_topic:
            if not retained:
                self._offer_commands(topic, self._parse(topic, payload, lambda: [parse_command(payload)]))
            return
        if topic == self._pulse_topic():
            self._offer_pulse(payload, lambda message: self._bad_payload(topic, message))
            return
        if topic == self._discovery_topic():
            if payload == b"online":
                self._intake.offer(("discovery",), None, lambda _: self._announce_discovery(),
                                   interval=DISCOVERY_PACE)
            return
        if topic in self._bridge_topics:
            try:
                learned = bridge.parse_devices(payload)
            except bridge.BridgeError as exc:
                self._bad_payload(topic, str(exc))
                return
            self._intake.offer(("bridge", topic), learned, lambda found: self.learn_devices(topic, found),
                               interval=DISCOVERY_PACE)
            return
        buttons = self._config().buttons
        if not retained and any(b.topic == topic for b in buttons):   # a retained press is old: never acted on
            self._offer_commands(topic, self._parse(topic, payload, lambda: pressed(buttons, topic, payload),
                                                    basis=buttons))
        for light_id in self._by_topic.get(topic, ()):
            device = self._lights[light_id].device
            report = self._recent.decoded((light_id, topic), payload, device.profile,
                                          functools.partial(decode, device, topic, payload))
            if isinstance(report, DecodeError):
                self._bad_payload(topic, str(report))
            elif report is not None:
                for problem in report.problems:
                    self._bad_payload(topic, problem)
                self._intake.offer(("report", light_id), report, functools.partial(self.device_report, light_id),
                                   interval=REPORT_PACE, fold=Report.then)

    def _parse(self, topic: str, payload: bytes, parse: Callable[[], list], basis: object = None) -> list:
        commands = self._recent.decoded(topic, payload, basis, parse)
        if isinstance(commands, CommandError):
            self._bad_payload(topic, str(commands))
            return []
        return commands

    def _offer_commands(self, topic: str, commands: list) -> None:
        """Per source and kind of command (preset, session control, extension), the latest wins. Presets
        (calm, emergency, release) go in the urgent lane, and a newer one from anywhere wins over them."""
        for command in commands:
            preset = isinstance(command, PresetCommand)
            self._intake.offer(("commands", topic, command.kind), command, lambda c: self._run(c, topic),
                               interval=COMMAND_PACE, urgent=preset, source=topic if preset else None,
                               repeat_gap=REPEAT_GAP)

    def _bad_payload(self, topic: str, message: str) -> None:
        """One short line per topic per minute, with the count so far: a flood of bad payloads must not fill
        the disk (by count alone, a line every 100th was 10,000 lines for a million)."""
        count = self._bad_payloads.get(topic, 0) + 1
        self._bad_payloads[topic] = count
        if self._bad_payload_lines.setdefault(topic, Budget(1, BAD_PAYLOAD_LINES)).take(time.monotonic()):
            log.warning("ignored a bad payload on %s (%d so far): %s", topic, count, message)

    # -- the core loop ------------------------------------------------------------------------------------------

    def _run(self, command: Any, topic: str) -> None:
        try:
            self._run_command(command, topic)   # whose it is decides for presets and lights (core/sources.py)
        except Exception as exc:   # noqa: BLE001 - a refused command is logged; the room carries on
            log.warning("command %s on %s refused: %s", command, topic, exc)

    def device_report(self, light_id: str, report: Report) -> None:
        light = self._lights[light_id]
        was_online = light.online
        changed = light.apply_report(report)
        back = report.returned and light.online   # offline and back again while the core was busy
        self._touch()
        if not changed and not back:
            return
        journaled = self._availability_rows.setdefault(
            light_id, Budget(AVAILABILITY_ROWS, SUMMARY_WINDOW)).take(self._clock.monotonic())
        if light.online is False:
            self._problems[f"light:{light_id}"] = f"{self._light_configs[light_id].label} is offline"
            if journaled:
                self._emit("device_offline", light=light_id)
        else:
            self._problems.pop(f"light:{light_id}", None)
            if journaled:
                self._emit("device_online", light=light_id)
            if was_online is False or report.online or back:
                profile = light.device.profile
                light.send_raw([MqttMessage(light.device.topic(m.topic), m.payload) for m in profile.setup])
                light.reassert(self._config().lighting.reassert_transition)

    def learn_devices(self, topic: str, learned: dict[str, bridge.Learned]) -> None:
        """A bridge said what its bulbs are: each of its lights takes colour, white range and quirks from that,
        under what the room file says. A light that changed is told its target again in its new terms. The
        panel's problems say when a light is set up on a device that is no light, and when a light's white
        range differs from the first the bridge gave since the start (a forged device list, or a new bulb)."""
        changed = {}
        for light in self._lights.values():
            found = learned.get(light.device.device)
            if found is None or topic not in bridge.topics([light.device]):
                continue
            config = self._light_configs[light.id]
            for key, said in bridge.findings(light.device.configured, found, config.label,
                                             self._first_learned.setdefault(light.id, found)).items():
                if said is None:
                    self._problems.pop(f"{key}:{light.id}", None)
                else:
                    self._problems[f"{key}:{light.id}"] = said.in_language(self._config().room.language)
            if not found.light:
                continue
            try:
                profile = bridge.profile_for(light.device.configured, found, config.capabilities, config.quirks)
            except ValueError as exc:   # the room file's own values do not fit the bulb: keep them as they are
                log.warning("light %s: %s's description does not fit the room file: %s", light.id, topic, exc)
                continue
            if profile != light.device.profile:
                light.device.profile = profile
                changed[light.id] = found.summary()
                light.reassert(self._config().lighting.reassert_transition)
        if changed:
            self._emit("devices_learned", topic=topic, lights=changed)

    def _summarise(self) -> None:
        """Every SUMMARY_WINDOW: one journal row per source that sent more than the room acted on."""
        self._loop.call_later(SUMMARY_WINDOW, self._summarise)
        for key, received, acted in self._intake.summaries():
            if isinstance(key, tuple) and key[0] == "commands":
                self._emit("mqtt_flood", topic=key[1], command=key[2], received=received, acted_on=acted,
                           window_s=SUMMARY_WINDOW)
        for light_id, budget in self._availability_rows.items():
            if budget.passed_over:
                self._emit("device_flapping", light=light_id, changes=budget.passed_over,
                           window_s=SUMMARY_WINDOW)
                budget.passed_over = 0
