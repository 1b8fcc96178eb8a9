"""Changes to a session's record after the fact: the clinic's label, and a note's text.

Both are journaled as events of that session (the original row is never changed), so the report shows the
latest text and the journal keeps every version. They run on the core loop, which alone queues rows for the journal's writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from room_controller.errors import NotFound

if TYPE_CHECKING:
    from room_controller.core.room import Room


def relabel(room: Room, session_id: int, label: str) -> dict:
    session = room.journal.read.session(session_id)
    if session is None:
        raise NotFound(f"there is no session {session_id}")
    room.journal.set_label(session_id, label)
    running = room.session.session
    if running is not None and running.id == session_id:
        running.label = label
    _record(room, session_id, "label_changed", label=label, was=session["label"])
    return {"session": session_id, "label": label}


def edit_note(room: Room, session_id: int, event_id: int, text: str) -> dict:
    notes = room.journal.read.events(session_id, ["note", "note_edited"])
    if not any(row.id == event_id and row.kind == "note" for row in notes):
        raise NotFound(f"session {session_id} has no note {event_id}")
    was = [row.data["text"] for row in notes if row.id == event_id or row.data.get("note") == event_id][-1]
    _record(room, session_id, "note_edited", note=event_id, text=text, was=was)
    return {"session": session_id, "note": event_id, "text": text}


def _record(room: Room, session_id: int, kind: str, **data) -> None:
    """Through `emit` while the session runs (live panels see it); straight into the journal after it."""
    running = room.session.session
    if running is not None and running.id == session_id:
        room.emit(kind, **data)
    else:
        room.journal.append(kind, data, wall=room.clock.wall(), mono=room.clock.monotonic(), session_id=session_id)
