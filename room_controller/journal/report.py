"""The session report: what happened when, for integration sessions and records — built from the journal.

Spans (phases, presets, tracks) are read off the events that open and close them; everything else is a
point in time. JSON for programs, CSV for a spreadsheet. Nothing identifies the client: a session has only
the label the clinic gave it.
"""

from __future__ import annotations

import csv
import io
import time

from room_controller.journal.store import Row

SPANS = {
    # kind that opens a span -> (span list, the kinds that close it, how to name it)
    "phase_entered": ("phases", ("phase_entered", "session_stopped"), lambda d: d["name"]),
    "preset_on": ("presets", ("preset_on", "preset_off", "session_stopped"), lambda d: d["preset"]),
    "track_started": ("tracks", ("track_started", "silence", "session_stopped"), lambda d: d["title"]),
}
POINTS = {"note": "notes", "reminder_shown": "reminders", "manual_change": "adjustments",
          "session_paused": "pauses", "session_resumed": "pauses", "session_recovered": "recoveries",
          "device_offline": "problems", "audio_error": "problems", "track_skipped": "problems",
          "dose_warning": "problems"}


def build(session: dict, rows: list[Row]) -> dict:
    report: dict = {"session": {k: v for k, v in session.items() if k != "profile"},
                    "phases": [], "presets": [], "tracks": [], "notes": [], "reminders": [], "adjustments": [],
                    "pauses": [], "recoveries": [], "problems": []}
    open_spans: dict[str, dict] = {}
    end_s = 0.0
    for row in rows:
        at = row.session_s or 0.0
        end_s = max(end_s, at)
        for name, closers, _ in SPANS.values():
            if row.kind in closers and name in open_spans:
                open_spans.pop(name)["end_s"] = at
        if row.kind in SPANS:
            name, _, label = SPANS[row.kind]
            span = {"name": label(row.data), "start_s": at, "end_s": None, "wall": row.wall}
            if row.kind == "track_started":
                span["file"] = row.data.get("file")
            report[name].append(span)
            open_spans[name] = span
        if row.kind in POINTS:
            report[POINTS[row.kind]].append({"at_s": at, "wall": row.wall, "kind": row.kind, "event": row.id,
                                             **row.data})
        if row.kind == "note_edited":   # the note shows its latest text; the journal keeps every version
            for note in report["notes"]:
                if note["event"] == row.data["note"]:
                    note.setdefault("original", note["text"])
                    note["text"] = row.data["text"]
    for span in open_spans.values():
        span["end_s"] = end_s if session.get("ended_wall") else None
    report["events"] = [r.as_dict() for r in rows]
    return report


def playing_at(report: dict, session_s: float) -> dict | None:
    """What was playing at a session time: "what was playing when she cried?"."""
    for track in report["tracks"]:
        if track["start_s"] <= session_s and (track["end_s"] is None or session_s < track["end_s"]):
            return track
    return None


def to_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", "session_time", "event", "details"])
    for row in rows:
        writer.writerow([wall_text(row.wall), clock_text(row.session_s), row.kind, details(row.data)])
    return out.getvalue()


def details(data: dict) -> str:
    """An event's data on one line (the timeline copies are for recovery, not for people)."""
    return "; ".join(f"{k}={v}" for k, v in data.items() if k != "timeline")


def wall_text(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = int(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
