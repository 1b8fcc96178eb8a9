"""Calm made ahead (core/prepared.py) sends exactly what calm worked out at the press sends, for every light.

Two rooms alike, each with its core loop on a test clock of its own, are driven by the same requests from every
source: device reports of any state (on, off, white, colour, never heard from), the panel's and an automation's
sliders and presets, emergency and its refusals, sessions, previews, calm's definition edited, and time passing.
One room keeps its plans; the other forgets them before every request, so each of its presses works everything
out at the press as the room did before plans. What each room hands its MQTT link (topic, payload, QoS, retain,
and the moment on its clock), and each request's answer or refusal, must be the same.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from room_controller.config import LightScene, Preset, load_room
from room_controller.core.loop import Loop
from room_controller.core.presets import EmergencyOn
from room_controller.core.room import Room
from room_controller.errors import Refused
from room_controller.infrastructure.clock import ManualClock
from room_controller.journal.store import Journal
from room_controller.lighting.decode import Report
from room_controller.lighting.state import LightChange, MqttMessage
from room_controller.session.profiles import load_profiles
from tests.broker import MARK, Capture
from tests.conftest import ROOT
from tests.rooms import write_room
from tests.test_room_wire import ZIGBEE, make_room  # noqa: F401 - make_room is a fixture

KINDS = [   # one of each light type the room drives, as a room file names them
    {"profile": "zigbee2mqtt", "device": "z2m"},
    {"profile": "zigbee2mqtt", "device": "ikea", "quirks": {"fade_one_property": True, "color_fade_max": 1.0}},
    {"profile": "zigbee2mqtt", "device": "hue", "quirks": {"fade_one_property": False}},
    {"profile": "tasmota", "device": "tas"},
    {"profile": "tasmota-ct", "device": "tasct"},
    {"profile": "tasmota-rgb", "device": "tasrgb"},
    {"profile": "tasmota-rgbw", "device": "tasrgbw"},
    {"profile": "tasmota-dimmer", "device": "tasdim"},
    {"profile": "tasmota-split-ct", "device": "tassplit"},
    {"profile": "wled", "device": "wled"},
    {"profile": "wled", "device": "wled2", "capabilities": {"segments": 2}},
    {"profile": "shelly-rgbw2", "device": "rgbw2"},
    {"profile": "shelly-gen2", "device": "dim"},
    {"profile": "shelly-gen2-rgbw", "device": "g2rgbw"},
    {"profile": "homeassistant-json", "device": "ha"},
    {"profile": "esphome", "device": "esp"},
    {"profile": "esphome", "device": "esprgbww", "capabilities": {"color_modes": ["rgbww"]}},
    {"profile": "template-per-topic", "device": "odd"},
]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
AUTOMATED = "automation"   # stands for the command topic's name, filled in per room


class _Broker:
    host, port = "127.0.0.1", 1883   # never connected: what the core hands the link is captured before it


class OneRoom:
    """A room on its own test clock; `sent`: what its core handed the MQTT link, and when."""

    def __init__(self, folder: Path, lights: list[dict], plans: bool) -> None:
        folder.mkdir()
        config, catalogue = load_room(write_room(folder, _Broker, "prepared", lights, **PLACES))
        self.plans = plans
        self.clock = ManualClock()
        self.sent: list[tuple[float, str, str, int, bool]] = []
        self.loop = Loop(self.clock, after_batch=lambda: self.room.after_batch())
        self.journal = Journal(config.data_dir)
        self.room = Room(config, catalogue, self.loop, self._capture, self.journal, load_profiles(config))
        self.room.mqtt_connected = True
        self.loop.start()
        self.loop.settle()   # its start-up work done (the first state, the first plans) before anything is asked

    def _capture(self, message: MqttMessage) -> bool:
        self.sent.append((self.clock.monotonic(), message.topic, message.payload, message.qos, message.retain))
        return True

    def call(self, fn) -> object:
        """`fn(room)` on the core loop: its answer, or the kind of its refusal."""
        def run():
            if not self.plans:   # the room as it was before plans: nothing made ahead
                prepared = self.room.layers.prepared
                prepared.plans.clear()
                prepared.scene = None
            return fn(self.room)
        try:
            return self.loop.call(run)
        except Refused as exc:
            return type(exc).__name__

    def close(self) -> None:
        self.loop.stop()
        self.journal.close()


class Rooms:
    """The room with plans and the room without, driven alike."""

    def __init__(self, lights: list[dict]) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.with_plans = OneRoom(Path(self.tmp.name) / "ahead", lights, plans=True)
        self.without = OneRoom(Path(self.tmp.name) / "at-press", lights, plans=False)

    def call(self, fn) -> tuple[object, object]:
        return self.with_plans.call(fn), self.without.call(fn)

    def advance(self, seconds: float) -> None:
        self.with_plans.clock.advance(seconds)
        self.without.clock.advance(seconds)

    def close(self) -> None:
        self.with_plans.close()
        self.without.close()
        self.tmp.cleanup()


def lights_of(kinds: list[int]) -> list[dict]:
    return [dict(KINDS[k], id=f"l{n}", device=f"{KINDS[k]['device']}{n}") for n, k in enumerate(kinds)]


def report(light_id: str, state: dict):
    return lambda room: room.inbox.device_report(light_id, Report(**state))


def press(name: str, source: str | None = None):
    def act(room):
        if source is None:
            return room.presets.activate(name)
        return room.presets.command(name, room.inbox.command_topic)
    return act


STATES = st.one_of(
    st.fixed_dictionaries({"on": st.just(False)}),
    st.fixed_dictionaries({"on": st.booleans(), "brightness": st.sampled_from([0.0, 1.0, 14.9, 15.0, 40.0, 100.0])}),
    st.fixed_dictionaries({"on": st.just(True), "brightness": st.sampled_from([15.0, 60.0]),
                           "kelvin": st.sampled_from([2000.0, 2200.0, 4000.0, 6500.0])}),
    st.fixed_dictionaries({"on": st.just(True), "brightness": st.sampled_from([15.0, 80.0]),
                           "rgb": st.sampled_from([(255, 0, 0), (255, 150, 47), (0, 0, 255)])}),
    st.fixed_dictionaries({"online": st.booleans()}),
)
CHANGES = st.sampled_from([LightChange(brightness=60, kelvin=3000), LightChange(brightness=0),
                           LightChange(rgb=(0, 0, 255)), LightChange(brightness=15, kelvin=2200),
                           LightChange(on=True)])
CALM = st.builds(lambda b, colour, t: Preset(label="Calm", lights=LightScene(brightness=b, transition=t, **colour)),
                 st.sampled_from([5, 15, 40]),
                 st.sampled_from([{"kelvin": 2200}, {"kelvin": 2700}, {"color": "#FF7828"}, {}]),
                 st.sampled_from([0.0, 0.5, 3.0, 20.0]))


class CalmAheadAndAtThePress(RuleBasedStateMachine):
    @initialize(kinds=st.lists(st.integers(0, len(KINDS) - 1), min_size=1, max_size=5), calm=st.none() | CALM)
    def build(self, kinds, calm):
        self.rooms = Rooms(lights_of(kinds))
        self.ids = [f"l{n}" for n in range(len(kinds))]
        if calm is not None:
            self.calm_edited(calm)

    def both(self, fn) -> None:
        ahead, at_press = self.rooms.call(fn)
        assert ahead == at_press

    @rule(which=st.integers(0, 4), state=STATES)
    def device_reports(self, which, state):
        self.both(report(self.ids[which % len(self.ids)], state))

    @rule(which=st.integers(0, 4), state=STATES)
    def device_reports_as_calm_is_pressed(self, which, state):
        """The light changes after its plan was made and before the press: in the press's own piece of work."""
        def act(room):
            report(self.ids[which % len(self.ids)], state)(room)
            return press("calm")(room)
        self.both(act)

    @rule(change=CHANGES, transition=st.sampled_from([0.0, 1.0, 10.0]), alone=st.booleans(), panel=st.booleans())
    def sliders(self, change, transition, alone, panel):
        ids = self.ids[:1] if alone else None
        self.both(lambda room: room.layers.adjust_lights(ids, change, transition,
                                                        *(() if panel else (room.inbox.command_topic,))))

    @rule(name=st.sampled_from(["calm", "calm", "emergency", "check-in"]), panel=st.booleans())
    def preset(self, name, panel):
        self.both(press(name, None if panel else AUTOMATED))

    @rule(panel=st.booleans())
    def release(self, panel):
        self.both(lambda room: room.presets.release() if panel else room.presets.command(None, room.inbox.command_topic))

    @rule()
    def follow_phase(self):
        self.both(lambda room: room.layers.follow_phase())

    @rule(action=st.sampled_from(["start", "next"]))
    def session(self, action):
        self.both(lambda room: room.session.start("ketamine-1h") if action == "start" else room.session.next())

    @rule(brightness=st.sampled_from([2, 40]))
    def preview(self, brightness):
        self.both(lambda room: room.layers.preview_scene(LightScene(brightness=brightness, kelvin=3000, transition=1)))

    @rule()
    def preview_ends(self):
        self.both(lambda room: room.layers.end_preview())

    @rule(calm=CALM)
    def calm_edited(self, calm):
        self.both(lambda room: room.presets.replace({**room.config.presets, "calm": calm}, "calm"))

    @rule(seconds=st.sampled_from([0.0, 0.05, 0.3, 1.0, 4.0, 30.0]))
    def time_passes(self, seconds):
        self.rooms.advance(seconds)

    @invariant()
    def the_same_on_the_wire(self):
        if hasattr(self, "rooms"):
            assert self.rooms.with_plans.sent == self.rooms.without.sent

    def teardown(self):
        if hasattr(self, "rooms"):
            try:
                self.rooms.advance(3600)   # every fade's later steps and every held command, too
                assert self.rooms.with_plans.sent == self.rooms.without.sent
            finally:
                self.rooms.close()


CalmAheadAndAtThePress.TestCase.settings = settings(
    max_examples=int(os.environ.get("ROOM_FUZZ_EXAMPLES", "40")), stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestCalmAheadAndAtThePress = pytest.mark.slow(CalmAheadAndAtThePress.TestCase)


# -- the plans are taken -----------------------------------------------------------------------------------------

@pytest.fixture
def rooms():
    made = Rooms(lights_of(list(range(len(KINDS)))))   # every light type
    made.call(lambda room: room.layers.adjust_lights(None, LightChange(brightness=40, kelvin=3000), 0.0))
    made.advance(10)
    yield made
    made.close()


def taken(room: OneRoom) -> tuple[int, int]:
    prepared = room.room.layers.prepared
    return prepared.taken, prepared.missed


@pytest.mark.slow
def test_a_settled_room_presses_calm_from_its_plans_alone(rooms):
    before = taken(rooms.with_plans)
    sent = len(rooms.with_plans.sent)
    rooms.call(press("calm"))
    assert taken(rooms.with_plans) == (before[0] + len(KINDS), before[1])
    assert rooms.with_plans.sent[sent:] == rooms.without.sent[sent:]
    assert {m[1] for m in rooms.with_plans.sent[sent:]} >= {"zigbee2mqtt/z2m0/set", "cmnd/tas3/Backlog"}


@pytest.mark.slow
def test_a_light_that_changed_after_its_plan_is_worked_out_at_the_press(rooms):
    before = taken(rooms.with_plans)
    sent = len(rooms.with_plans.sent)
    rooms.call(lambda room: (report("l0", {"on": True, "brightness": 80.0, "rgb": (255, 0, 0)})(room),
                             press("calm")(room)))
    assert taken(rooms.with_plans) == (before[0] + len(KINDS) - 1, before[1] + 1)
    assert rooms.with_plans.sent[sent:] == rooms.without.sent[sent:]
    rooms.advance(60)
    assert rooms.with_plans.sent == rooms.without.sent


@pytest.mark.slow
def test_calm_is_refused_under_emergency_and_planned_again_after_its_release(rooms):
    rooms.call(press("emergency"))
    rooms.advance(2)
    sent = len(rooms.with_plans.sent)
    assert rooms.call(press("calm")) == (EmergencyOn.__name__, EmergencyOn.__name__)
    assert rooms.with_plans.sent[sent:] == []
    rooms.call(lambda room: room.presets.release())
    rooms.advance(10)   # the release's fades have ended and the plans follow
    before = taken(rooms.with_plans)
    rooms.call(press("calm"))
    assert taken(rooms.with_plans)[0] == before[0] + len(KINDS)
    assert rooms.with_plans.sent == rooms.without.sent


@pytest.mark.slow
def test_an_edited_calm_is_planned_anew(rooms):
    calm = Preset(label="Calm", lights=LightScene(brightness=5, color="#FF7828", transition=20))
    rooms.call(lambda room: room.presets.replace({**room.config.presets, "calm": calm}, "calm"))
    rooms.advance(1)
    before = taken(rooms.with_plans)
    sent = len(rooms.with_plans.sent)
    rooms.call(press("calm"))
    assert taken(rooms.with_plans)[0] == before[0] + len(KINDS)
    assert rooms.with_plans.sent[sent:] == rooms.without.sent[sent:]
    assert '"transition":20' in next(m[2] for m in rooms.with_plans.sent[sent:] if m[1] == "zigbee2mqtt/hue2/set")


def test_a_light_mid_fade_gets_the_first_step_of_where_it_is_at_the_press():
    """A WLED strip fades natively in chunks that follow the eye (linear light): a 20 s calm starts with a
    chunk whose end depends on where the strip is. Planned during a fade and pressed later in it, the plan's
    first chunk is not taken."""
    rooms = Rooms(lights_of([9]))
    try:
        calm = Preset(label="Calm", lights=LightScene(brightness=5, kelvin=2200, transition=20))
        rooms.call(lambda room: room.presets.replace({**room.config.presets, "calm": calm}, "calm"))
        rooms.call(lambda room: room.layers.adjust_lights(None, LightChange(brightness=20, kelvin=3000), 0.0))
        rooms.advance(2)
        rooms.call(lambda room: room.layers.adjust_lights(None, LightChange(brightness=90), 60.0))
        rooms.advance(11)   # planned at the start of the fade's third chunk, 10 s in
        sent = len(rooms.with_plans.sent)
        rooms.call(press("calm"))
        assert taken(rooms.with_plans)[0] >= 1
        assert rooms.with_plans.sent[sent:] == rooms.without.sent[sent:] != []
    finally:
        rooms.close()


def test_a_press_during_a_long_fade_takes_the_plans_of_lights_that_fade_in_one_command():
    """A session's lights spend most of it in long fades. Calm's 3 s is one native command from wherever such
    a light is (fades.from_anywhere), so the plan made minutes before the press still holds at the press,
    though the light has moved since; a light whose plan depends on where it is (software steps, IKEA) does not
    take it."""
    one_command = {"l0", "l1", "l2", "l3", "l4", "l5"}   # Hue, Tasmota, WLED, Shelly Gen2, HA, ESPHome
    rooms = Rooms(lights_of([2, 3, 9, 12, 14, 15, 1, 17]))
    try:
        rooms.call(lambda room: room.layers.adjust_lights(None, LightChange(brightness=20, kelvin=3000), 0.0))
        rooms.advance(2)
        rooms.call(lambda room: room.layers.adjust_lights(None, LightChange(brightness=90, kelvin=4000), 3600.0))
        rooms.advance(600)   # ten minutes into the hour's fade
        layers = rooms.with_plans.room.layers
        holds = {light_id for light_id, plan in layers.prepared.plans.items()
                 if plan.ready is not None and plan.ready.holds_from(layers.lights[light_id].position())}
        assert holds == one_command
        sent = len(rooms.with_plans.sent)
        rooms.call(press("calm"))
        assert rooms.with_plans.sent[sent:] == rooms.without.sent[sent:] != []
    finally:
        rooms.close()


def test_a_report_of_a_light_never_told_before_the_press_gives_calm_its_colour():
    """Calm that sets only a level keeps a light's colour: the colour it has just reported, though its plan was
    made before the report came."""
    rooms = Rooms(lights_of([2, 3]))
    try:
        calm = Preset(label="Calm", lights=LightScene(brightness=15, transition=3))
        rooms.call(lambda room: room.presets.replace({**room.config.presets, "calm": calm}, "calm"))
        rooms.advance(1)
        sent = len(rooms.with_plans.sent)
        rooms.call(lambda room: (report("l0", {"on": True, "brightness": 60.0, "rgb": (0, 0, 255)})(room),
                                 press("calm")(room)))
        assert rooms.with_plans.sent[sent:] == rooms.without.sent[sent:]
        assert '"color":{"x":0.15,"y":0.06}' in next(m[2] for m in rooms.with_plans.sent[sent:]
                                                          if m[1] == "zigbee2mqtt/hue0/set")
    finally:
        rooms.close()


def test_calm_from_its_plan_reaches_the_bulb_exactly(make_room, broker):
    """On the real broker: the press takes the bulb's plan and the bulb hears calm in its own numbers."""
    clock = ManualClock()
    app = make_room([dict(ZIGBEE[0], quirks={"fade_one_property": False})], clock=clock)   # a Hue bulb
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", MARK)
    app.loop.call(app.room.layers.adjust_lights, None, LightChange(brightness=40, kelvin=3000), 0.0)
    clock.advance(5)
    assert [m.payload for m in cap.sent_until_now(app)] == [
        '{"state":"ON","brightness":102,"color_temp":333,"transition":0}']
    prepared = app.room.layers.prepared
    before = (prepared.taken, prepared.missed)
    app.loop.call(app.room.presets.activate, "calm")
    assert cap.next().payload == '{"state":"ON","brightness":38,"color_temp":455,"transition":3}'
    assert (prepared.taken, prepared.missed) == (before[0] + 1, before[1])
    cap.close()
