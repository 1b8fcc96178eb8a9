"""The preset editor's API on a real broker: errors per field with nothing written, a save that rewrites
only the room file's `presets:` (comments elsewhere kept, the old file in backups/), the running room's
presets replaced at once while an active preset holds on as it began, and built-ins that cannot go."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from room_controller.app import App
from room_controller.config import load_room
from tests.broker import MARK, Capture
from tests.rooms import write_room

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp", "groups": ["overhead"]},
          {"id": "floor", "profile": "tasmota", "device": "floorlamp"}]
HEAD = "# Room 1, as the clinic wrote it\n"
PRESETS = """\
# the clinic's own presets
presets:
  check-in: {lights: {brightness: 40, kelvin: 2700, transition: 20s}}   # as built in
  reading: {label: Reading, lights: {brightness: 70, kelvin: 3000}}
# the bedside remote
buttons:
  - {topic: "zigbee2mqtt/Bedside remote", match: {action: single}, do: {preset: reading}}
"""


def room_file(tmp_path: Path, broker, room_id: str, **sections) -> Path:
    path = write_room(tmp_path, broker, room_id, LIGHTS, playlists_dir=str(ROOT / "playlists"),
                      profiles_dir=str(ROOT / "deploy" / "profiles"), **sections)
    path.write_text(HEAD + path.read_text() + PRESETS)
    return path


def start(config_file: Path | None, path: Path) -> App:
    config, catalogue = load_room(path)
    app = App(config, catalogue, audio=False, config_file=config_file).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    return app


@pytest.fixture
def served(tmp_path, broker, room_id):
    path = room_file(tmp_path, broker, room_id, homeassistant={"discovery": True})
    app = start(path, path)
    yield app, f"http://127.0.0.1:{app.web.port}/api", path
    app.stop()


def put(base: str, name: str, preset: dict) -> requests.Response:
    return requests.put(f"{base}/admin/presets/{name}", headers=BEARER, json={"preset": preset})


@pytest.mark.slow
def test_the_editor_lists_the_presets_and_refuses_mistakes_per_field_writing_nothing(served):
    app, base, path = served
    before = path.read_text()
    assert requests.get(f"{base}/admin/presets", headers=BEARER).json() == [
        {"name": "calm", "label": "Calm", "builtin": True, "active": False},
        {"name": "check-in", "label": "Check-in", "builtin": True, "active": False},
        {"name": "emergency", "label": "Emergency light", "builtin": True, "active": False},
        {"name": "reading", "label": "Reading", "builtin": False, "active": False}]
    assert requests.get(f"{base}/admin/presets/calm", headers=BEARER).json() == {
        "preset": {"label": "Calm", "lights": {"brightness": 15.0, "kelvin": 2200.0, "transition": "3s"},
                   "music": {"playlist": "calm.m3u", "volume": 35.0}}, "builtin": True, "active": False}
    assert requests.get(f"{base}/admin/room", headers=BEARER).json() == {
        "lights": [{"id": "ceiling", "name": "ceiling", "groups": ["overhead"]},
                   {"id": "floor", "name": "floor", "groups": []}],
        "groups": ["overhead"],
        "kinds": ["psilocybin", "mdma", "ketamine", "preparation", "integration", "other"]}
    r = put(base, "calm", {"lights": {"brightness": 140, "kelvin": 2200}})
    assert (r.status_code, r.json()["error"]["fields"]) == (422, [
        {"path": "lights.brightness", "message": "Input should be less than or equal to 100"}])
    r = put(base, "calm", {"lights": {"kelvin": 2200, "color": "#ff0000"}})
    assert r.json()["error"]["fields"] == [{"path": "lights", "message": "give kelvin (a white) or color, not both"}]
    r = put(base, "bad name", {"lights": {"brightness": 10, "per_light": {"cieling": {"on": False}},
                                          "per_group": {"wall": {"on": False}}},
                               "music": {"playlist": "nowhere.m3u", "volume": 30}})
    assert r.json()["error"]["fields"] == [
        {"path": "name", "message": "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.-]*$'"},
        {"path": "lights.per_light.cieling", "message": "no light has the id 'cieling'; did you mean 'ceiling'?"},
        {"path": "lights.per_group.wall", "message": "no light is in the group 'wall'; known: overhead"},
        {"path": "music.playlist",
         "message": f"cannot read the playlist {ROOT / 'playlists' / 'nowhere.m3u'}: there is no such file"}]
    assert path.read_text() == before
    assert not (tmp := path.parent / "backups").exists(), list(tmp.iterdir())


@pytest.mark.slow
def test_a_save_rewrites_only_the_presets_keeps_a_backup_and_the_room_uses_it_at_once(served, broker):
    app, base, path = served
    before = path.read_text()
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", f"homeassistant/select/therapy-room_{app.config.room.id}/#",
                  MARK)
    cap.sent_until_now(app)   # the list as the room started with it, retained or (just started) live
    calm = {"label": "Calm, red", "lights": {"brightness": 10, "color": "#ff3000", "transition": "0s",
                                             "per_light": {"floor": {"on": False}}}}
    r = put(base, "calm", calm)
    assert r.json() == {"preset": "calm", "deleted": False, "file": path.name, "active": False}
    text = path.read_text()
    assert text.startswith(before[:before.index("presets:")])          # all before presets: as it was
    assert text.endswith("# the bedside remote\nbuttons:\n" + before.split("buttons:\n")[1])
    assert text[text.index("presets:"):text.index("# the bedside")] == """\
presets:
  check-in:
    lights:
      brightness: 40
      kelvin: 2700
      transition: 20s
  reading:
    label: Reading
    lights:
      brightness: 70
      kelvin: 3000
  calm:
    label: Calm, red
    lights:
      brightness: 10.0
      color:
      - 255
      - 48
      - 0
      per_light:
        floor:
          'on': false
      transition: 0s
      kelvin: null
    music: null
"""
    backups = list((path.parent / "backups").iterdir())
    assert len(backups) == 1 and backups[0].read_text() == before
    reloaded, _ = load_room(path)
    assert reloaded.presets == app.room.config.presets
    assert reloaded.presets["calm"].model_dump(exclude_defaults=True) == {
        "label": "Calm, red", "lights": {"brightness": 10.0, "color": (255, 48, 0),
                                         "per_light": {"floor": {"on": False}}}}
    select = json.loads(cap.wait_for(lambda m: "/select/" in m.topic).payload)   # Home Assistant's list, sent again
    assert select["options"] == ["No preset", "calm", "check-in", "reading"]   # emergency: its own button

    assert requests.post(f"{base}/presets/calm", headers=BEARER).status_code == 200
    assert cap.wait_for(lambda m: m.topic.endswith("/set")).payload == \
        '{"state":"ON","brightness":25,"color":{"x":0.6224,"y":0.344},"transition":0}'
    cap.close()


@pytest.mark.slow
def test_an_active_preset_holds_on_as_it_began_until_released(served, broker):
    app, base, path = served
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set")
    assert requests.post(f"{base}/presets/reading", headers=BEARER).status_code == 200
    # at once, and again once a colour step would be over: a bulb its bridge has not described may be an IKEA bulb
    assert [m.payload for m in cap.take(2)] == ['{"state":"ON","brightness":178,"color_temp":333,"transition":0}'] * 2
    r = put(base, "reading", {"label": "Reading", "lights": {"brightness": 90, "kelvin": 4000, "transition": "0s"}})
    assert r.json()["active"] is True
    assert app.room.snapshot()["preset"] == "reading"
    assert requests.delete(f"{base}/presets/active", headers=BEARER).status_code == 200
    # nothing changed under the therapist: the lamp's next command is the release's, back to the room's idle
    assert cap.next().payload == '{"state":"ON","brightness":102,"transition":3.8}'   # its white after
    assert requests.post(f"{base}/presets/reading", headers=BEARER).status_code == 200
    assert cap.wait_for(lambda m: '"color_temp":250' in m.payload).payload == \
        '{"state":"ON","brightness":229,"color_temp":250,"transition":0}'
    cap.close()


@pytest.mark.slow
def test_a_new_preset_appears_and_goes_but_built_ins_and_those_a_button_needs_stay(served):
    app, base, path = served
    sunset = {"label": "Sunset", "lights": {"brightness": 30, "kelvin": 2000, "transition": "1m",
                                            "per_group": {"overhead": {"on": False}}}, "music": "stop"}
    assert put(base, "sunset", sunset).status_code == 200
    assert requests.get(f"{base}/admin/presets/sunset", headers=BEARER).json()["preset"] == {
        "label": "Sunset", "lights": {"brightness": 30.0, "kelvin": 2000.0, "transition": "1m",
                                      "per_group": {"overhead": {"on": False}}}, "music": "stop"}
    assert {"name": "sunset", "label": "Sunset"} in app.room.snapshot()["presets"]   # the panel's buttons
    r = requests.delete(f"{base}/admin/presets/sunset", headers=BEARER)
    assert r.json() == {"preset": "sunset", "deleted": True, "file": path.name, "active": False}
    assert "sunset" not in app.room.config.presets and "sunset" not in path.read_text()

    before = path.read_text()
    r = requests.delete(f"{base}/admin/presets/calm", headers=BEARER)
    assert (r.status_code, r.json()["error"]["message"]) == (409, "'calm' is built in: it can be changed but not "
                                                                   "deleted")
    r = requests.delete(f"{base}/admin/presets/reading", headers=BEARER)
    assert (r.status_code, r.json()["error"]["message"]) == (
        409, f"{path.name} would not load after this change, so it is unchanged: buttons[0].do.preset: there is no "
             "preset 'reading'; known: calm, check-in, emergency")
    assert path.read_text() == before and "reading" in app.room.config.presets
    assert not list(path.parent.glob(".*.tmp"))


def test_a_room_started_without_its_file_says_so(tmp_path, broker, room_id):
    app = start(None, room_file(tmp_path, broker, room_id))
    try:
        r = put(f"http://127.0.0.1:{app.web.port}/api", "calm", {"lights": {"brightness": 5}})
        assert (r.status_code, r.json()["error"]["message"]) == (
            409, "this room was started without a room file, so its presets cannot be saved")
    finally:
        app.stop()
