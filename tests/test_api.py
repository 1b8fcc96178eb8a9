"""The HTTP API through the real WSGI server: auth, JSON errors, and presses that reach the broker."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from room_controller.app import App
from tests.broker import Capture
from tests.rooms import load

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp"},
          {"id": "floor", "profile": "tasmota", "device": "floorlamp"}]


@pytest.fixture
def served(tmp_path, broker, room_id):
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS)
    app = App(config, catalogue, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{app.web.port}"
    yield app, base
    app.stop()


def test_health_needs_no_auth(served):
    app, base = served
    r = requests.get(f"{base}/api/health")
    assert r.status_code == 200
    assert r.json()["mqtt"] == "connected"


@pytest.mark.slow
@pytest.mark.parametrize("method,path", [("GET", "/api/state"), ("POST", "/api/presets/calm"),
                                         ("DELETE", "/api/presets/active"), ("PATCH", "/api/lights")])
@pytest.mark.parametrize("header", [None, "Bearer wrong-token-000000000", "Basic abc", f"Bearer {TOKEN}x"])
def test_everything_else_needs_the_token(served, method, path, header):
    app, base = served
    headers = {"Authorization": header} if header else {}
    r = requests.request(method, f"{base}{path}", headers=headers, json={"brightness": 5})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert app.room.snapshot()["preset"] is None


@pytest.mark.slow
def test_calm_press_reaches_the_lights_and_the_state(served, broker):
    app, base = served
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", "cmnd/floorlamp/Backlog")
    r = requests.post(f"{base}/api/presets/calm", headers=AUTH)
    assert (r.status_code, r.json()) == (200, {"preset": "calm"})
    got = {m.topic: m.payload for m in cap.take(2)}
    assert got == {"zigbee2mqtt/Ceiling lamp/set": '{"state":"ON","brightness":38,"transition":2}',   # its white next
                   "cmnd/floorlamp/Backlog": "Speed2 6; Color 0,0,0,5,33"}
    state = requests.get(f"{base}/api/state", headers=AUTH).json()
    assert state["preset"] == "calm"
    assert [light["target"] for light in state["lights"]] == [{"on": True, "brightness": 15, "mode": "white", "kelvin": 2200}] * 2
    assert set(state) >= {"room", "session", "preset", "lights", "audio"}
    r = requests.delete(f"{base}/api/presets/active", headers=AUTH)
    assert (r.status_code, r.json()) == (200, {"preset": None})
    r = requests.delete(f"{base}/api/presets/active", headers=AUTH)
    assert r.status_code == 409 and "no preset is active" in r.json()["error"]["message"]
    cap.close()


def test_patch_lights_and_one_light(served, broker):
    app, base = served
    cap = Capture(broker, "zigbee2mqtt/Ceiling lamp/set", "cmnd/floorlamp/Backlog")
    r = requests.patch(f"{base}/api/lights/floor", headers=AUTH, json={"brightness": 30, "kelvin": 2700,
                                                                       "transition": "5s"})
    assert r.status_code == 200
    assert cap.next().payload == "Speed2 10; Color 0,0,0,28,48"   # 30 % at 370 mired, as cold and warm
    r = requests.patch(f"{base}/api/lights", headers=AUTH, json={"color": "#FF8000", "brightness": 20})
    assert r.status_code == 200
    assert {m.topic for m in cap.take(2)} == {"zigbee2mqtt/Ceiling lamp/set", "cmnd/floorlamp/Backlog"}
    cap.close()


@pytest.mark.parametrize("body,status,fragment", [
    ({"brightness": 120}, 422, "brightness: Input should be less than or equal to 100"),
    ({"kelvin": 1000}, 422, "kelvin: Input should be greater than or equal to 1800"),
    ({"brigthness": 20}, 422, "did you mean 'brightness'?"),
    ({}, 422, "give at least one of"),
    ({"brightness": 20, "transition": "3h"}, 422, "transition"),
    ({"kelvin": 2700, "color": "#FF0000"}, 422, "not both"),
    ({"color": "orange"}, 422, "#RRGGBB"),
])
@pytest.mark.slow
def test_bad_light_requests_are_refused_with_the_reason(served, body, status, fragment):
    app, base = served
    r = requests.patch(f"{base}/api/lights", headers=AUTH, json=body)
    assert r.status_code == status
    assert fragment in r.json()["error"]["message"]


def test_bad_requests_get_json_errors(served):
    app, base = served
    assert requests.post(f"{base}/api/presets/party", headers=AUTH).status_code == 404
    r = requests.patch(f"{base}/api/lights", headers={**AUTH, "Content-Type": "text/plain"}, data="brightness=5")
    assert r.status_code == 415
    r = requests.patch(f"{base}/api/lights", headers={**AUTH, "Content-Type": "application/json"}, data="{nope")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_json"
    r = requests.patch(f"{base}/api/lights/nosuch", headers=AUTH, json={"brightness": 5})
    assert r.status_code == 404 and "there is no light 'nosuch'" in r.json()["error"]["message"]
    r = requests.get(f"{base}/api/nothing", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = requests.put(f"{base}/api/state", headers=AUTH)
    assert r.status_code == 405
    r = requests.patch(f"{base}/api/lights", headers={**AUTH, "Content-Type": "application/json"}, data=b"x" * 100_000)
    assert r.status_code == 413


def test_openapi_describes_every_route(served):
    app, base = served
    spec = requests.get(f"{base}/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/health", "/api/state", "/api/presets/{name}", "/api/presets/active", "/api/lights",
            "/api/lights/{light_id}"} <= set(spec["paths"])
    assert spec["paths"]["/api/lights"]["patch"]["requestBody"]["content"]["application/json"]


def test_presses_are_answered_while_panels_read_the_state(served, broker):
    app, base = served
    stop = threading.Event()

    def reader():
        session = requests.Session()
        while not stop.is_set():
            session.get(f"{base}/api/state", headers=AUTH)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        for name in ("calm", "check-in", "calm"):
            r = requests.post(f"{base}/api/presets/{name}", headers=AUTH, timeout=5)
            assert r.status_code == 200
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert app.room.snapshot()["preset"] == "calm"


def test_secrets_never_appear_in_the_state(served):
    app, base = served
    text = json.dumps(requests.get(f"{base}/api/state", headers=AUTH).json())
    assert TOKEN not in text
