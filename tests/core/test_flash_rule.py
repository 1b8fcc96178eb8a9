"""The flash rule holds on the wire whatever asks for light: the HTTP API's calls, the MQTT command topic
(buttons, clinic systems, Home Assistant's select), presets, the profile editor's preview and session
phases, in any order and at any pace; and the room always ends where the last request said.

"On the wire" is every message the core hands to the MQTT link, read back in the device's own numbers
(Zigbee2MQTT's 0-254 brightness and seconds of transition; Home Assistant JSON the same) and timed on the
test clock.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from room_controller.config import LightScene, load_room
from room_controller.core.loop import Loop
from room_controller.core.room import Room
from room_controller.errors import Conflict
from room_controller.infrastructure.clock import ManualClock
from room_controller.journal.store import Journal
from room_controller.lighting import flash
from room_controller.lighting.encode import brightness_from_value
from room_controller.lighting.state import LightChange, LightState
from room_controller.session.profiles import load_profiles
from tests.conftest import ROOT
from tests.rooms import write_room

LIGHTS = [
    {"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"},
    {"id": "reading", "profile": "homeassistant-json", "device": "esp/reading"},
]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
TOPICS = {"zigbee2mqtt/Ceiling lamp/set": "ceiling", "esp/reading/set": "reading"}


class _Broker:
    host, port = "127.0.0.1", 1883   # never connected: the core's messages are captured before the link


def _level(room: Room, light_id: str, payload: str) -> tuple[float | None, float]:
    """A command as the device reads it: perceived brightness (0 when off; None for "ON" with no level)
    and its transition in seconds."""
    body = json.loads(payload)
    transition = float(body.get("transition", 0))
    if body.get("state") == "OFF" or body.get("brightness") == 0:
        return 0.0, transition
    if "brightness" not in body:
        return None, transition
    return brightness_from_value(room.lights[light_id].device.profile, body["brightness"]), transition


def test_unit_budget_allows_three_in_a_half_open_window():
    budget = flash.budget()
    for t in (0.0, 0.1, 0.2):
        assert budget.allowed_at(t) == t
        budget.record(t)
    assert budget.allowed_at(0.3) == pytest.approx(1.0)
    budget.record(1.0)
    assert budget.allowed_at(1.05) == pytest.approx(1.1)


@pytest.mark.parametrize("previous,new,transition,abrupt", [
    (LightState(brightness=50), LightState(brightness=59.9), 0.0, False),
    (LightState(brightness=50), LightState(brightness=60), 0.0, True),
    (LightState(brightness=50), LightState(on=False, brightness=50), 0.5, True),   # off is level 0
    (LightState(brightness=1), LightState(brightness=100), 1.0, False),           # a one-second fade
    (None, LightState(brightness=5), 0.0, True),                                  # unknown: counted
])
def test_unit_what_is_abrupt(previous, new, transition, abrupt):
    assert flash.is_abrupt(previous, new, transition) is abrupt


class RoomOnTestClock(RuleBasedStateMachine):
    """Requests from every source, on the test clock; the wire is checked after each one."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        tmp = Path(self.tmp.name)
        config, catalogue = load_room(write_room(tmp, _Broker, "prop", LIGHTS, **PLACES))
        self.clock = ManualClock()
        self.sent: list[tuple[float, str, float, float | None]] = []   # (time, light, transition, level)
        self.loop = Loop(self.clock, after_batch=lambda: self.room.after_batch())
        self.journal = Journal(config.data_dir)
        self.room = Room(config, catalogue, self.loop, self._capture, self.journal, load_profiles(config))
        self.loop.start()
        self.room.mqtt_connected = True
        self.last: tuple | None = None

    def _capture(self, message) -> bool:
        light_id = TOPICS.get(message.topic)
        if light_id is not None:
            level, transition = _level(self.room, light_id, message.payload)
            self.sent.append((self.clock.monotonic(), light_id, transition, level))
        return True

    def _call(self, fn, *args):
        if fn in (self.room.presets.activate, self.room.presets.release, self.room.layers.adjust_lights):
            self.room.intake.note(("http",))   # as the HTTP API does for every request about the lights
        try:
            return self.loop.call(fn, *args)
        except Conflict:
            return None

    # -- sources -----------------------------------------------------------------------------------------------

    @rule(brightness=st.sampled_from([0, 1, 15, 50, 100]), transition=st.sampled_from([0.0, 0.3, 2.0]),
          which=st.sampled_from([None, ["ceiling"], ["reading"]]))
    def api_adjust(self, brightness, transition, which):
        self._call(self.room.layers.adjust_lights, which, LightChange(brightness=brightness), transition)
        self.last = ("adjust", which, brightness)

    @rule(name=st.sampled_from(["calm", "emergency", "check-in"]))
    def api_preset(self, name):
        if self._call(self.room.presets.activate, name) is not None:   # refused while emergency holds
            self.last = ("preset", name)

    @rule()
    def api_release(self):
        self._call(self.room.presets.release)
        self.last = ("release",)

    @rule(payload=st.sampled_from([b'{"preset": "emergency"}', b'{"preset": "calm"}', b'{"preset": null}',
                                   b'{"session": "next"}', b"not json"]))
    def mqtt_command(self, payload):
        self.room.inbox.on_mqtt_message(self.room.inbox.command_topic, payload, False)
        self.loop.settle()
        self.last = ("mqtt", payload)

    @rule(brightness=st.sampled_from([2, 40, 100]))
    def editor_preview(self, brightness):
        self._call(self.room.layers.preview_scene, LightScene(brightness=brightness, transition=0))
        self.last = ("preview", brightness)

    @rule()
    def session_start(self):
        self._call(self.room.session.start, "ketamine-1h")
        self.last = ("session",)

    @rule(seconds=st.sampled_from([0.0, 0.05, 0.2, 0.4, 1.0, 30.0]))
    def time_passes(self, seconds):
        self.clock.advance(seconds)

    # -- the rule on the wire ----------------------------------------------------------------------------------

    @invariant()
    def never_more_than_three_abrupt_changes_a_second(self):
        previous: dict[str, float | None] = {}
        abrupt: dict[str, list[float]] = {}
        for at, light_id, transition, level in self.sent:
            before = previous.get(light_id)
            if transition < flash.ABRUPT_TRANSITION and (
                    before is None or level is None or abs(level - before) >= flash.ABRUPT_POINTS):
                times = abrupt.setdefault(light_id, [])
                times.append(at)
                in_window = [t for t in times if at - flash.WINDOW < t <= at]
                assert len(in_window) <= flash.BUDGET, (light_id, in_window, self.sent[-12:])
            previous[light_id] = level

    def _last_request_level(self, light_id: str) -> float | None:
        """The level the last request asked of this light, where it alone decides it."""
        if self.last is None:
            return None
        if self.last[0] == "adjust" and (self.last[1] is None or light_id in self.last[1]) and not self.room.layers.preview:
            return float(self.last[2])
        if self.last[0] == "preset":
            return self.room.config.presets[self.last[1]].lights.brightness
        return None

    def teardown(self):
        """The room ends where the last request said: nothing held back is lost."""
        try:
            self.clock.advance(3600)   # every fade and every held command has gone out
            for light in self.room.lights.values():
                last = [s for s in self.sent if s[1] == light.id]
                target = light.target
                if target is None:
                    continue
                assert last, light.id
                level = last[-1][3]
                assert level is not None and abs(level - flash.level(target)) < 1.0, (light.id, last[-3:], target)
                wanted = self._last_request_level(light.id)
                if wanted is not None:
                    assert flash.level(target) == pytest.approx(wanted, abs=0.5), (self.last, target)
        finally:
            self.loop.stop()
            self.journal.close()
            self.tmp.cleanup()


RoomOnTestClock.TestCase.settings = settings(
    max_examples=int(os.environ.get("ROOM_FUZZ_EXAMPLES", "25")), stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_the_flash_rule_holds_for_every_source = pytest.mark.slow(RoomOnTestClock.TestCase)
