"""GET /api/events: state at once and on every change, many panels open while presses stay fast, a cap
on streams, streams that end when the server stops, and alerts that never wait behind the gap between
snapshots (the panel's stream and the overview's)."""

from __future__ import annotations

import json
import socket
import threading
import time

import requests

from room_controller.webapp import events
from tests.broker import Capture
from tests.web.conftest import AUTH, serve
from tests.web.test_overview_alerts import alert, start_overview


class Follower:
    """One open panel: reads the stream on a plain socket (closed at will, like a tablet dropping off the
    Wi-Fi) on a thread of its own, and keeps each state with its arrival time."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                          f"Authorization: {AUTH['Authorization']}\r\n\r\n".encode())
        self.head = ""
        self.states: list[tuple[float, dict]] = []
        self.ended = threading.Event()
        self.answered = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.answered.wait(5)

    def _read(self) -> None:
        lines = self.sock.makefile("r", encoding="utf-8", newline="\n")
        try:
            while (line := lines.readline()).strip():
                self.head += line
            self.answered.set()
            event = None
            for line in lines:
                if line.startswith("event: "):
                    event = line[len("event: "):].strip()
                elif line.startswith("data: ") and event == "state":
                    self.states.append((time.monotonic(), json.loads(line[len("data: "):])))
        except (OSError, ValueError):
            pass
        self.answered.set()
        self.ended.set()

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def wait_for(self, predicate, timeout: float = 5.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, state in list(self.states):
                if predicate(state):
                    return at
            time.sleep(0.005)
        raise AssertionError("no such state arrived")


def test_the_stream_needs_a_login(served):
    assert requests.get(f"{served.base}/api/events").status_code == 401


def test_state_at_once_and_each_change_pushed(served):
    """That the change is pushed; how fast is a figure for bench/run.py, not an assertion on a loaded machine."""
    follower = Follower(served.base)
    assert follower.head.startswith("HTTP/1.1 200") and "Content-Type: text/event-stream" in follower.head
    follower.wait_for(lambda s: s["preset"] is None)
    requests.post(f"{served.base}/api/presets/calm", headers=AUTH).raise_for_status()
    follower.wait_for(lambda s: s["preset"] == "calm")
    follower.close()


def test_eight_open_panels_and_presses_still_answer_at_once(served):
    followers = [Follower(served.base) for _ in range(8)]
    for follower in followers:
        follower.wait_for(lambda s: s["preset"] is None)
    for name in ["calm", "check-in"] * 10:   # each answered (how fast with 8 streams open: bench/run.py calm)
        r = requests.post(f"{served.base}/api/presets/{name}", headers=AUTH, timeout=5)
        assert r.status_code == 200
    for follower in followers:                  # each panel ends on the truth: the last press
        follower.wait_for(lambda s, follower=follower: follower.states[-1][1]["preset"] == "check-in")
        follower.close()


def test_an_alert_and_its_acknowledgement_end_the_gap_that_paces_ordinary_changes(served, broker, monkeypatch):
    """With a gap longer than any wait here, only a change to the alerts can bring a second state: calm pressed
    in the gap is held, and comes with the emergency alert that ends it; the acknowledgement ends the next."""
    monkeypatch.setattr(events, "MIN_GAP", 600.0)
    follower = Follower(served.base)
    follower.wait_for(lambda s: s["preset"] is None)
    assert requests.post(f"{served.base}/api/presets/calm", headers=AUTH, timeout=5).status_code == 200
    assert requests.post(f"{served.base}/api/presets/emergency", headers=AUTH, timeout=5).status_code == 200
    follower.wait_for(lambda s: s["alerts"])
    room_id = served.app.config.room.id
    ack = {"id": f"{room_id}-1", "by": "the front desk", "at": "2026-05-28T14:02:00+02:00"}
    desk = Capture(broker, "nothing")
    desk.publish(f"therapy-room/{room_id}/alert/ack", json.dumps(ack), qos=1)
    follower.wait_for(lambda s: s["alerts"] and s["alerts"][0]["seen"])
    assert [(s["preset"], [(a["id"], a["kind"], a["sent"], a["seen"]) for a in s["alerts"]])
            for _, s in follower.states] == [
        (None, []),
        ("emergency", [(f"{room_id}-1", "emergency_on", True, None)]),
        ("emergency", [(f"{room_id}-1", "emergency_on", True, {"by": "the front desk", "at": ack["at"]})])]
    desk.close()
    follower.close()


def test_the_overview_stream_sends_a_new_alert_at_once(tmp_path, broker, monkeypatch):
    """The floor's screen: a room's state heard in the gap waits for it to end; the room's alert does not, nor
    the room's list without it (acknowledged)."""
    monkeypatch.setattr(events, "MIN_GAP", 600.0)
    base = f"gap-clinic-{tmp_path.name}"
    room = Capture(broker, "nothing")
    overview = start_overview(tmp_path, base, broker.host, broker.port)
    rooms = f"http://127.0.0.1:{overview.web.port}/api/rooms"
    try:
        room.publish(f"{base}/room-a/status", "online", retain=True, qos=1)
        _until(lambda: [r["status"] for r in requests.get(rooms, timeout=5).json()["rooms"]] == ["online"])
        follower = Follower(f"http://127.0.0.1:{overview.web.port}")
        follower.wait_for(lambda s: [r["id"] for r in s["rooms"]] == ["room-a"])
        room.publish(f"{base}/room-a/state", json.dumps({"room": {"id": "room-a", "name": "Room A"}, "preset": "calm"}),
                     retain=True, qos=1)
        _until(lambda: requests.get(rooms, timeout=5).json()["rooms"][0]["state"] is not None)   # in the gap
        emergency = alert("room-a", 1)
        room.publish(f"{base}/room-a/alert", json.dumps(emergency), qos=1)
        follower.wait_for(lambda s: s["alerts"])
        room.publish(f"{base}/room-a/alerts", "[]", retain=True, qos=1)
        _until(lambda: len(follower.states) == 3)
        assert [([a["id"] for a in s["alerts"]], s["rooms"][0]["state"] is not None) for _, s in follower.states] == [
            ([], False), (["room-a-1"], True), ([], True)]
        follower.close()
    finally:
        room.publish(f"{base}/room-a/status", "", retain=True, qos=1)
        room.publish(f"{base}/room-a/state", "", retain=True, qos=1)
        room.publish(f"{base}/room-a/alerts", "", retain=True, qos=1)
        overview.stop()
        room.close()


def _until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_streams_are_capped_and_end_when_the_server_stops(tmp_path, broker, room_id, monkeypatch):
    monkeypatch.setattr(events, "PING", 0.5)  # a dropped panel is noticed at the next writes: pings, sooner
    room = serve(tmp_path, broker, room_id, max_event_streams=2)
    followers = [Follower(room.base) for _ in range(2)]
    third = Follower(room.base)
    assert third.head.startswith("HTTP/1.1 503 ")
    third.close()
    assert requests.post(f"{room.base}/api/presets/calm", headers=AUTH, timeout=5).status_code == 200
    followers[0].close()
    deadline = time.monotonic() + 5
    while not (again := Follower(room.base)).head.startswith("HTTP/1.1 200 "):
        again.close()
        assert time.monotonic() < deadline, "a dropped stream never gave its place back"
        time.sleep(0.2)
    followers.append(again)
    start = time.monotonic()
    room.stop()
    assert time.monotonic() - start < 10   # not a speed figure: stop does not wait for the open streams to go
    assert all(f.ended.wait(2) for f in followers[1:])
