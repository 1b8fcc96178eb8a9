"""Physical buttons: a remote's MQTT message runs a preset or a session control; bad mappings are `check`
errors with their line; bad payloads are logged and ignored."""

from __future__ import annotations

import logging
import textwrap

import pytest

from room_controller.app import App
from room_controller.buttons import ButtonMapping, pressed
from room_controller.cli import main
from room_controller.commands import CommandError, PresetCommand, SessionCommand
from tests.broker import Capture
from tests.rooms import load
from tests.test_room_wire import ZIGBEE, wait_until

REMOTE = "zigbee2mqtt/Bedside remote"
BUTTONS = [
    {"topic": REMOTE, "match": {"action": "single"}, "do": {"preset": "calm"}},
    {"topic": REMOTE, "match": {"action": "double"}, "do": {"preset": None}},
    {"topic": "stat/wallbutton/RESULT", "match": {"Button1.Action": "HOLD"}, "do": {"session": "pause"}},
]


def test_matching_is_exact_and_reaches_into_nested_objects():
    mappings = [ButtonMapping.model_validate(b) for b in BUTTONS]
    assert pressed(mappings, REMOTE, b'{"action":"single","battery":90}') == [PresetCommand("calm")]
    assert pressed(mappings, REMOTE, b'{"action":"double"}') == [PresetCommand(None)]
    assert pressed(mappings, REMOTE, b'{"battery":90,"linkquality":120}') == []   # a report, not a press
    assert pressed(mappings, "stat/wallbutton/RESULT", b'{"Button1":{"Action":"HOLD"}}') == [SessionCommand("pause")]
    assert pressed(mappings, "somewhere/else", b"{}") == []
    with pytest.raises(CommandError, match="not JSON"):
        pressed(mappings, REMOTE, b"single")


def test_a_button_calms_the_room_and_releases_it(tmp_path, broker, room_id, caplog):
    config, catalogue = load(tmp_path, broker, room_id, ZIGBEE, buttons=BUTTONS)
    with App(config, catalogue, web=False, audio=False) as app:
        wait_until(lambda: app.room.mqtt_connected)
        remote = Capture(broker, "zigbee2mqtt/Ceiling lamp/set")
        remote.publish(REMOTE, '{"action":"single","battery":87}')
        seen = remote.next()   # a bulb its bridge has not described: the brightness first, its white next
        assert (seen.payload, seen.qos, seen.retain) == ('{"state":"ON","brightness":38,"transition":2}', 0, False)
        wait_until(lambda: app.room.snapshot()["preset"] == "calm")
        with caplog.at_level(logging.WARNING, logger="room_controller.core.inbox"):
            remote.publish(REMOTE, "not json")
            remote.publish(REMOTE, '{"action":"double"}')
            wait_until(lambda: app.room.snapshot()["preset"] is None)
        assert f"ignored a bad payload on {REMOTE} (1 so far): a button message that is not JSON: b'not json'" \
            in caplog.text
        remote.close()


def test_a_retained_press_is_not_acted_on(tmp_path, broker, room_id):
    topic = f"zigbee2mqtt/remote-{room_id}"
    old = Capture(broker, "nothing")
    old.publish(topic, '{"action":"single"}', retain=True)
    buttons = [{"topic": topic, "match": {"action": "single"}, "do": {"preset": "calm"}}]
    config, catalogue = load(tmp_path, broker, room_id, ZIGBEE, buttons=buttons)
    with App(config, catalogue, web=False, audio=False) as app:
        wait_until(lambda: app.room.mqtt_connected)
        app.loop.settle()
        assert app.room.snapshot()["preset"] is None
    old.publish(topic, "", retain=True)
    old.close()


def test_check_names_the_line_of_an_unknown_preset_and_a_bad_command(tmp_path, capsys):
    path = tmp_path / "room.yaml"
    path.write_text(textwrap.dedent("""\
        room: {id: room-1}
        buttons:
          - topic: zigbee2mqtt/Bedside remote
            match: {action: single}
            do: {preset: clam}
          - topic: zigbee2mqtt/Wall
            do: {session: dance}
        """))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "playlists").mkdir()
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().out.splitlines() == [   # both at once
        f"{path}:5: buttons[0].do.preset: there is no preset 'clam'; did you mean 'calm'?",
        f"{path}:7: buttons[1].do: unknown command {{'session': 'dance'}}; give one of {{preset: NAME}}, "
        "{preset: null}, {session: pause|resume|next|previous|undo|stop}, {extend: 15m}, {music: play|pause|next}, "
        "{lights: {...}}",
        f"{path}:1: presets.calm.music.playlist: cannot read the playlist {tmp_path / 'playlists' / 'calm.m3u'}: "
        "there is no such file"]
