"""The clinic's day in a served room, on a real broker and the test clock: a booking prepares its room at its
time (the arrival light, no session), the retained `day` topic says so exactly, calm holds over the arrival and
its release returns to it, the therapist's one tap starts the session, the room rests after it, and a changed
clinic file applies without a restart (an unknown profile is a problem on the topic)."""

from __future__ import annotations

import http.server
import json
import threading
from datetime import datetime
from pathlib import Path

import pytest
import requests
import yaml

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.session.day import booking_id
from tests.broker import Capture
from tests.rooms import load
from tests.test_alerts import AUTH, wait_until

ROOT = Path(__file__).resolve().parents[2]
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp", "name": "Ceiling lamp"}]
NOW = datetime(2026, 12, 8, 8, 40)   # the room computer's local time at the test's start


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone()


def iso(text: str) -> str:
    return local(text).isoformat(timespec="seconds")


class DayRoom:
    def __init__(self, tmp_path: Path, broker, room_id: str, bookings: list[dict], **day) -> None:
        self.clinic = tmp_path / "clinic.yaml"
        self.room_id = room_id
        self.write(bookings, **day)
        self.clock = ManualClock(wall_start=NOW.timestamp())
        self.prefix = f"therapy-room/{room_id}"
        self.watch = Capture(broker, f"{self.prefix}/day", f"{self.prefix}/test-mark")
        self.config = load(tmp_path, broker, room_id, LIGHTS, clinic=str(self.clinic),
                           profiles_dir=str(ROOT / "deploy" / "profiles"), playlists_dir=str(ROOT / "playlists"))
        self.app = self.started()

    def started(self) -> App:
        app = App(*self.config, clock=self.clock, audio=False).start()
        wait_until(lambda: app.room.mqtt_connected, "the room to connect")
        app.loop.settle()
        self.app = app
        return app

    def restart(self) -> None:
        """The service stops and starts again on the same files (a crash's restart, or a reboot)."""
        self.app.stop()
        self.started()

    def write(self, bookings: list[dict], **day) -> None:
        self.clinic.write_text(yaml.safe_dump({"day": {"prepare_ahead": "15m", **day, "bookings": bookings}}))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.app.web.port}"

    def day(self) -> dict:
        reply = requests.get(f"{self.base}/api/day", headers=AUTH)
        assert reply.status_code == 200
        return reply.json()

    def published(self) -> list[dict]:
        sent = self.watch.sent_until_now(self.app, f"{self.prefix}/test-mark")
        days = [m for m in sent if m.topic.endswith("/day")]
        assert all(m.qos == 1 for m in days)
        return [json.loads(m.payload) for m in days]

    def light(self) -> dict:
        return next(light for light in self.app.room.snapshot()["lights"] if light["id"] == "ceiling")

    def journaled(self, kind: str) -> list[dict]:
        rows = self.app.journal.call(lambda db: db.execute("SELECT data FROM events WHERE kind=? ORDER BY id",
                                                           (kind,)).fetchall())
        return [json.loads(row[0]) for row in rows]

    def close(self) -> None:
        self.app.stop()
        self.watch.close()


@pytest.fixture
def make(tmp_path, broker, room_id):
    rooms: list[DayRoom] = []

    def make_room(bookings: list[dict], **day) -> DayRoom:
        room = DayRoom(tmp_path, broker, room_id, bookings, **day)
        rooms.append(room)
        return room

    yield make_room
    for room in rooms:
        room.close()


def booking(room: DayRoom, start: str, state: str, profile: str = "psilocybin-8h") -> dict:
    known = room.app.room.session.profiles.get(profile)
    name, kind, duration = (known.name, known.kind, known.planned_seconds) if known else (None, None, None)
    moment = local(start)
    return {"id": booking_id("file", room.room_id, datetime.fromisoformat(start).isoformat()), "profile": profile,
            "name": name, "kind": kind, "start": iso(start), "duration_s": duration,
            "prepare_at": datetime.fromtimestamp(moment.timestamp() - 900).astimezone().isoformat(timespec="seconds"),
            "state": state}


def test_a_booking_prepares_its_room_and_one_tap_starts_it(make):
    room = make([{"room": "room-x", "profile": "psilocybin-8h", "start": "2026-12-08 09:00"}])
    first = room.day()
    assert first == {"room": room.room_id, "at": iso("2026-12-08 08:40"), "next": None, "bookings": [],
                     "problems": []}   # room-x is another room
    room.write([{"room": room.room_id, "profile": "psilocybin-8h", "start": "2026-12-08 09:00"},
                {"room": "Test room", "profile": "integration-75m", "start": "2026-12-09 10:30"}])
    room.clock.advance(10)
    planned = booking(room, "2026-12-08 09:00", "planned")
    tomorrow = booking(room, "2026-12-09 10:30", "planned", "integration-75m")
    wait_until(lambda: room.day()["bookings"] == [planned, tomorrow], "the changed clinic file")
    assert room.published()[-1] == {"room": room.room_id, "at": iso("2026-12-08 08:40:10"), "next": planned,
                                    "bookings": [planned, tomorrow], "problems": []}
    assert room.app.room.snapshot()["session"] is None

    room.clock.advance(4 * 60 + 50)   # 08:45: fifteen minutes ahead, the arrival scene (a 1 min fade)
    preparing = dict(planned, state="preparing")
    assert room.published() == [{"room": room.room_id, "at": iso("2026-12-08 08:45"), "next": preparing,
                                 "bookings": [preparing, tomorrow], "problems": []}]
    assert room.app.room.snapshot()["session"] is None
    assert room.journaled("booking_prepared") == [{"booking": planned["id"], "profile": "psilocybin-8h",
                                                   "start": iso("2026-12-08 09:00"), "arrival_s": 60.0}]
    room.clock.advance(60)
    ready = dict(planned, state="ready")
    assert room.published() == [{"room": room.room_id, "at": iso("2026-12-08 08:46"), "next": ready,
                                 "bookings": [ready, tomorrow], "problems": []}]
    assert (room.light()["target"]["brightness"], room.light()["target"]["kelvin"]) == (45.0, 2700.0)

    # calm holds over the arrival; its release returns to it
    assert requests.post(f"{room.base}/api/presets/calm", headers=AUTH).status_code == 200
    assert room.light()["target"]["brightness"] == 15.0
    assert requests.delete(f"{room.base}/api/presets/active", headers=AUTH).status_code == 200
    assert (room.light()["target"]["brightness"], room.light()["target"]["kelvin"]) == (45.0, 2700.0)

    reply = requests.post(f"{room.base}/api/day/start", headers=AUTH, json={"booking": "nope"})
    assert (reply.status_code, reply.json()["error"]["code"]) == (404, "unknown_booking")
    reply = requests.post(f"{room.base}/api/day/start", headers=AUTH, json={"booking": planned["id"]})
    assert reply.status_code == 201
    session = room.app.room.snapshot()["session"]
    assert reply.json() == {"session": session["id"]} and session["profile"] == "psilocybin-8h"
    assert room.day()["bookings"][0]["state"] == "started"
    assert room.day()["next"] == tomorrow
    again = requests.post(f"{room.base}/api/day/start", headers=AUTH, json={"booking": planned["id"]})
    assert again.status_code == 409

    assert requests.post(f"{room.base}/api/session/stop", headers=AUTH).status_code == 200
    room.app.loop.settle()
    assert room.day()["bookings"][0]["state"] == "done"
    assert room.app.room.layers.scene == room.app.room.layers.idle

    room.write([{"room": room.room_id, "profile": "psilocybin-8h", "start": "2026-12-08 09:00"},
                {"room": room.room_id, "profile": "lsd-12h", "start": "2026-12-09 08:00"}])
    room.clock.advance(10)
    wait_until(lambda: room.day()["problems"], "the unknown profile")
    unknown = booking(room, "2026-12-09 08:00", "problem", "lsd-12h")
    day = room.published()[-1]
    assert day["bookings"] == [dict(planned, state="done"), unknown]
    assert day["problems"] == [{"booking": unknown["id"], "code": "unknown_profile",
                                "what": "The booking at 08:00 names an unknown session profile 'lsd-12h'"}]


def test_a_booking_missed_by_an_hour_lets_the_room_rest(make):
    room = make([{"room": "Test room", "profile": "integration-75m", "start": "2026-12-08 08:50"}])
    nine = booking(room, "2026-12-08 08:50", "preparing", "integration-75m")
    assert room.day()["bookings"] == [nine]   # its prepare_at (08:35) has passed: it prepares at once
    assert room.app.room.layers.scene != room.app.room.layers.idle
    room.clock.advance(70 * 60)   # 09:50: an hour after its start
    assert room.day()["bookings"] == [dict(nine, state="missed")] and room.day()["next"] is None
    assert room.app.room.layers.scene == room.app.room.layers.idle and room.app.room.snapshot()["session"] is None
    assert room.journaled("booking_unprepared") == [{"booking": nine["id"], "state": "missed"}]


class Served(http.server.BaseHTTPRequestHandler):
    status = 200
    room = ""

    def do_GET(self) -> None:   # noqa: N802 - http.server's name
        body = CALENDAR.format(room=self.room).encode()
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


CALENDAR = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Clinic//Scheduling//EN\r
BEGIN:VEVENT\r
UID:b1@clinic\r
DTSTAMP:20261201T120000Z\r
DTSTART:20261208T100000\r
SUMMARY:Maria Example\r
CATEGORIES:integration-75m\r
LOCATION:{room}\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_a_calendar_address_that_fails_keeps_the_last_good_plan(make, room_id):
    Served.room = room_id
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Served)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        room = make([], calendar=f"http://127.0.0.1:{httpd.server_address[1]}/day.ics", refresh="1m")
        ten = dict(booking(room, "2026-12-08 10:00", "planned", "integration-75m"),
                   id=booking_id("calendar", "b1@clinic", local("2026-12-08 10:00").isoformat()))
        wait_until(lambda: room.day()["bookings"] == [ten], "the calendar's booking")
        Served.status = 500
        room.clock.advance(60)
        wait_until(lambda: room.day()["problems"], "the failed calendar")
        day = room.day()
        assert day["bookings"] == [ten]
        assert day["problems"] == [{"booking": None, "code": "calendar", "what": "The calendar cannot be read (the "
                                    "calendar's address cannot be read (500)): the plan keeps its reading of 08:40"}]
        published = json.dumps(room.published()) + json.dumps(room.app.journal.call(
            lambda db: db.execute("SELECT kind, data FROM events").fetchall()))
        assert "Maria" not in published and "b1@clinic" not in published
    finally:
        Served.status = 200
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.slow
def test_a_restart_keeps_its_place_in_the_day(make):
    """Prepared and then started, the room restarts: the booking it was preparing prepares again (its arrival
    light, no session), and the one the therapist started stays started, its session going on."""
    room = make([{"room": "Test room", "profile": "psilocybin-8h", "start": "2026-12-08 09:00"}])
    room.clock.advance(6 * 60)   # 08:46: ready
    ready = booking(room, "2026-12-08 09:00", "ready")
    assert room.day()["bookings"] == [ready]
    room.restart()
    room.clock.advance(60)       # the arrival fade again, from wherever the lamp stands
    assert room.day()["bookings"] == [ready] and room.app.room.snapshot()["session"] is None
    assert (room.light()["target"]["brightness"], room.light()["target"]["kelvin"]) == (45.0, 2700.0)
    assert len(room.journaled("booking_prepared")) == 2

    assert requests.post(f"{room.base}/api/day/start", headers=AUTH, json={"booking": ready["id"]}).status_code == 201
    session = room.app.room.snapshot()["session"]["id"]
    room.restart()
    assert room.app.room.snapshot()["session"]["id"] == session
    assert room.day()["bookings"] == [dict(ready, state="started")] and room.day()["next"] is None
    again = requests.post(f"{room.base}/api/day/start", headers=AUTH, json={"booking": ready["id"]})
    assert again.status_code == 409
