"""What arrives from the broker, routed to the part of the room that acts on it.

paho's network thread calls `on_mqtt_message`: the payload is decoded there (pure work, no room state), and
the latest of each source is handed to the core through the intake, which keeps a flood from any one source
from reaching the core (core/intake.py). On the core loop the inbox then runs the commands, merges device
reports (availability, and a device back again is put right), and takes in what a bridge says its bulbs are.
A bad payload is logged, counted per topic, never acted on.

A flood repeats itself: a stuck remote sends the same bytes thousands of times a second, a flapping lamp
two payloads in turn. What each topic's last two payloads decoded to is kept (`Recent`), so a repeat costs
paho's thread a comparison of bytes, not a JSON parse, and the interpreter stays free for calm.
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
    from room_controller.core.room import Room

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
    def __init__(self, room: Room) -> None:
        self.room = room
        self.command_topic = f"{room.config.topic_prefix}/command"
        self._by_topic: dict[str, list[str]] = {}   # a device topic: the lights that report on it
        for light in room.lights.values():
            for topic in topics(light.device):
                self._by_topic.setdefault(topic, []).append(light.id)
        self._bridge_topics = bridge.topics(light.device for light in room.lights.values())
        self._bad_payloads: dict[str, int] = {}
        self._bad_payload_lines: dict[str, Budget] = {}
        self._recent = Recent()
        self._availability_rows: dict[str, Budget] = {}
        self._first_learned: dict[str, bridge.Learned] = {}   # per light: what its bridge said first since the start
        room.loop.call_later(SUMMARY_WINDOW, self._summarise)

    @property
    def subscriptions(self) -> list[str]:
        optional = (self.room.discovery.status_topic, self.room.vitals.pulse_topic)
        extra = {b.topic for b in self.room.config.buttons} | {t for t in optional if t is not None} \
            | self._bridge_topics
        return sorted(self._by_topic) + [self.command_topic] + sorted(extra - set(self._by_topic))

    # -- paho's network thread -----------------------------------------------------------------------------------

    def on_mqtt_message(self, topic: str, payload: bytes, retained: bool) -> None:
        room = self.room
        if topic == self.command_topic:
            if not retained:
                self._offer_commands(topic, self._parse(topic, payload, lambda: [parse_command(payload)]))
            return
        if topic == room.vitals.pulse_topic:
            room.vitals.offer_pulse(payload, lambda message: self._bad_payload(topic, message))
            return
        if topic == room.discovery.status_topic:
            if payload == b"online":
                room.intake.offer(("discovery",), None, lambda _: room.announce_discovery(), interval=DISCOVERY_PACE)
            return
        if topic in self._bridge_topics:
            try:
                learned = bridge.parse_devices(payload)
            except bridge.BridgeError as exc:
                self._bad_payload(topic, str(exc))
                return
            room.intake.offer(("bridge", topic), learned, lambda found: self.learn_devices(topic, found),
                              interval=DISCOVERY_PACE)
            return
        buttons = room.config.buttons
        if not retained and any(b.topic == topic for b in buttons):   # a retained press is old: never acted on
            self._offer_commands(topic, self._parse(topic, payload, lambda: pressed(buttons, topic, payload),
                                                    basis=buttons))
        for light_id in self._by_topic.get(topic, ()):
            device = room.lights[light_id].device
            report = self._recent.decoded((light_id, topic), payload, device.profile,
                                          functools.partial(decode, device, topic, payload))
            if isinstance(report, DecodeError):
                self._bad_payload(topic, str(report))
            elif report is not None:
                for problem in report.problems:
                    self._bad_payload(topic, problem)
                room.intake.offer(("report", light_id), report, functools.partial(self.device_report, light_id),
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
            self.room.intake.offer(("commands", topic, command.kind), command, lambda c: self._run(c, topic),
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
            command.run(self.room, topic)   # whose it is decides for presets and lights (core/sources.py)
        except Exception as exc:   # noqa: BLE001 - a refused command is logged; the room carries on
            log.warning("command %s on %s refused: %s", command, topic, exc)

    def device_report(self, light_id: str, report: Report) -> None:
        room = self.room
        light = room.lights[light_id]
        was_online = light.online
        changed = light.apply_report(report)
        back = report.returned and light.online   # offline and back again while the core was busy
        room.touch()
        if not changed and not back:
            return
        journaled = self._availability_rows.setdefault(
            light_id, Budget(AVAILABILITY_ROWS, SUMMARY_WINDOW)).take(room.clock.monotonic())
        if light.online is False:
            room.problems[f"light:{light_id}"] = f"{room.light_configs[light_id].label} is offline"
            if journaled:
                room.emit("device_offline", light=light_id)
        else:
            room.problems.pop(f"light:{light_id}", None)
            if journaled:
                room.emit("device_online", light=light_id)
            if was_online is False or report.online or back:
                profile = light.device.profile
                light.send_raw([MqttMessage(light.device.topic(m.topic), m.payload) for m in profile.setup])
                light.reassert(room.config.lighting.reassert_transition)

    def learn_devices(self, topic: str, learned: dict[str, bridge.Learned]) -> None:
        """A bridge said what its bulbs are: each of its lights takes colour, white range and quirks from that,
        under what the room file says. A light that changed is told its target again in its new terms. The
        panel's problems say when a light is set up on a device that is no light, and when a light's white
        range differs from the first the bridge gave since the start (a forged device list, or a new bulb)."""
        room = self.room
        changed = {}
        for light in room.lights.values():
            found = learned.get(light.device.device)
            if found is None or topic not in bridge.topics([light.device]):
                continue
            config = room.light_configs[light.id]
            for key, said in bridge.findings(light.device.configured, found, config.label,
                                             self._first_learned.setdefault(light.id, found)).items():
                if said is None:
                    room.problems.pop(f"{key}:{light.id}", None)
                else:
                    room.problems[f"{key}:{light.id}"] = said.in_language(room.config.room.language)
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
                light.reassert(room.config.lighting.reassert_transition)
        if changed:
            room.emit("devices_learned", topic=topic, lights=changed)

    def _summarise(self) -> None:
        """Every SUMMARY_WINDOW: one journal row per source that sent more than the room acted on."""
        self.room.loop.call_later(SUMMARY_WINDOW, self._summarise)
        for key, received, acted in self.room.intake.summaries():
            if isinstance(key, tuple) and key[0] == "commands":
                self.room.emit("mqtt_flood", topic=key[1], command=key[2], received=received, acted_on=acted,
                               window_s=SUMMARY_WINDOW)
        for light_id, budget in self._availability_rows.items():
            if budget.passed_over:
                self.room.emit("device_flapping", light=light_id, changes=budget.passed_over,
                               window_s=SUMMARY_WINDOW)
                budget.passed_over = 0
