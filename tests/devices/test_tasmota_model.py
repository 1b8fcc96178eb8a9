"""Tasmota: the room's presets and fades on every light type, through the firmware's own behaviour
(room_controller/demo/models/tasmota.py, read from xdrv_04_light.ino)."""

from __future__ import annotations

import json

import pytest

from room_controller import units
from room_controller.demo.models.tasmota import Tasmota, gamma_reverse_fast
from room_controller.lighting.decode import decode
from room_controller.lighting.profiles import Device
from room_controller.lighting.state import LightState
from tests.devices.fades import CATALOGUE, allowed_step, run

CALM = LightState(True, 15, 2200)
EMERGENCY = LightState(True, 100, 4000)
BRIGHT = LightState(True, 60, 4000)
VIOLET = LightState(True, 40, rgb=(128, 0, 255))
OFF = LightState(False, 0)

# profile, the model's light type and split, and what the light makes of a white: a colour temperature (ct),
# a colour (rgb), or a level of its own LEDs' white (level)
TYPES = {
    "tasmota": (dict(light_type=5), "ct"),
    "tasmota-ct": (dict(light_type=2), "ct"),
    "tasmota-rgb": (dict(light_type=3), "rgb"),
    "tasmota-rgbw": (dict(light_type=4), "rgb"),
    "tasmota-dimmer": (dict(light_type=1), "level"),
    "tasmota-split-rgb": (dict(light_type=5, split=True), "rgb"),
    "tasmota-split-ct": (dict(light_type=5, split=True), "ct"),
    "tasmota-split-white": (dict(light_type=4, split=True), "level"),
}
COLOURED = {"tasmota", "tasmota-rgb", "tasmota-rgbw", "tasmota-split-rgb"}
# lit by someone else, never told by the room (a split light's other half is another light of the room)
UNKNOWN = {"tasmota-split-rgb": b"HSBColor 270,80,90", "tasmota-split-ct": b"Dimmer2 70; CT 300",
           "tasmota-split-white": b"Dimmer2 70"}


def lamp(profile: str = "tasmota", **settings) -> Tasmota:
    return Tasmota("lamp", **{**TYPES[profile][0], **settings})


def shows(profile: str, shown, state: LightState) -> bool:
    """Does the light show `state`'s white or colour as its type can: no colour left under a white, no white
    of the wrong warmth, a colour where the type has one."""
    if state.rgb is not None and profile in COLOURED:
        return shown.rgb is not None and _near(shown.rgb, state.rgb)
    kind = TYPES[profile][1]
    if kind == "ct" and state.kelvin is not None:
        return shown.rgb is None and abs(shown.kelvin - state.kelvin) <= 60
    if kind == "rgb":
        return shown.rgb is not None and _near(shown.rgb, units.kelvin_to_rgb(state.kelvin))
    return shown.rgb is None


def _near(a, b, tolerance: int = 30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def answers(device: Tasmota, command: str, payload: str, until: float = 1.0) -> list[dict]:
    """Send one command at 0 s; every answer the device publishes until `until`."""
    got = device.receive(f"cmnd/lamp/{command}", payload.encode(), 0.0) + device.poll(until)
    return [json.loads(m.payload) for _, m in got]


# -- the model against the firmware ----------------------------------------------------------------------------

@pytest.mark.parametrize("light_type", [1, 3])
def test_white_and_ct_do_nothing_on_rgb_and_one_channel_lights(light_type):
    """CmndWhite acts on cold/warm, RGBW and RGBCW; CmndColorTemperature on cold/warm and RGBCW (the issue)."""
    device = Tasmota("lamp", light_type=light_type)
    assert [a.get("Command") for a in answers(device, "Backlog", "White 100; CT 250")] == ["Error", "Error"]
    assert not device.shown(1.0).on


def test_ct_does_nothing_on_rgbw_but_white_does():
    device = Tasmota("lamp", light_type=4)
    assert [a.get("Command") for a in answers(device, "Backlog", "White 30; CT 250")] == [None, "Error"]
    assert device.shown(1.0).level == pytest.approx(30, abs=0.5)


@pytest.mark.parametrize(("light_type", "keys"), [
    (1, {"POWER", "Dimmer"}),
    (2, {"POWER", "Dimmer", "Color", "White", "CT", "Channel"}),
    (3, {"POWER", "Dimmer", "Color", "HSBColor", "Channel"}),
    (4, {"POWER", "Dimmer", "Color", "HSBColor", "White", "Channel"}),
    (5, {"POWER", "Dimmer", "Color", "HSBColor", "White", "CT", "Channel"}),
])
def test_each_type_reports_what_response_light_state_prints(light_type, keys):
    device = Tasmota("lamp", light_type=light_type)
    report = answers(device, "State", "")[0]
    assert set(report) == keys
    if "Color" in report:
        assert len(report["Color"]) == 2 * light_type


def test_split_lights_report_two_powers_and_dimmers_the_room_reads():
    device = Tasmota("lamp", light_type=5, split=True)
    report = answers(device, "Backlog", "HSBColor 0,100,40; White 20")[-1]
    assert {k: report[k] for k in ("POWER1", "Dimmer1", "POWER2", "Dimmer2")} == {
        "POWER1": "ON", "Dimmer1": 40, "POWER2": "ON", "Dimmer2": 20}
    payload = json.dumps(report).encode()
    rgb_half = decode(Device("rgb", "lamp", CATALOGUE.profiles["tasmota-split-rgb"], "r"), "stat/lamp/RESULT", payload)
    white_half = decode(Device("w", "lamp", CATALOGUE.profiles["tasmota-split-ct"], "r"), "stat/lamp/RESULT", payload)
    assert (rgb_half.on, round(rgb_half.brightness), rgb_half.rgb) == (True, 40, (255, 0, 0))
    assert (white_half.on, round(white_half.brightness), white_half.rgb) == (True, 20, None)


def test_color_sets_a_white_in_one_command_with_the_level_and_temperature():
    """CmndSupportColor: `Color 0,0,0,c,w` is white at c + w, its colour temperature w / (c + w)."""
    device = Tasmota("lamp")
    report = answers(device, "Color", "0,0,0,184,71", 0.0)[-1]
    assert (report["POWER"], report["Dimmer"], report["White"], report["CT"]) == ("ON", 100, 100, 250)
    assert device.shown(0.1).kelvin == pytest.approx(4000, abs=20)


def test_dimmer_from_off_jumps_but_channel_fades():
    """CmndDimmer's forced second update (Light.update, 3068) runs without the one-shot; CmndChannel has none."""
    jumped, faded = Tasmota("lamp", light_type=1), Tasmota("lamp", light_type=1)
    jumped.receive("cmnd/lamp/Backlog", b"Speed2 6; Dimmer 40", 0.0)
    faded.receive("cmnd/lamp/Backlog", b"Speed2 6; Channel1 40", 0.0)
    assert jumped.shown(0.5).level == pytest.approx(40, abs=0.5)
    assert faded.shown(0.5).level < 30 and faded.shown(3.0).level == pytest.approx(40, abs=0.5)


def test_the_first_second_of_a_fade_runs_ahead_through_the_fast_gamma_table():
    assert [gamma_reverse_fast(v) for v in (0, 96, 192, 384, 576, 1023, 5000)] == [0, 192, 384, 576, 768, 1023,
                                                                                   5000]


def test_reports_use_power1_on_a_multi_relay_device():
    device = Tasmota("lamp", power_key="POWER1")
    report = answers(device, "Backlog", "Speed2 0; White 20")[-1]
    assert (report["POWER1"], report["White"]) == ("ON", 20)


def test_the_old_payload_ended_early_as_issue_12_says():
    """The firmware behaviour the model holds, not our encoder: `Fade 1; Speed2 6; CT 455; Dimmer 15`."""
    device = lamp(setoption117=True, speed=1)
    device.receive("cmnd/lamp/Backlog", b"Dimmer 60; CT 250", 0.0)
    device.receive("cmnd/lamp/Backlog", b"Fade 1; Speed2 6; CT 455; Dimmer 15", 10.0)
    levels = [(t / 20, device.shown(10 + t / 20).level) for t in range(0, 80)]
    ended = next(t for t, level in levels if abs(level - 15) < 0.2)
    assert ended < 1.5 and device.settings["Fade"] is True


def test_white_then_ct_shows_the_old_warmth_at_full_for_400_ms():
    """Why the room sends a white in one command (issue 24, point 10): the old emergency payload."""
    device = lamp()
    device.receive("cmnd/lamp/Backlog", b"Speed2 0; White 15; Speed2 0; CT 455", 0.0)
    device.receive("cmnd/lamp/Backlog", b"Speed2 0; White 100; Speed2 0; CT 250", 5.0)
    wrong = [t / 100 for t in range(500, 600) if device.shown(t / 100).level > 50
             and device.shown(t / 100).kelvin < 3000]
    assert wrong and max(wrong) - min(wrong) >= 0.35


# -- the room's commands on every light type -------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("profile", TYPES)
@pytest.mark.parametrize("start", [BRIGHT, VIOLET, OFF, None], ids=["white", "colour", "off", "unknown"])
def test_calm_reaches_every_type_without_a_jump_or_a_colour_left(profile, start):
    device = lamp(profile)
    if start is None:
        device.receive("cmnd/lamp/Backlog", UNKNOWN.get(profile, b"Dimmer 70; HSBColor 270,80,90"), -5.0)
        device.poll(-1.0)
        device.refused.clear()
    result = run(profile, "lamp", device, start, CALM, 3)
    assert not device.refused
    assert 3 * 0.85 <= result.reached(15, 0.3) <= 3 * 1.15
    assert result.max_step() <= allowed_step(profile, 15)
    assert shows(profile, result.samples[-1][1], CALM), result.samples[-1][1]
    if start == OFF:    # no jump to the level, nothing above it
        assert result.max_step(after=0) <= allowed_step(profile, 15)
        assert result.highest() <= 15 + 0.3


@pytest.mark.slow
@pytest.mark.parametrize("profile", TYPES)
@pytest.mark.parametrize("start", [CALM, VIOLET, OFF, None], ids=["calm", "colour", "off", "unknown"])
def test_emergency_is_full_light_at_once_in_its_own_white(profile, start):
    device = lamp(profile, fade=True, speed=20)   # a stored fade must not slow it
    result = run(profile, "lamp", device, start, EMERGENCY, 0, sample=0.01, tail=0)
    assert not device.refused
    assert result.reached(100, 0.5) <= 0.25
    brighter = max(20, start.brightness + 5 if start is not None else 0)
    bright = [shown for t, shown in result.samples if shown.level > brighter]
    assert all(shows(profile, shown, EMERGENCY) for shown in bright) or profile == "tasmota-split-ct"


def test_the_split_white_half_shows_the_old_warmth_for_the_backlog_spacing_only():
    """`Color` would set the RGB half too, and `CT` first switches a half that is off on at its stored level:
    the split white half gets `White` then `CT`, so its old colour temperature shows for 400 ms."""
    device = lamp("tasmota-split-ct")
    result = run("tasmota-split-ct", "lamp", device, CALM, EMERGENCY, 0, sample=0.01, tail=0)
    wrong = [t for t, shown in result.samples if shown.level > 20 and not shows("tasmota-split-ct", shown, EMERGENCY)]
    assert max(wrong) - min(wrong) <= 0.4


@pytest.mark.parametrize("profile", TYPES)
def test_a_3_s_fade_takes_3_s_smoothly(profile):
    result = run(profile, "lamp", lamp(profile), BRIGHT, CALM, 3)
    assert 3 * 0.85 <= result.reached(15, 0.3) <= 3 * 1.15
    assert result.max_step() <= allowed_step(profile, 15)


@pytest.mark.slow
@pytest.mark.parametrize("profile", TYPES)
def test_a_30_min_fade_is_a_chain_that_joins_smoothly(profile):
    result = run(profile, "lamp", lamp(profile), LightState(True, 80, 3000), LightState(True, 10, 2200), 1800,
                 sample=0.5, tail=0.02)
    assert 1800 * 0.85 <= result.reached(10, 0.3) <= 1800 * 1.15
    assert result.max_step(after=1) <= allowed_step(profile, 10)
    assert shows(profile, result.samples[-1][1], LightState(True, 10, 2200))


@pytest.mark.parametrize("profile", TYPES)
def test_a_colour_scene_and_back_to_white(profile):
    device = lamp(profile)
    scene = run(profile, "lamp", device, CALM, VIOLET, 3)
    assert not device.refused
    assert scene.reached(40, 0.3) <= 3 * 1.15
    assert shows(profile, scene.samples[-1][1], VIOLET)
    back = run(profile, "lamp", device, None, CALM, 3)     # the room's light is new; the device is as the scene left it
    assert not device.refused
    assert shows(profile, back.samples[-1][1], CALM), back.samples[-1][1]
    assert back.samples[-1][1].level == pytest.approx(15, abs=0.3)


def test_the_split_halves_leave_each_other_alone():
    device = lamp("tasmota-split-rgb")
    run("tasmota-split-rgb", "lamp", device, OFF, VIOLET, 0)
    run("tasmota-split-ct", "lamp", device, None, CALM, 3)
    device.poll(100.0)
    report = [json.loads(m.payload) for _, m in device.receive("cmnd/lamp/State", b"", 100.0)][-1]
    assert (report["POWER1"], report["Dimmer1"], report["POWER2"], report["Dimmer2"], report["CT"]) == (
        "ON", 40, "ON", 15, 455)
    assert report["HSBColor"].startswith("270,")


def test_without_setoption117_long_fades_are_stairs():
    """Why the profile's setup message is needed: a fade's time is otherwise Speed x the distance."""
    device = lamp()
    result = run("tasmota", "lamp", device, LightState(True, 80, 3000), LightState(True, 10, 2200), 600,
                 sample=0.5, tail=0.02)
    device_without = lamp()
    device_without.receive = _dropping_setoption117(device_without.receive)
    stairs = run("tasmota", "lamp", device_without, LightState(True, 80, 3000), LightState(True, 10, 2200), 600,
                 sample=0.5, tail=0.02)
    assert result.max_step(after=1) < 0.2 <= stairs.max_step(after=1)


def _dropping_setoption117(receive):
    def without(topic, payload, at):
        return [] if topic.endswith("SetOption117") else receive(topic, payload, at)
    return without


@pytest.mark.parametrize("stored_dimmer", [50, 100])
@pytest.mark.parametrize("duration", [0, 3])
def test_turning_on_never_shows_the_stored_level(stored_dimmer, duration):
    result = run("tasmota", "lamp", lamp(dimmer=stored_dimmer, fade=True, speed=10), OFF, CALM, duration)
    assert result.highest() <= 15 + 0.3
    assert result.reached(15, 0.3) <= max(0.5, duration * 1.15)


def test_instant_is_instant_with_the_stored_fade_on():
    result = run("tasmota", "lamp", lamp(fade=True, speed=40), BRIGHT, EMERGENCY, 0)
    assert result.reached(100, 0.3) <= 0.3           # the Backlog's light command, at 200 ms


def test_turning_off_fades_and_leaves_the_stored_settings():
    device = lamp(fade=False, speed=3)
    result = run("tasmota", "lamp", device, CALM, OFF, 3)
    assert 3 * 0.85 <= result.reached(0, 0.01) <= 3 * 1.15
    assert result.max_step() <= 2
    assert (device.settings["Fade"], device.settings["Speed"]) == (False, 3)
    assert not any("Fade" in m.payload or "Speed " in m.payload for _, m in result.sent)
