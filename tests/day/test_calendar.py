"""A clinic's calendar read as real iCalendar text: zones by TZID, all-day events left out, a weekly RRULE with
an exception, LOCATION by the room's id or name, CATEGORIES before SUMMARY for the profile, an event that names
no profile, text that is no calendar; read from a file and from an http address (a loopback server here), bounded,
and never keeping a summary."""

from __future__ import annotations

import http.server
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from room_controller.integrations import calendar
from room_controller.session.day import booking_id

PROFILES = {"psilocybin-8h": "psilocybin-8h", "psilocybin, 8 hours": "psilocybin-8h",
            "integration-75m": "integration-75m", "integration, 75 minutes": "integration-75m"}
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 8, 7, 0, tzinfo=BERLIN)

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Clinic//Scheduling//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:a1@clinic
DTSTAMP:20261201T120000Z
DTSTART;TZID=Europe/Berlin:20261208T090000
DTEND;TZID=Europe/Berlin:20261208T170000
SUMMARY:Maria Example
CATEGORIES:psychedelic,psilocybin-8h
LOCATION:room-1
END:VEVENT
BEGIN:VEVENT
UID:a2@clinic
DTSTAMP:20261201T120000Z
DTSTART:20261209T093000Z
SUMMARY:Integration, 75 minutes
LOCATION:Garden room
END:VEVENT
BEGIN:VEVENT
UID:a3@clinic
DTSTAMP:20261201T120000Z
DTSTART;VALUE=DATE:20261208
SUMMARY:psilocybin-8h
LOCATION:room-1
END:VEVENT
BEGIN:VEVENT
UID:a4@clinic
DTSTAMP:20261201T120000Z
DTSTART;TZID=Europe/Berlin:20261208T150000
SUMMARY:Jon Doe, first visit
LOCATION:room-1
END:VEVENT
BEGIN:VEVENT
UID:a5@clinic
DTSTAMP:20261201T120000Z
DTSTART;TZID=Europe/Berlin:20261208T090000
SUMMARY:psilocybin-8h
LOCATION:room-2
END:VEVENT
BEGIN:VEVENT
UID:weekly@clinic
DTSTAMP:20261101T120000Z
DTSTART;TZID=Europe/Berlin:20261103T180000
RRULE:FREQ=WEEKLY;BYDAY=TU,WE
EXDATE;TZID=Europe/Berlin:20261209T180000
SUMMARY:INTEGRATION-75M
LOCATION:ROOM-1
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()


def read(data: bytes = ICS, now: datetime = NOW) -> list:
    start, end = calendar.day_bounds(now)
    return sorted(calendar.bookings(data, "room-1", "Garden room", PROFILES, start, end), key=lambda b: b.start)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone()


def test_the_rooms_events_of_today_and_tomorrow_become_its_bookings():
    found = read()
    assert [(b.profile, b.start, b.problem) for b in found] == [
        ("psilocybin-8h", at("2026-12-08T09:00:00+01:00"), None),   # TZID, CATEGORIES' profile before the SUMMARY
        (None, at("2026-12-08T15:00:00+01:00"), f"The calendar's booking at "
         f"{at('2026-12-08T15:00:00+01:00').strftime('%H:%M')} names no session profile of this room"),
        ("integration-75m", at("2026-12-08T18:00:00+01:00"), None),   # the weekly one on Tuesday; Wednesday's excluded
        ("integration-75m", at("2026-12-09T09:30:00+00:00"), None),   # by the room's name, the SUMMARY a profile name
    ]
    assert all(b.start.utcoffset() == datetime.fromtimestamp(b.start.timestamp()).astimezone().utcoffset()
               for b in found)   # in the room computer's own zone


def test_ids_are_stable_and_hold_no_calendar_text():
    first, again = read(), read()
    assert [b.id for b in first] == [b.id for b in again]
    assert first[0].id == booking_id("calendar", "a1@clinic", at("2026-12-08T09:00:00+01:00").isoformat())
    weekly = [b for b in first if b.start.hour == at("2026-12-08T18:00:00+01:00").hour]
    assert len({b.id for b in first}) == len(first) and weekly
    kept = repr(first)
    for text in ("Maria", "Jon Doe", "first visit", "clinic", "psychedelic"):
        assert text not in kept


def test_the_window_moves_with_the_day():
    assert [(b.profile, b.start) for b in read(now=NOW + timedelta(days=1))] == [
        ("integration-75m", at("2026-12-09T09:30:00+00:00"))]   # Wednesday's weekly one is excluded (EXDATE)
    assert [(b.profile, b.start) for b in read(now=NOW + timedelta(days=6))] == [
        ("integration-75m", at("2026-12-15T18:00:00+01:00"))]   # next week's Tuesday


@pytest.mark.parametrize("data", [b"", b"not a calendar", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n"
                                  b"SUMMARY:Maria Example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"])
def test_text_that_is_no_calendar_is_said_so_without_quoting_it(data):
    with pytest.raises(calendar.CalendarError) as caught:
        read(data)
    assert str(caught.value) == "the calendar is not an iCalendar file that can be read"


def test_a_file_beside_the_clinic_file(tmp_path):
    (tmp_path / "bookings.ics").write_bytes(ICS)
    assert calendar.read("bookings.ics", tmp_path) == ICS
    with pytest.raises(calendar.CalendarError, match="^the calendar file cannot be read"):
        calendar.read("missing.ics", tmp_path)
    (tmp_path / "huge.ics").write_bytes(b"x" * (calendar.MAX_BYTES + 1))
    with pytest.raises(calendar.CalendarError, match="larger than 4 MiB"):
        calendar.read("huge.ics", tmp_path)


class Served(http.server.BaseHTTPRequestHandler):
    body = ICS
    status = 200

    def do_GET(self) -> None:   # noqa: N802 - http.server's name
        self.send_response(self.status)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Served)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    Served.status = 200


def test_an_http_address(server, tmp_path):
    url = f"http://127.0.0.1:{server.server_address[1]}/clinic.ics"
    assert calendar.read(url, tmp_path) == ICS
    Served.status = 503
    with pytest.raises(calendar.CalendarError) as caught:
        calendar.read(url, tmp_path)
    assert str(caught.value) == "the calendar's address cannot be read (503)"
    server.shutdown()
    server.server_close()
    with pytest.raises(calendar.CalendarError, match="^the calendar's address cannot be read"):
        calendar.read(url, tmp_path)
