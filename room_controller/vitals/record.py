"""A session's vitals as the journal holds them: readings with their corrections, the stored pulse, the
notices; and the clinic tools' delete, which removes those rows for good.

Every row that holds a value of the client's body is of one of KINDS, so a delete that removes those kinds
removes the health data and keeps the rest of the record (phases, presets, music). The delete runs with
SQLite's secure_delete (freed pages are overwritten) and then checkpoints the write-ahead log, so no copy
stays in the database's files; backups taken before are the clinic's to handle (docs/vitals.md).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from room_controller.journal.store import Row
from room_controller.vitals.model import VALUES

KINDS = ("vitals", "vitals_corrected", "vitals_notice_seen", "pulse", "pulse_limit", "pulse_stale")


def readings(rows: list[Row]) -> list[dict]:
    """Each reading as last corrected, with `original` (what was first entered) when it was corrected, and
    `limits`: the sources it was checked against ([] none: recorded, not checked; None: a record from before
    readings said)."""
    out: dict[int, dict] = {}
    for row in rows:
        if row.kind == "vitals":
            out[row.id] = {"event": row.id, "wall": row.wall, "at_s": row.data.get("taken_s", row.session_s or 0.0),
                           "taken_wall": row.data.get("taken_wall", row.wall),
                           **{k: row.data[k] for k in VALUES if k in row.data},
                           "crossed": row.data.get("crossed", []), "limits": row.data.get("limits")}
        elif row.kind == "vitals_corrected" and row.data.get("reading") in out:
            reading = out[row.data["reading"]]
            reading.setdefault("original", {k: reading[k] for k in VALUES if k in reading})
            for key in VALUES:
                reading.pop(key, None)
            reading.update({k: row.data[k] for k in VALUES if k in row.data})
            reading["crossed"] = row.data.get("crossed", [])
            reading["limits"] = row.data.get("limits", reading["limits"])
            reading["corrected_wall"] = row.wall
    return sorted(out.values(), key=lambda r: (r["at_s"], r["event"]))


def pulse_rows(rows: list[Row]) -> list[dict]:
    return [{"at_s": row.session_s or 0.0, "wall": row.wall, **row.data} for row in rows if row.kind == "pulse"]


def notices_open(rows: list[Row]) -> list[Row]:
    """Rows that raised a notice (a reading over a limit, the live pulse over one) not yet marked as seen."""
    seen = {row.data.get("notice") for row in rows if row.kind == "vitals_notice_seen"}
    return [row for row in rows if row.id not in seen and (row.kind == "pulse_limit" or
                                                            (row.kind == "vitals" and row.data.get("crossed")))]


def event(path: Path, event_id: int) -> tuple[int | None, str, dict] | None:
    """(session, kind, data) of one journal row, read with a connection of its own."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        found = db.execute("SELECT session_id, kind, data FROM events WHERE id=?", (event_id,)).fetchone()
    return None if found is None else (found[0], found[1], json.loads(found[2]))


def delete(db: sqlite3.Connection, session_id: int) -> int:
    """Remove a session's health-data rows for good, on the journal's writing connection (so after every row
    queued before, and never beside a batch); how many there were."""
    db.execute("PRAGMA secure_delete=ON")
    try:
        with db:
            count = db.execute(f"DELETE FROM events WHERE session_id=? AND kind IN ({','.join('?' * len(KINDS))})",
                               (session_id, *KINDS)).rowcount
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.execute("PRAGMA secure_delete=OFF")
    return count
