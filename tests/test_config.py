"""Configuration: valid files load; every mistake names file, line and field, with a suggestion."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from room_controller.cli import main
from room_controller.config import load_room
from room_controller.files.yamlfile import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "room.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_room(path)
    return [str(p) for p in info.value.problems]


def test_the_example_config_is_valid():
    config, catalogue = load_room(ROOT / "deploy" / "room.example.yaml")
    assert config.room.id == "room-1"
    assert {"calm", "check-in", "emergency"} <= set(config.presets)
    assert config.presets["emergency"].lights.transition == 0
    assert config.presets["check-in"].lights.per_light["strip"].on is False
    assert config.web.pin.get_secret_value() == "2468"
    assert "2468" not in repr(config)  # secrets never print


def test_minimal_config_gets_builtin_presets_and_paths_relative_to_the_file(tmp_path):
    config, _ = load_room(write(tmp_path, "room: {id: r1}\n"))
    calm = config.presets["calm"]
    assert (calm.lights.brightness, calm.lights.kelvin, calm.lights.transition) == (15, 2200, 3)
    assert config.profiles_dir == tmp_path / "profiles"
    assert config.data_dir == tmp_path / "data"


def test_a_clinic_overrides_part_of_a_builtin_preset(tmp_path):
    config, _ = load_room(write(tmp_path, "room: {id: r1}\npresets:\n  calm: {lights: {brightness: 20}}\n"))
    assert config.presets["calm"].lights.brightness == 20
    assert config.presets["calm"].lights.kelvin == 2200


def test_typo_in_a_key_names_line_and_suggests(tmp_path):
    path = write(tmp_path, """\
        room: {id: r1}
        lights:
          - id: ceiling
            profile: zigbee2mqtt
            devise: Ceiling
        """)
    assert problems(path) == [f"{path}:5: lights[0].devise: unknown key 'devise'; did you mean 'device'?"]


def test_wrong_type_and_range(tmp_path):
    path = write(tmp_path, """\
        room: {id: r1}
        mqtt:
          port: lots
        audio:
          max_volume: 120
        """)
    out = problems(path)
    assert out[0].startswith(f"{path}:3: mqtt.port: ")
    assert out[1].startswith(f"{path}:5: audio.max_volume: ") and "less than or equal to 100" in out[1]


def test_unknown_device_profile_suggests_the_near_one(tmp_path):
    path = write(tmp_path, """\
        room: {id: r1}
        lights:
          - {id: a, profile: zigbee2mqt, device: A}
        """)
    assert problems(path) == [f"{path}:3: lights[0].profile: unknown device profile 'zigbee2mqt'; "
                              "did you mean 'zigbee2mqtt'?"]


def test_bad_duration_and_duplicate_key(tmp_path):
    path = write(tmp_path, """\
        room: {id: r1}
        presets:
          calm: {lights: {transition: soon}}
        """)
    assert "write it like 90s, 20m, 1h30m" in problems(path)[0]
    path = write(tmp_path, "room: {id: r1}\nroom: {id: r2}\n", "dup.yaml")
    assert problems(path) == [f"{path}:2: room: this key appears twice; keep one"]


def test_preset_naming_a_missing_light(tmp_path):
    path = write(tmp_path, """\
        room: {id: r1}
        lights:
          - {id: ceiling, profile: zigbee2mqtt, device: C}
        presets:
          calm:
            lights: {per_light: {cieling: {brightness: 5}}}
        """)
    assert problems(path) == [f"{path}:6: presets.calm.lights.per_light.cieling: no light has the id 'cieling'; "
                              "did you mean 'ceiling'?"]


def test_open_network_needs_pin_and_token(tmp_path):
    path = write(tmp_path, "room: {id: r1}\nweb: {host: 0.0.0.0}\n")
    assert "needs both a pin and an api_token" in problems(path)[0]


def test_yaml_syntax_error_has_its_line(tmp_path):
    path = write(tmp_path, "room: {id: r1}\nlights: [\n  {id: a\n")
    assert problems(path)[0].startswith(f"{path}:")
    assert "not valid YAML" in problems(path)[0]


def test_light_capability_override_is_validated(tmp_path):
    path = write(tmp_path, """\
        room: {id: r1}
        lights:
          - {id: a, profile: zigbee2mqtt, device: A, capabilities: {brightness: {max: -1}}}
        """)
    out = problems(path)
    assert out[0].startswith(f"{path}:3: lights[0].capabilities: ") and "greater than 0" in out[0]


@pytest.mark.slow
def test_check_command_prints_problems_and_exits_2(tmp_path, capsys):
    bad = write(tmp_path, "room: {id: r1}\nlights:\n  - {id: a, profile: nope, device: A}\n", "bad.yaml")
    good = tmp_path / "room.yaml"   # the example, with the folders it names where this checkout has them
    good.write_text((ROOT / "deploy" / "room.example.yaml").read_text()
                    .replace("/etc/room-controller/profiles", str(ROOT / "deploy" / "profiles"))
                    .replace("/var/lib/room-controller/playlists", str(ROOT / "playlists")))
    assert main(["check", str(good)]) == 0
    assert main(["check", str(good), str(bad)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == [f"{bad}:3: lights[0].profile: unknown device profile 'nope'; known: esphome, homeassistant-json, "
                        "shelly-gen2, shelly-gen2-rgbw, shelly-rgbw2, tasmota, tasmota-ct, tasmota-dimmer, tasmota-rgb, "
                        "tasmota-rgbw, tasmota-split-ct, tasmota-split-rgb, tasmota-split-white, template-per-topic, wled, "
                        "zigbee2mqtt",
                        f"{bad}:1: profiles_dir: no such folder: {tmp_path / 'profiles'}",
                        f"{bad}:1: playlists_dir: no such folder: {tmp_path / 'playlists'}"]


def test_check_knows_the_clinic_overviews_file(tmp_path, capsys):
    assert main(["check", str(ROOT / "deploy" / "clinic.example.yaml")]) == 0
    bad = write(tmp_path, "mqtt: {host: broker.clinic, port: 1883}\nweb: {host: 0.0.0.0, prot: 8090}\n")
    assert main(["check", str(bad)]) == 2
    assert capsys.readouterr().out.splitlines()[-1] == f"{bad}:2: web.prot: unknown key 'prot'; did you mean 'port'?"


@pytest.mark.slow
def test_check_validates_device_profiles_too(tmp_path):
    (tmp_path / "odd.yaml").write_text(textwrap.dedent("""\
        name: odd
        capabilities: {brightness: {max: 100}}
        command:
          schema: template
          messages:
            - {topic: "odd/{device}", payload: "{brightnes}"}
        """))
    result = subprocess.run([sys.executable, "-m", "room_controller", "check", str(tmp_path / "odd.yaml")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert f"{tmp_path / 'odd.yaml'}:6: command.messages[0]: unknown template variable(s) ['brightnes']" in result.stdout
    for path in sorted((ROOT / "device_profiles").glob("*.yaml")):
        assert main(["check", str(path)]) == 0
