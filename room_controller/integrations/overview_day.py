"""The clinic's day as the floor's screen shows it: each room's retained `<base_topic>/<room>/day` (docs/
interface.md, "The clinic's day") read as untrusted input, and every room's plan merged into one list by
start time, with the plans' problems named by room.

Only what the screen shows is kept. What anyone allowed to publish under the base topic could grow is bounded:
a payload of at most MAX_BYTES, MAX_BOOKINGS bookings and MAX_PROBLEMS problems a room.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

from room_controller.integrations.received import moment, optional_text, text

MAX_BYTES = 64 * 1024   # a room's two days of bookings take a few kB
MAX_BOOKINGS = 50       # today's and tomorrow's: more than one an hour
MAX_PROBLEMS = 20
LONGEST_S = 7 * 86400
STATES = frozenset({"planned", "preparing", "ready", "started", "done", "missed", "problem"})
CODE = re.compile(r"[a-z][a-z_]{0,39}")   # a problem's code: the screen says the ones it knows in its own words


def take_day(payload: bytes, room_id: str) -> tuple[dict | None, str | None]:
    """The room's day (None: the room cleared it) and what was left out of it, or ValueError saying why the
    whole payload is not a day. A booking or problem that is not one is left out and said, as an alert in a
    room's list is."""
    if not payload:
        return None, None
    if len(payload) > MAX_BYTES:
        raise ValueError(f"a room's day is at most {MAX_BYTES // 1024} kB")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("a room's day is a JSON object")
    if data.get("room") != room_id:
        raise ValueError("the day's room is not the topic's")
    moment(data, "at", "the day's")
    items, problems = data.get("bookings"), data.get("problems")
    if not isinstance(items, list) or not isinstance(problems, list):
        raise ValueError("a day's bookings and problems are JSON arrays")
    bookings, left_out = _keep(items[:MAX_BOOKINGS], booking)
    kept_problems, bad_problems = _keep(problems[:MAX_PROBLEMS], problem)
    day = {"at": data["at"], "next": None if data.get("next") is None else booking(data["next"]),
           "bookings": bookings, "problems": kept_problems}
    said = [f"{n} of {len(whole)} {what}" for n, whole, what in ((left_out, items, "bookings"),
                                                                   (bad_problems, problems, "problems")) if n]
    return day, f"left out {' and '.join(said)} that were not what the day says" if said else None


def booking(data: object) -> dict:
    """One booking of the contract as the screen shows it (its kind and preparation time stay with the room),
    or ValueError. A booking of a profile the room lacks has no name or length (null), and may name no profile."""
    if not isinstance(data, dict):
        raise ValueError("a booking is a JSON object")
    state, duration = data.get("state"), data.get("duration_s")
    if state not in STATES:
        raise ValueError(f"a booking's state is one of {', '.join(sorted(STATES))}")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float)
                                 or not math.isfinite(duration) or not 0 <= duration <= LONGEST_S):
        raise ValueError("a booking's duration_s is seconds (at most a week) or null")
    whose = "a booking's"
    t = moment(data, "start", whose)
    return {"id": text(data, "id", 100, whose), "profile": optional_text(data, "profile", 100, whose),
            "name": optional_text(data, "name", 100, whose), "start": data["start"], "t": t, "duration_s": duration,
            "state": state}


def problem(data: object) -> dict:
    """One problem of a plan: its booking's id (or null: the plan as a whole), the room's sentence and its code
    (unknown_profile, overlap, ...)."""
    if not isinstance(data, dict):
        raise ValueError("a plan's problem is a JSON object")
    whose = "a plan's problem's"
    code = optional_text(data, "code", 40, whose)
    if code is not None and not CODE.fullmatch(code):
        raise ValueError("a plan's problem's code is a short word such as overlap")
    return {"booking": optional_text(data, "booking", 100, whose), "what": text(data, "what", 300, whose), "code": code}


def floor_plan(rooms: Iterable[dict]) -> dict:
    """Every room's bookings as one list by start time, each with its room's id and name, and every plan's
    problems, each with its room and, when it names one, its booking's start and profile."""
    bookings, problems = [], []
    for room in rooms:
        day = room.get("day")
        if not day:
            continue
        named = {"room": room["id"], "room_name": room_name(room)}
        about = {b["id"]: {"start": b["start"], "profile": b["profile"]} for b in day["bookings"]}
        bookings += [b | named for b in day["bookings"]]
        problems += [p | named | about.get(p["booking"] or "", {"start": None, "profile": None})
                     for p in day["problems"]]
    bookings.sort(key=lambda b: (b["t"], b["room_name"], b["room"], b["id"]))
    return {"bookings": bookings, "problems": problems}


def room_name(room: dict) -> str:
    """The name the room gives itself in its state, else its id."""
    state = room.get("state")
    about = state.get("room") if isinstance(state, dict) else None
    name = about.get("name") if isinstance(about, dict) else None
    return name[:100] if isinstance(name, str) and name else room["id"]


def _keep(items: list, parse) -> tuple[list[dict], int]:
    kept = []
    for item in items:
        try:
            kept.append(parse(item))
        except ValueError:
            continue
    return kept, len(items) - len(kept)
