"""The session report: what happened when, for integration sessions and records — built from the journal.

Spans (phases, presets, tracks) are read off the events that open and close them; everything else is a
point in time. A phase move that was undone leaves no phase of its own: the phase it left goes on, with a
note of the move (its `undone`), and `undone_moves` names the move's events. A restart in the middle of a
phase is a recovery (`recoveries`), not a second phase. JSON for programs, CSV for a
spreadsheet: the raw record, event names and all, for integration tools (the HTML page puts it in words,
`html.py`). Nothing identifies the client: a session has only the label the clinic gave it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from room_controller.journal.store import Row
from room_controller.reporting import vitals_report
from room_controller.reporting.times import clock_text, wall_text

SPANS = {
    # kind that opens a span -> (span list, the kinds that close it, how to name it, what else it keeps)
    "phase_entered": ("phases", ("phase_entered", "session_stopped"), lambda d: d["name"], ("planned_s",)),
    "preset_on": ("presets", ("preset_on", "preset_off", "session_stopped"), lambda d: d["preset"], ()),
    "track_started": ("tracks", ("track_started", "silence", "session_stopped"), lambda d: d["title"],
                      ("file", "playlist")),
}
POINTS = {"note": "notes", "reminder_shown": "reminders", "manual_change": "adjustments",
          "session_paused": "pauses", "session_resumed": "pauses", "session_recovered": "recoveries",
          "device_offline": "problems", "audio_error": "problems", "track_skipped": "problems",
          "dose_warning": "problems"}


def build(session: dict, rows: Iterable[Row], events: bool = True) -> dict:
    """The report in one pass over `rows` (a list, or the journal read as it goes); with `events`, the raw
    events too (a streamed report writes them itself: `json_chunks`)."""
    report: dict = {"session": {k: v for k, v in session.items() if k != "profile"},
                    "phases": [], "presets": [], "tracks": [], "notes": [], "reminders": [], "adjustments": [],
                    "pauses": [], "recoveries": [], "problems": [], "undone_moves": [], "volumes": [], "alerts": []}
    open_spans: dict[str, dict] = {}
    move: dict | None = None   # the last phase move (or set session time): an undo takes back this one
    end_s, dose, vitals_rows, raw = 0.0, None, [], []
    for row in rows:
        at = row.session_s or 0.0
        end_s = max(end_s, at)
        dose = _dose_after(dose, row)
        if row.kind in vitals_report.KINDS:
            vitals_rows.append(row)
        if events:
            raw.append(row.as_dict())
        move = _follow(report, open_spans, move, row, at)
        if row.kind == "phase_entered" and (row.data.get("returned") or row.data.get("recovered")) and \
                open_spans.get("phases", {}).get("name") == row.data.get("name"):
            continue   # the phase goes on: the undone move left it, or the room restarted in it
        for name, closers, _, _ in SPANS.values():
            if row.kind in closers and name in open_spans:
                open_spans.pop(name)["end_s"] = at
        if row.kind in SPANS:
            name, _, label, keep = SPANS[row.kind]
            span = {"name": label(row.data), "start_s": at, "end_s": None, "wall": row.wall,
                    **{key: row.data.get(key) for key in keep}}
            report[name].append(span)
            open_spans[name] = span
        if row.kind in POINTS:
            report[POINTS[row.kind]].append({"at_s": at, "wall": row.wall, "kind": row.kind, "event": row.id,
                                             **row.data})
        if row.kind == "music_changed" and "volume" in row.data:   # asked, and what the room played
            report["volumes"].append({"at_s": at, "asked": row.data["volume"],
                                      "played": row.data.get("played", row.data["volume"])})
        if row.kind == "note_edited":   # the note shows its latest text; the journal keeps every version
            for note in report["notes"]:
                if note["event"] == row.data["note"]:
                    note.setdefault("original", note["text"])
                    note["text"] = row.data["text"]
        if row.kind == "alert_raised":   # what the clinic floor was told, and who saw it
            report["alerts"].append({"at_s": at, "wall": row.wall, "event": row.id, **row.data, "seen": None})
        if row.kind == "alert_seen":
            for alert in report["alerts"]:
                if alert["id"] == row.data.get("id"):
                    alert["seen"] = {"by": row.data.get("by"), "at": row.data.get("at")}
        if row.kind == "reminder_acknowledged":
            for reminder in report["reminders"]:
                if reminder["reminder"] == row.data["reminder"]:
                    reminder["acknowledged_s"] = at
    for span in open_spans.values():
        span["end_s"] = end_s if session.get("ended_wall") else None
    for reminder in report["reminders"]:
        reminder.setdefault("acknowledged_s", None)
    report["presets_used"] = presets_used(report["presets"])
    report["dose"] = dose
    report["end_s"] = end_s
    report.update(vitals_report.section(vitals_rows))   # readings and the stored pulse
    if events:
        report["events"] = raw
    return report


def _follow(report: dict, open_spans: dict[str, dict], move: dict | None, row: Row, at: float) -> dict | None:
    """The last move and the phases it began, until its undo takes them back (the runner undoes only the last)."""
    if row.kind in ("phase_moved", "session_clock_set"):
        return {"kind": row.kind, "at_s": at, "events": [row.id], "index": len(report["phases"])}
    if move is not None and row.kind == "phase_entered" and not row.data.get("returned"):
        move["events"].append(row.id)
    if move is None or row.kind != "phase_undone":
        return move
    dropped = report["phases"][move["index"]:]
    del report["phases"][move["index"]:]
    open_spans.pop("phases", None)
    undone = {"kind": "clock" if move["kind"] == "session_clock_set" else "move", "at_s": move["at_s"],
              "to": dropped[0]["name"] if dropped else row.data.get("moved_to"), "after_s": row.data.get("after_s"),
              "events": move["events"]}
    report["undone_moves"].append(undone)
    left = report["phases"][-1] if report["phases"] else None
    if left is not None:
        left.setdefault("undone", []).append(undone)
        if left["name"] == row.data.get("back_to"):   # else the phase it left had run out meanwhile
            left["end_s"] = None
            open_spans["phases"] = left
    return None


def json_chunks(report: dict, rows: Iterable[Row]) -> Iterator[str]:
    """The JSON report with its raw events written one by one as `rows` are read."""
    head = json.dumps(report)
    yield head[:-1] + ', "events": ['
    for i, row in enumerate(rows):
        yield ("," if i else "") + json.dumps(row.as_dict())
    yield "]}"


def presets_used(spans: list[dict]) -> list[dict]:
    """Each preset once: how often it came on and for how long in all (a span still open counts to now)."""
    used: dict[str, dict] = {}
    for span in spans:
        entry = used.setdefault(span["name"], {"name": span["name"], "times": 0, "seconds": 0.0})
        entry["times"] += 1
        entry["seconds"] += (span["end_s"] or span["start_s"]) - span["start_s"]
    return list(used.values())


def music_groups(report: dict) -> list[dict]:
    """The music in a few groups, for the summary: the tracks of each phase by playlist, and those played
    under a preset (calm changes the track at every press) by preset and playlist across phases, after the
    phases'. Each: `phase` or `preset`, `playlist` (None in older records), `tracks`, `seconds`."""
    groups: dict[tuple, dict] = {}
    for track in report["tracks"]:
        at = track["start_s"]
        preset = next((p["name"] for p in report["presets"]
                       if p["start_s"] <= at and (p["end_s"] is None or at < p["end_s"])), None)
        phase = None if preset else next((p["name"] for p in reversed(report["phases"]) if p["start_s"] <= at), None)
        key = (phase, preset, track.get("playlist"))
        group = groups.setdefault(key, {"phase": phase, "preset": preset, "playlist": key[2], "tracks": 0,
                                        "seconds": 0.0})
        group["tracks"] += 1
        group["seconds"] += (track["end_s"] if track["end_s"] is not None else at) - at
    return sorted(groups.values(), key=lambda g: g["preset"] is not None)   # stable: in order of first play


def _dose_after(dose: dict | None, row: Row) -> dict | None:
    """The session's sound dose as the music last said it: the session's end carries the final figure,
    a running or crashed session the last step reached. None when the room never said (no music, or an
    older record); `{"percent": None}` when the room is not calibrated."""
    if row.kind in ("dose_step", "dose_warning") and row.data.get("dose") is not None:
        return {"percent": row.data["dose"], "final": False}
    if row.kind == "session_stopped" and "dose" in row.data:
        return {"percent": row.data["dose"], "final": True}
    return dose


def playing_at(report: dict, session_s: float) -> dict | None:
    """What was playing at a session time: "what was playing when she cried?"."""
    for track in report["tracks"]:
        if track["start_s"] <= session_s and (track["end_s"] is None or session_s < track["end_s"]):
            return track
    return None


def csv_chunks(rows: Iterable[Row]) -> Iterator[str]:
    """The raw record as CSV, a line at a time as `rows` are read."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time", "session_time", "event", "details"])
    for row in rows:
        writer.writerow([wall_text(row.wall), clock_text(row.session_s), row.kind, details(row.data)])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def to_csv(rows: Iterable[Row]) -> str:
    return "".join(csv_chunks(rows))


def details(data: dict) -> str:
    """An event's data on one line (the timeline copies are for recovery, not for people)."""
    return "; ".join(f"{k}={v}" for k, v in data.items() if k != "timeline")
