"""GET /api/events: state at once and on every change, many panels open while presses stay fast, a cap
on streams, and streams that end when the server stops."""

from __future__ import annotations

import json
import socket
import threading
import time

import requests

from room_controller.webapp import events
from tests.web.conftest import AUTH, serve


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
