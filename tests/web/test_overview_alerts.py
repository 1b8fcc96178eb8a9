"""The clinic floor: the rooms' alerts on the overview, in real headless Chromium on the real broker. Until the
rooms publish alerts themselves, the test plays the room: it publishes the alert contract's messages exactly
(docs/interface.md, Alerts) and answers an acknowledgement as a room does, with its retained list."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta

import pytest
import requests
from selenium.webdriver.common.by import By

from room_controller.integrations.overview import MAX_ROOMS, ClinicConfig, Overview
from tests.broker import Capture
from tests.web.conftest import AUTH, PIN, serve
from tests.web.panel import Panel

_clinics = itertools.count(1)


@pytest.fixture
def base() -> str:
    """A base topic of the test's own: the session's broker keeps other tests' retained rooms."""
    return f"clinic-{next(_clinics)}"


def start_overview(tmp_path, base: str, host: str, port: int, **web) -> Overview:
    return Overview(ClinicConfig.model_validate({
        "mqtt": {"host": host, "port": port, "base_topic": base},
        "web": {"port": 0, "pin": PIN, **web},
        "overview": {"name": "front desk", "data_dir": str(tmp_path / "overview")}})).start()


def alert(room: str, n: int, kind: str = "emergency_on", ago_s: float = 0, **fields) -> dict:
    at = (datetime.now().astimezone() - timedelta(seconds=ago_s)).isoformat(timespec="seconds")
    return {"id": f"{room}-{n}", "room": room, "room_name": f"Room {room[-1].upper()}", "kind": kind,
            "urgent": kind in ("emergency_on", "vitals_beyond_limit"), "phase": "Peak", "session_s": 5400,
            "at": at, "what": {"emergency_on": "Emergency light switched on",
                               "calm_pressed": "Calm pressed"}.get(kind, "Something happened"),
            "detail": {}, **fields}


class Room:
    """What a room sends by the contract: each alert once (QoS 1, not retained), and its retained list."""

    def __init__(self, client: Capture, base: str, room: str) -> None:
        self.client, self.base, self.room, self.open = client, base, room, []

    def raise_(self, item: dict) -> None:
        self.client.publish(f"{self.base}/{self.room}/alert", json.dumps(item), qos=1)
        self.open.append(item)
        self.publish_list()

    def seen(self, alert_id: str) -> None:
        self.open = [a for a in self.open if a["id"] != alert_id]
        self.publish_list()

    def publish_list(self) -> None:
        self.client.publish(f"{self.base}/{self.room}/alerts", json.dumps(self.open), retain=True, qos=1)


class Cable:
    """A TCP relay between the overview and the broker: `cut()` drops the overview's connection, and every new
    one at once, while the broker and the rooms carry on; `mend()` lets it connect again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def mend(self) -> None:
        self._cut = False

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def close(self) -> None:
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._cut:
                    _close(near)
                    continue
                far = socket.create_connection(self.target)
                self._sockets += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def shown(driver) -> list[tuple[str, list[str]]]:
    return [(node.get_attribute("data-alert"), node.text.splitlines())
            for node in driver.find_elements(By.CSS_SELECTOR, "#alerts [data-alert]")]


def body(driver, name: str) -> str | None:
    return driver.find_element(By.TAG_NAME, "body").get_attribute(f"data-{name}")


def test_an_urgent_alert_calls_until_acknowledged_and_the_ack_goes_to_the_room(tmp_path, base, broker, browser):
    wire = Capture(broker, f"{base}/+/alert/ack")
    room_x, room_y = Room(wire, base, "room-x"), Room(wire, base, "room-y")
    overview = start_overview(tmp_path, base, broker.host, broker.port)
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}").open()
        page.wait_text("link", "Live")
        assert body(browser, "sound") == "off"
        page.wait_text("sound-state", "Sound is off: urgent alerts make no sound")
        page.press("Enable sound")
        page.wait(lambda: body(browser, "sound") == "on" and body(browser, "audio") == "running", what="sound on")
        assert not page.shown("sound") and page.text("sound-state") == "Sound on"

        room_x.raise_(alert("room-x", 1, ago_s=120))
        room_y.raise_(alert("room-y", 7, kind="calm_pressed"))    # newer, not urgent: below the urgent one
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-x-1", "room-y-7"], what="both alerts, urgent first")
        assert shown(browser)[0][1] == ["Room X", "Emergency light on", "Emergency light switched on",
                                        "Peak · Session 1:30:00 · 2 min ago", "Acknowledge"]
        assert shown(browser)[1][1][:2] == ["Room Y", "Calm pressed"]
        before = int(body(browser, "beeps") or 0)
        page.wait(lambda: body(browser, "alarm") == "playing" and int(body(browser, "beeps") or 0) > before,
                  timeout=10, what="the tone, again")   # it repeats every few seconds until acknowledged
        assert body(browser, "audio") == "running"

        asked = datetime.now().astimezone().replace(microsecond=0)
        browser.find_element(By.CSS_SELECTOR, '[data-alert="room-x-1"] button').click()
        page.wait(lambda: page.shown("login-form"), what="the PIN, asked once")
        assert page.text("login-title") == "Acknowledge as front desk"
        page.find("pin").send_keys(PIN)
        page.find("login-form").submit()

        ack = wire.wait_for(lambda m: m.topic.endswith("/alert/ack"))
        assert (ack.topic, ack.qos, ack.retain) == (f"{base}/room-x/alert/ack", 1, False)
        sent = json.loads(ack.payload)
        assert ack.payload == json.dumps({"id": "room-x-1", "by": "front desk", "at": sent["at"]}, separators=(",", ":"))
        at = datetime.fromisoformat(sent["at"])
        assert at.tzinfo is not None and asked <= at <= datetime.now().astimezone()
        page.wait(lambda: body(browser, "alarm") == "quiet", what="the tone stopped by the acknowledgement")
        page.wait(lambda: shown(browser)[0][1][-1] == f"Acknowledged by front desk, {at:%I:%M %p}: waiting for the room",
                  what="the acknowledgement shown until the room has it")

        room_x.seen("room-x-1")                                    # the room journals it and drops it from its list
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-y-7"], what="the acknowledged alert gone")
        assert body(browser, "alarm") == "quiet"
        assert wire.drain() == []                                  # one acknowledgement, not sent again
    finally:
        overview.stop()
        wire.close()


def test_a_lost_broker_shows_within_seconds_and_what_was_missed_shows_after(tmp_path, base, broker, browser):
    client = Capture(broker, f"{base}/+/alert/ack")
    room = Room(client, base, "room-l")
    cable = Cable(broker.host, broker.port)
    overview = start_overview(tmp_path, base, "127.0.0.1", cable.port)
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}").open()
        page.wait_text("link", "Live")
        room.raise_(alert("room-l", 1, kind="calm_pressed"))
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-l-1"], what="the first alert")
        assert not page.shown("lost")

        cable.cut()
        page.wait(lambda: page.shown("lost"), what="the lost connection, said")   # paho hears the close at once
        assert page.text("lost") == ("Connection lost The overview cannot reach the clinic broker: alerts may not "
                                     "arrive. Reconnecting…")
        room.raise_(alert("room-l", 2))                     # raised while the overview is away: it misses the alert

        cable.mend()
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-l-2", "room-l-1"], timeout=10,
                  what="the missed alert, from the room's retained list")
        assert not page.shown("lost")
        assert body(browser, "alarm") == "playing"          # urgent, unacknowledged (the sound is off: it says so)
        assert page.text("sound-state") == "Sound is off: urgent alerts make no sound"

        overview.web.stop()                                  # this screen's own stream is gone
        page.wait(lambda: page.shown("lost") and page.text("lost") == (
            "Connection lost This screen cannot reach the overview: alerts may not show. Reconnecting…"),
            what="the lost stream, said")
    finally:
        overview.stop()
        cable.close()
        client.close()


@pytest.fixture
def listening(tmp_path, base, broker, caplog):
    """An overview on the broker and a client beside it: (the client, the overview's /api/rooms), warnings
    captured."""
    client = Capture(broker, f"{base}/+/alert/ack")
    overview = start_overview(tmp_path, base, broker.host, broker.port)
    caplog.set_level(logging.WARNING)
    try:
        yield client, f"http://127.0.0.1:{overview.web.port}/api/rooms"
    finally:
        overview.stop()
        client.close()


def test_bad_alerts_are_logged_once_and_ignored(base, listening, caplog):
    client, rooms = listening
    heard(client, base, rooms, "room-b")
    good = alert("room-b", 3)
    for bad in (b"not json", json.dumps({**good, "room": "room-c"}), json.dumps({**good, "at": "yesterday"}),
                json.dumps({**good, "id": "room-c-3"}), json.dumps({**good, "urgent": "yes"}), b"[]"):
        client.publish(f"{base}/room-b/alert", bad, qos=1)
    client.publish(f"{base}/room-b/alert", json.dumps(good), qos=1)   # after the bad ones on the same topic
    client.publish(f"{base}/room-b/alerts", json.dumps([alert("room-b", 1), {"id": "room-b-2"}, good]), qos=1)
    client.publish(f"{base}/room-b/status", "offline", qos=1)         # heard last
    assert _until(lambda: requests.get(rooms).json()["rooms"][0]["status"] == "offline")
    assert [a["id"] for a in requests.get(rooms).json()["alerts"]] == ["room-b-3", "room-b-1"]
    lines = [r.getMessage() for r in caplog.records if "room-b" in r.getMessage()]
    assert lines == [f"MQTT: ignored a bad message on {base}/room-b/alert: not JSON",
                     f"MQTT: ignored a bad message on {base}/room-b/alerts: left out 1 of 3 alerts in the list "
                     "that were not alerts"]


def test_the_room_table_is_bounded(base, listening, caplog):
    client, rooms = listening
    heard(client, base, rooms, "flood-000")
    for n in range(1, MAX_ROOMS + 20):
        client.publish(f"{base}/flood-{n:03d}/status", "online", qos=1)
    assert _until(lambda: requests.get(rooms).json()["turned_away"] == 20)
    listed = requests.get(rooms).json()
    assert [r["id"] for r in listed["rooms"]] == [f"flood-{n:03d}" for n in range(MAX_ROOMS)]
    assert [r.getMessage() for r in caplog.records if "rooms" in r.getMessage()] == [
        f"the overview follows at most {MAX_ROOMS} rooms: ignored flood-{MAX_ROOMS} and any further new room"]


def heard(client: Capture, base: str, rooms: str, room: str) -> None:
    """The overview hears the rooms now: it has heard this one's status (retained; its subscriptions went as one)."""
    client.publish(f"{base}/{room}/status", "online", retain=True, qos=1)
    assert _until(lambda: [r["id"] for r in requests.get(rooms).json()["rooms"]] == [room])


def _until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_real_rooms_emergency_is_acknowledged_from_the_floor(tmp_path, own_broker, browser):
    """End to end: a room's emergency light on the floor's screen, calling; one tap and the PIN, and the room
    has it journaled as seen by the front desk and drops it from its list, so it leaves the screen."""
    (tmp_path / "room").mkdir()
    room = serve(tmp_path / "room", own_broker, "room-e")
    overview = start_overview(tmp_path, "therapy-room", own_broker.host, own_broker.port)
    try:
        page = Panel(browser, f"http://127.0.0.1:{overview.web.port}").open()
        page.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[data-room="room-e"]'), what="the room")
        page.press("Enable sound")
        assert requests.post(f"{room.base}/api/presets/emergency", headers=AUTH).status_code == 200
        page.wait(lambda: [a for a, _ in shown(browser)] == ["room-e-1"], what="the room's emergency")
        assert shown(browser)[0][1][:3] == ["Test room", "Emergency light on", "Emergency light switched on"]
        page.wait(lambda: body(browser, "alarm") == "playing" and body(browser, "audio") == "running",
                  what="the tone")

        browser.find_element(By.CSS_SELECTOR, '[data-alert="room-e-1"] button').click()
        page.wait(lambda: page.shown("login-form"), what="the PIN")
        page.find("pin").send_keys(PIN)
        page.find("login-form").submit()
        page.wait(lambda: shown(browser) == [], what="the alert gone once the room has the acknowledgement")
        assert body(browser, "alarm") == "quiet"
        seen = room.app.room.snapshot()["alerts"][0]["seen"]
        assert seen["by"] == "front desk" and datetime.fromisoformat(seen["at"]).tzinfo is not None
        rows = room.app.journal.call(lambda db: db.execute("SELECT data FROM events WHERE kind='alert_seen'")
                                     .fetchall())
        assert [json.loads(r[0]) for r in rows] == [{"id": "room-e-1", "kind": "emergency_on", "by": "front desk",
                                                     "at": seen["at"]}]
    finally:
        overview.stop()
        room.stop()


def test_only_the_front_desk_acknowledges(tmp_path, base, broker):
    """The overview's one change, guarded as the panel's are: its PIN login, the CSRF token, its own page only."""
    client = Capture(broker, f"{base}/+/alert/ack")
    overview = start_overview(tmp_path, base, broker.host, broker.port)
    url = f"http://127.0.0.1:{overview.web.port}"
    try:
        Room(client, base, "room-h").raise_(alert("room-h", 4))
        assert _until(lambda: requests.get(f"{url}/api/rooms").json()["alerts"])
        ack = {"id": "room-h-4"}
        assert _refusal(requests.post(f"{url}/api/alerts/ack", json=ack)) == (401, "unauthorized")
        assert _refusal(requests.post(f"{url}/api/login", json={"pin": "0000"})) == (401, "wrong_pin")
        desk = requests.Session()
        csrf = desk.post(f"{url}/api/login", json={"pin": PIN}).json()["csrf"]
        assert _refusal(desk.post(f"{url}/api/alerts/ack", json=ack)) == (403, "csrf")
        assert _refusal(desk.post(f"{url}/api/alerts/ack", json=ack, headers={"X-CSRF-Token": csrf,
                                                                            "Origin": "http://elsewhere.example"})) \
            == (403, "cross_origin")
        assert _refusal(desk.post(f"{url}/api/alerts/ack", json=ack, headers={"Host": "elsewhere.example"})) \
            == (421, "unknown_host")
        token = {"X-CSRF-Token": csrf}
        assert _refusal(desk.post(f"{url}/api/alerts/ack", data="[", headers=token)) == (415, "unsupported_media_type")
        assert _refusal(desk.post(f"{url}/api/alerts/ack", json={"id": ""}, headers=token)) == (422, "invalid")
        assert _refusal(desk.post(f"{url}/api/alerts/ack", json={"id": "room-h-5"}, headers=token)) == \
            (404, "unknown_alert")
        answer = desk.post(f"{url}/api/alerts/ack", json=ack, headers=token)
        assert answer.status_code == 202
        assert answer.json() == {"id": "room-h-4", "by": "front desk", "at": answer.json()["at"], "sent": True}
        sent = client.wait_for(lambda m: m.topic.endswith("/alert/ack"))
        assert (sent.topic, json.loads(sent.payload), sent.qos, sent.retain) == (
            f"{base}/room-h/alert/ack", {"id": "room-h-4", "by": "front desk", "at": answer.json()["at"]}, 1, False)
    finally:
        overview.stop()
        client.close()


def _refusal(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]
