"""The clinic file's `day:` as `room-controller check` reads it: each mistake by file, line and field, from the
room file that names the clinic file and from the clinic file itself; and a room file's `clinic:` that names no file."""

from __future__ import annotations

from pathlib import Path

from room_controller.checks import check_paths
from room_controller.integrations.overview import load_clinic
from tests.rooms import write_room

ROOT = Path(__file__).resolve().parents[2]

CLINIC = """mqtt: {host: 127.0.0.1}
day:
  calendar: ftp://clinic.example/day.ics
  prepare_ahead: soon
  bookings:
    - {room: room-1, profile: psilocybin-8h, start: "2026-12-08 09:00"}
    - {room: room-1, profile: psilocybin-8h, start: tomorrow}
    - {room: room-1, profil: psilocybin-8h, start: "2026-12-09 09:00"}
"""


class Broker:
    host, port = "127.0.0.1", 1883


def test_a_bad_day_is_named_by_file_line_and_field(tmp_path):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(CLINIC)
    room = write_room(tmp_path, Broker(), "room-1", [], clinic="clinic.yaml",
                      profiles_dir=str(ROOT / "deploy" / "profiles"), playlists_dir=str(ROOT / "playlists"))
    said = [str(p) for p in check_paths([room])]
    assert said == [
        f"{clinic}:3: day.calendar: a calendar is a file or an http:// or https:// URL",
        f"{clinic}:4: day.prepare_ahead: 'soon' is not a duration; write it like 90s, 20m, 1h30m or 250ms",
        f"{clinic}:7: day.bookings[1].start: a start is a local date and time, e.g. \"2026-12-08 09:00\"",
        f"{clinic}:8: day.bookings[2].profil: unknown key 'profil'; did you mean 'profile'?",
    ]
    assert [str(p) for p in check_paths([clinic])] == said   # the overview's own check of the file says the same


def test_a_clinic_key_naming_no_file(tmp_path):
    room = write_room(tmp_path, Broker(), "room-1", [], clinic="missing.yaml",
                      profiles_dir=str(ROOT / "deploy" / "profiles"), playlists_dir=str(ROOT / "playlists"))
    line = next(i for i, text in enumerate(room.read_text().splitlines(), 1) if text.startswith("clinic:"))
    assert [str(p) for p in check_paths([room])] == [f"{room}:{line}: clinic: no such file"]


def test_a_good_day_loads_for_the_overview_and_the_room(tmp_path):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("day:\n  calendar: bookings.ics\n  refresh: 2m\n  bookings:\n"
                      "    - {room: room-1, profile: psilocybin-8h, start: 2026-12-08 09:00}\n")
    day = load_clinic(clinic).day
    assert day is not None and (day.calendar, day.refresh, day.prepare_ahead) == ("bookings.ics", 120.0, 900.0)
    assert day.bookings[0].start.isoformat() == "2026-12-08T09:00:00"
