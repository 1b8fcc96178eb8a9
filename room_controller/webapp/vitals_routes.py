"""The vitals' HTTP handlers (webapp.routes lists them): plain functions of the room and the request; the
record they read and the desk they call are the vitals package's.

Entering, correcting and reading a session's vitals is the therapist's (the PIN or the api_token);
exporting and deleting a session's record is the clinic tools' (the admin PIN or the api_token).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from room_controller.errors import Invalid, NotFound
from room_controller.reporting.times import clock_text, wall_text
from room_controller.vitals import record
from room_controller.vitals.model import UNITS, VALUES, Entry, Values
from room_controller.webapp.reply import Reply

if TYPE_CHECKING:
    from room_controller.core.room import Room


def add(room: Room, body: Entry) -> dict:
    return room.loop.call(room.vitals.add, body)


def correct(room: Room, body: Values, event_id: int) -> dict:
    return room.loop.call(room.vitals.correct, event_id, body)


def seen(room: Room, event_id: int) -> dict:
    """A notice is named by the event that raised it."""
    return room.loop.call(room.vitals.seen, event_id)


def session_vitals(room: Room, session_id: int) -> dict:
    """A session's readings (as corrected, each with its original), stored pulse and notices."""
    with room.journal.reader() as reader:
        session = reader.session(session_id)
        if session is None:
            raise NotFound(f"there is no session {session_id}")
        rows = reader.events(session_id, record.KINDS + ("vitals_deleted",))
    return {"session": {k: v for k, v in session.items() if k != "profile"},
            "readings": record.readings(rows), "pulse": record.pulse_rows(rows),
            "notices": [{"event": r.id, "at_s": r.session_s, "kind": r.kind, "crossed": r.data.get("crossed", [])}
                        for r in rows if r.kind == "pulse_limit" or (r.kind == "vitals" and r.data.get("crossed"))],
            "deleted": [{"wall": r.wall, "rows": r.data.get("rows")} for r in rows if r.kind == "vitals_deleted"]}


def export(room: Room, session_id: int, format: str = "json") -> Any:
    if format not in ("json", "csv"):
        raise Invalid("format is json or csv")
    data = session_vitals(room, session_id)
    if format == "json":
        return data
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", "session_time", "kind", *(f"{k} ({UNITS[k]})" for k in VALUES), "limits", "original"])
    for r in data["readings"]:
        writer.writerow([wall_text(r["taken_wall"]), clock_text(r["at_s"]), "reading", *(r.get(k, "") for k in VALUES),
                         "; ".join(c["value_name"] + " " + c["side"] for c in r["crossed"]),
                         "; ".join(f"{k}={v}" for k, v in r.get("original", {}).items())])
    for p in data["pulse"]:
        writer.writerow([wall_text(p["wall"]), clock_text(p["at_s"]), f"live pulse (min {p['min']:g}, max {p['max']:g}, "
                         f"{p['n']} values)", "", "", p["bpm"], "", "", ""])
    return Reply(out.getvalue().encode(), "text/csv")


def delete(room: Room, session_id: int) -> dict:
    return room.loop.call(room.vitals.delete, session_id)
