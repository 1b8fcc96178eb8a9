"""Home Assistant MQTT discovery on a real broker: the exact retained config payloads (keys as Home
Assistant documents them for MQTT select, button and sensor), re-sent when Home Assistant comes online,
and removed cleanly — after a change of room id, and when discovery is turned off."""

from __future__ import annotations

import json

from room_controller import __version__
from room_controller.app import App
from tests.broker import Capture
from tests.rooms import load
from tests.test_room_wire import ZIGBEE, wait_until


def expected(room_id: str) -> dict[str, dict]:
    node = f"therapy-room_{room_id}"
    prefix = f"therapy-room/{room_id}"
    common = {
        "availability_topic": f"{prefix}/status", "payload_available": "online", "payload_not_available": "offline",
        "device": {"identifiers": [node], "name": "Test room", "manufacturer": "room-controller",
                   "model": "Therapy room controller", "sw_version": __version__},
    }
    return {
        f"homeassistant/select/{node}/preset/config": {
            "name": "Preset", "icon": "mdi:lightbulb-group", "command_topic": f"{prefix}/command",
            "command_template": '{% if value == "none" %}{"preset": null}{% else %}{"preset": {{ value | tojson }}}'
                                '{% endif %}',
            "options": ["none", "calm", "check-in", "emergency"], "state_topic": f"{prefix}/state",
            "value_template": "{{ value_json.preset or 'none' }}", "unique_id": f"{node}_preset", **common},
        f"homeassistant/button/{node}/calm/config": {
            "name": "Calm", "icon": "mdi:weather-night", "command_topic": f"{prefix}/command",
            "payload_press": '{"preset": "calm"}', "unique_id": f"{node}_calm", **common},
        f"homeassistant/button/{node}/release/config": {
            "name": "Release preset", "icon": "mdi:undo", "command_topic": f"{prefix}/command",
            "payload_press": '{"preset": null}', "unique_id": f"{node}_release", **common},
        f"homeassistant/sensor/{node}/phase/config": {
            "name": "Phase", "icon": "mdi:timeline-clock", "state_topic": f"{prefix}/state",
            "value_template": "{{ value_json.session.phase.name if value_json.session else 'No session' }}",
            "unique_id": f"{node}_phase", **common},
        f"homeassistant/sensor/{node}/session_time/config": {
            "name": "Session time", "state_topic": f"{prefix}/state", "device_class": "duration",
            "state_class": "measurement", "unit_of_measurement": "min",
            "value_template": "{{ (value_json.session.elapsed_s / 60) | round(0) | int if value_json.session "
                              "else 0 }}",
            "unique_id": f"{node}_session_time", **common},
    }


def run(tmp_path, broker, room_id, discovery: bool):
    config, catalogue = load(tmp_path, broker, room_id, ZIGBEE, homeassistant={"discovery": discovery})
    app = App(config, catalogue, web=False, audio=False).start()
    wait_until(lambda: app.room.mqtt_connected)
    app.loop.settle()
    return app


def configs(messages) -> dict[str, dict | str]:
    return {m.topic: json.loads(m.payload) if m.payload else "" for m in messages}


def test_discovery_payloads_are_exact_and_retained(tmp_path, own_broker, room_id):
    broker = own_broker   # discovery topics are not per room: a broker of this test's own
    app = run(tmp_path, broker, room_id, discovery=True)
    late = Capture(broker, "homeassistant/#")          # a Home Assistant that starts later reads them retained
    got = late.drain(0.5)
    assert {(m.qos, m.retain) for m in got} == {(1, True)}
    assert configs(got) == expected(room_id)
    # Home Assistant restarts and announces itself: the room sends its entities again
    late.publish("homeassistant/status", "online")
    again = late.drain(0.5)
    assert configs(m for m in again if m.topic != "homeassistant/status") == expected(room_id)
    # the select's command and the button's payload are the room's own commands
    late.publish(f"therapy-room/{room_id}/command", expected(room_id)[
        f"homeassistant/button/therapy-room_{room_id}/calm/config"]["payload_press"])
    wait_until(lambda: app.room.snapshot()["preset"] == "calm")
    app.stop()
    late.close()


def test_a_new_room_id_removes_the_old_entities_and_turning_off_removes_all(tmp_path, own_broker, room_id):
    broker = own_broker   # discovery topics are not per room: a broker of this test's own
    old_id, new_id = f"{room_id}-old", f"{room_id}-new"
    run(tmp_path, broker, old_id, discovery=True).stop()
    watch = Capture(broker, "homeassistant/+/+/+/config")
    assert set(configs(watch.drain(0.3))) == set(expected(old_id))
    app = run(tmp_path, broker, new_id, discovery=True)   # same data_dir: the room was renamed
    got = configs(watch.drain(0.5))
    assert got == {**{topic: "" for topic in expected(old_id)}, **expected(new_id)}
    app.stop()
    after = Capture(broker, "homeassistant/+/+/+/config")
    assert set(configs(after.drain(0.3))) == set(expected(new_id))   # the old ones are gone from the broker
    after.close()
    app = run(tmp_path, broker, new_id, discovery=False)
    assert configs(watch.drain(0.5)) == {topic: "" for topic in expected(new_id)}
    app.stop()
    empty = Capture(broker, "homeassistant/#")
    assert empty.drain(0.3) == []
    empty.close()
    watch.close()
