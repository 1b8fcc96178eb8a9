"""A clinic's calendar (iCalendar, RFC 5545) as a room's bookings: the only module that imports icalendar and
recurring_ical_events.

Each VEVENT is a booking (docs/day.md): LOCATION is the room's id or name; the profile is the first CATEGORIES
value that is a profile's id, else the SUMMARY when it is a profile's id or name (case-insensitive); DTSTART its
start, in its TZID's zone (a floating time is the room computer's local time); recurring events are expanded
(RRULE, RDATE, EXDATE, moved occurrences). All-day events are no bookings. Nothing else of an event leaves this
module: a summary may hold a client's name, so it is compared and dropped, never kept, journaled or published,
and a calendar that cannot be parsed is said to be so without quoting it. Reading is bounded in size and time.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import recurring_ical_events

from room_controller.session.day import Booking, booking_id, hhmm

MAX_BYTES = 4 << 20    # a clinic's calendar of a few years is well under a megabyte
TIMEOUT = 10.0         # seconds for a URL, however slowly it trickles


class CalendarError(Exception):
    """The calendar cannot be read: a plain sentence, with nothing of the calendar's text."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read(source: str, base: Path) -> bytes:
    """The calendar's bytes from a file (relative to `base`) or an http(s) URL, at most MAX_BYTES, within
    TIMEOUT; CalendarError otherwise."""
    if not is_url(source):
        path = base / source
        try:
            with path.open("rb") as file:
                data = file.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CalendarError(f"the calendar file cannot be read ({exc.strerror or type(exc).__name__})") from None
        return _bounded(data)
    deadline = time.monotonic() + TIMEOUT
    chunks: list[bytes] = []
    try:
        with urllib.request.urlopen(source, timeout=TIMEOUT) as reply:   # noqa: S310 - http(s) only (is_url)
            while chunk := reply.read(65536):
                chunks.append(chunk)
                if sum(map(len, chunks)) > MAX_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise CalendarError(f"the calendar's address did not answer within {TIMEOUT:g} s")
    except CalendarError:
        raise
    except Exception as exc:   # noqa: BLE001 - any failure of the address is one problem, said by its kind
        reason = getattr(exc, "code", None) or getattr(exc, "reason", None) or type(exc).__name__
        raise CalendarError(f"the calendar's address cannot be read ({reason})") from None
    return _bounded(b"".join(chunks))


def _bounded(data: bytes) -> bytes:
    if len(data) > MAX_BYTES:
        raise CalendarError(f"the calendar is larger than {MAX_BYTES >> 20} MiB")
    return data


def bookings(data: bytes, room_id: str, room_name: str, profiles: Mapping[str, str], start: datetime,
             end: datetime) -> list[Booking]:
    """The room's bookings starting in [start, end) (aware). `profiles`: each profile's id and name, casefolded,
    to its id. CalendarError when the text is no calendar."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = recurring_ical_events.of(calendar).between(start, end)
    except Exception:   # noqa: BLE001 - the parser's message may quote the calendar's text
        raise CalendarError("the calendar is not an iCalendar file that can be read") from None
    rooms = {room_id.casefold(), room_name.casefold()} - {""}
    found = []
    for event in events:
        begins = event.get("DTSTART")
        when = getattr(begins, "dt", None)
        if not isinstance(when, datetime) or str(event.get("LOCATION", "")).strip().casefold() not in rooms:
            continue   # an all-day event (a date), or another room's
        when = when.astimezone()   # a floating time is the room computer's own
        if not start <= when < end:
            continue
        profile = _profile(event, profiles)
        found.append(Booking(booking_id("calendar", str(event.get("UID", "")), when.isoformat()), profile, when,
                             None if profile else f"The calendar's booking at {hhmm(when)} names no session "
                                                  "profile of this room"))
    return found


def _profile(event, profiles: Mapping[str, str]) -> str | None:
    """The first CATEGORIES value that is a profile's id, else the SUMMARY when it is a profile's id or name."""
    categories = event.get("CATEGORIES")
    for line in categories if isinstance(categories, list) else [categories] if categories is not None else []:
        for value in getattr(line, "cats", []):
            found = profiles.get(str(value).strip().casefold())
            if found is not None and found.casefold() == str(value).strip().casefold():
                return found
    return profiles.get(str(event.get("SUMMARY", "")).strip().casefold())


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The start of today and of the day after tomorrow on the room computer's clock: the plan's window."""
    today = now.astimezone().date()
    return (datetime.combine(today, datetime.min.time()).astimezone(),
            datetime.combine(today + timedelta(days=2), datetime.min.time()).astimezone())
