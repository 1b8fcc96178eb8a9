"""Changes to a session's record after the fact: the clinic's label, and a note's text.

Both are journaled as events of that session (the original row is never changed), so the report shows the
latest text and the journal keeps every version. They run on the core loop, which alone queues rows for the
journal's writer, and need only the session runner (its journal, its running session, its `emit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from room_controller.errors import NotFound

if TYPE_CHECKING:
    from room_controller.core.session import SessionRunner


def relabel(runner: SessionRunner, session_id: int, label: str) -> dict:
    session = runner.journal.read.session(session_id)
    if session is None:
        raise NotFound(f"there is no session {session_id}")
    runner.journal.set_label(session_id, label)
    running = runner.session
    if running is not None and running.id == session_id:
        running.label = label
    _record(runner, session_id, "label_changed", label=label, was=session["label"])
    return {"session": session_id, "label": label}


def edit_note(runner: SessionRunner, session_id: int, event_id: int, text: str) -> dict:
    notes = runner.journal.read.events(session_id, ["note", "note_edited"])
    if not any(row.id == event_id and row.kind == "note" for row in notes):
        raise NotFound(f"session {session_id} has no note {event_id}")
    was = [row.data["text"] for row in notes if row.id == event_id or row.data.get("note") == event_id][-1]
    _record(runner, session_id, "note_edited", note=event_id, text=text, was=was)
    return {"session": session_id, "note": event_id, "text": text}


def _record(runner: SessionRunner, session_id: int, kind: str, **data) -> None:
    """Through `emit` while the session runs (live panels see it); straight into the journal after it."""
    running = runner.session
    if running is not None and running.id == session_id:
        runner.emit(kind, **data)
    else:
        runner.journal.append(kind, data, wall=runner.clock.wall(), mono=runner.clock.monotonic(), session_id=session_id)
