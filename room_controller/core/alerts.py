"""Rooms that call for help: alerts for the clinic floor, on MQTT (docs/interface.md, "Alerts").

A therapist in a session does not leave the client's side, so the room itself tells the people who can help.
It follows the room from outside its core (app.App wires it): the room's events say what happened (the
emergency light on or off, a reading beyond a limit, a scheduled reading missed, calm pressed where the clinic
asks for it), and each new snapshot which problems affect the running session. Each alert names the room, the
session's phase and time and what happened, and never a note, the session's label or a reading's value
(docs/vitals.md): a limit crossed says which measure, on which side and whose limit, not the value.

An alert is journaled (`alert_raised`) and published once on `<room>/alert` (QoS 1, not retained); the retained
`<room>/alerts` lists those not yet acknowledged, at every change. While the broker cannot be reached the unsent
alerts wait, in order, and go out when it is back, the list after them. An acknowledgement on `<room>/alert/ack`
(the overview's "Seen") is journaled (`alert_seen`) and shown on the panel. After a restart the numbering, the
list and what the panel shows are read back from the journal.

It is given only what it uses (app.App wires it): the room's configuration as it is now, the journal it reads
back, the clock, the intake that gates acknowledgements to the core, the running session's snapshot, the room's
`emit` (journal an event, tell the followers) and `touch` (a new snapshot), and the link's publish.

Runs on the core loop; `offer_ack` runs on paho's thread and only parses and hands on.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from room_controller.alert_kinds import URGENT
from room_controller.lighting.state import MqttMessage
from room_controller.pace import Budget

if TYPE_CHECKING:
    from room_controller.config import RoomConfig
    from room_controller.core.intake import Intake
    from room_controller.infrastructure.clock import Clock
    from room_controller.journal.store import Journal

log = logging.getLogger(__name__)

OPEN_MAX = 50       # alerts kept on the retained list: the oldest unacknowledged ones go first
SHOWN_MAX = 10      # alerts the panel lists (since the session began)
ACK_PACE = 0.25     # seconds: one alert's acknowledgements reach the core at most this often
BY_MAX = 80         # characters of who acknowledged
OFFLINE_PACE = 600.0   # seconds: a light that keeps dropping off raises one offline alert in this time, the first at once
MEASURES = {"systolic": "Systolic blood pressure", "diastolic": "Diastolic blood pressure", "pulse": "Pulse",
            "temperature": "Temperature", "blood_pressure": "blood pressure"}
PROBLEMS = {   # the problems that affect a session: the room's problem key, the alert's code and words
    "journal": ("journal", "The journal cannot be written: the session's record is at risk"),
    "session_clock": ("session_clock", "The session time is in doubt after a restart (clock not synchronised)"),
}


def iso(wall: float) -> str:
    """A wall time as ISO 8601 with this computer's offset."""
    return datetime.fromtimestamp(wall, UTC).astimezone().isoformat(timespec="seconds")


def parse_ack(payload: bytes) -> dict:
    """An acknowledgement `{"id", "by", "at"}`; ValueError in a few words for anything else."""
    try:
        ack = json.loads(payload)
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from None
    if not isinstance(ack, dict):
        raise ValueError('an acknowledgement is {"id": ..., "by": ..., "at": ...}')
    found = {}
    for key in ("id", "by", "at"):
        value = ack.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{key!r} must be a non-empty string")
        found[key] = "".join(c for c in value.strip() if c.isprintable())
    if len(found["id"]) > 200 or len(found["by"]) > BY_MAX:
        raise ValueError(f"'id' or 'by' is too long (at most {BY_MAX} characters of who it was)")
    try:
        datetime.fromisoformat(found["at"])
    except ValueError:
        raise ValueError("'at' is not an ISO 8601 time") from None
    return found


class Alerts:
    def __init__(self, config: Callable[[], RoomConfig], journal: Journal, clock: Clock, intake: Intake, *,
                 session: Callable[[], dict | None], emit: Callable[..., bool], touch: Callable[[], None],
                 publish: Callable[[MqttMessage], bool]) -> None:
        """`config`: the room's configuration as it is now (the preset editor replaces it); `session`: the running
        session's snapshot, None without one."""
        self._config, self._journal, self._clock, self._intake = config, journal, clock, intake
        self._session, self._emit, self._touch, self._publish = session, emit, touch, publish
        prefix = config().topic_prefix
        self.alert_topic, self.list_topic, self.ack_topic = f"{prefix}/alert", f"{prefix}/alerts", f"{prefix}/alert/ack"
        self._count = 0
        self._open: dict[str, dict] = {}              # not yet acknowledged, oldest first
        self._open_ids: frozenset[str] = frozenset()  # the same ids, for paho's thread
        self._unsent: deque[dict] = deque()           # raised while the broker could not be reached, in order
        self._shown: dict[str, dict] = {}             # the panel's list: what went out, and who saw it
        self._problems: set[str] = set()              # the codes of the affecting problems already said
        self._offline: dict[str, Budget] = {}         # per light: its offline alerts, paced
        self._list_sent: str | None = None            # the retained list as last published
        self._standing: str | None = None             # the preset that held the room when the service stopped

    # -- start-up (core loop) ---------------------------------------------------------------------------------

    def restore(self) -> None:
        """The numbering, the unacknowledged alerts and the panel's list, from the journal; and the preset that
        held the room, which recovery puts back: no news (its alert went out when it was pressed)."""
        self._standing = (self._journal.standing.state or {}).get("preset")
        rows = self._journal.call(lambda db: db.execute(
            "SELECT id, kind, data FROM events WHERE kind IN ('alert_raised', 'alert_seen', 'session_started') "
            "ORDER BY id").fetchall())
        for _, kind, text in rows:
            data = json.loads(text)
            if kind == "session_started":
                self._shown.clear()
            elif kind == "alert_raised":
                self._count = max(self._count, _number(data.get("id", "")))
                self._keep(data, sent=True)
            elif kind == "alert_seen":
                self._acknowledged(data)

    # -- what the room does and shows (core loop) ---------------------------------------------------------------

    def event(self, kind: str, data: dict) -> None:
        """Every event of the room, as it is journaled."""
        if kind in ("preset_on", "preset_off"):
            standing, self._standing = self._standing, None
            if kind == "preset_on" and data.get("preset") == standing:
                return   # the room put back what held it before a restart
        if kind == "preset_on" and data.get("preset") == "emergency":
            self._raise("emergency_on", "Emergency light switched on", {})
        elif kind == "preset_off" and data.get("preset") == "emergency":
            self._raise("emergency_off", "Emergency light released", {})
        elif kind == "preset_on" and data.get("preset") == "calm" and self._config().alerts.calm_pressed:
            self._raise("calm_pressed", "Calm pressed", {})
        elif kind in ("vitals", "pulse_limit"):
            for crossing in data.get("crossed") or ():
                self._beyond(crossing, live=kind == "pulse_limit")
        elif kind == "vitals_missed":
            self._missed(data)
        elif kind == "session_started":
            self._shown.clear()
        elif kind == "mqtt_connected":
            self._send(again=True)

    def review(self, snapshot: dict) -> dict:
        """Before each new snapshot: an alert for each problem that newly affects the running session; what the
        snapshot adds (the panel's list)."""
        affecting = self._affecting(snapshot) if snapshot.get("session") else {}
        for code, (what, detail) in affecting.items():
            if code not in self._problems and self._news(detail):
                self._raise("problem", what, detail)
        self._problems = set(affecting)
        return {"alerts": [dict(shown) for shown in self._shown.values()]}

    def _affecting(self, snapshot: dict) -> dict[str, tuple[str, dict]]:
        found: dict[str, tuple[str, dict]] = {}
        keys = snapshot.get("problem_keys", ())
        labels = {lc.id: lc.label for lc in self._config().lights} if any(k.startswith("light:") for k in keys) else {}
        for key in keys:
            if key.startswith("light:") and key[6:] in labels:
                found[key] = (f"Light offline: {labels[key[6:]]}",
                              {"problem": "light_offline", "light": key[6:], "label": labels[key[6:]]})
            elif key in PROBLEMS:
                code, what = PROBLEMS[key]
                found[key] = (what, {"problem": code})
        audio = snapshot.get("audio") or {}
        if audio.get("health") == "error" and audio.get("problem"):
            found["music"] = ("The music stopped", {"problem": "music"})
        return found

    def _news(self, detail: dict) -> bool:
        """A light offline again within OFFLINE_PACE of its last alert is no news to the floor: a flapping light
        would page someone every minute (its panel still shows it, and the journal has each change)."""
        light = detail.get("light")
        if light is None:
            return True
        return self._offline.setdefault(light, Budget(1, OFFLINE_PACE)).take(self._clock.monotonic())

    def _beyond(self, crossing: dict, live: bool) -> None:
        """A limit crossed: the measure, the side and whose limit; never the value or the limit's number."""
        measure, side, source = crossing.get("value_name", "?"), crossing.get("side", "beyond"), crossing.get("source")
        whose = "an example limit (not set by this clinic)" if crossing.get("example") else f"the limit of {source}"
        what = f"{'Live pulse' if live else MEASURES.get(measure, measure)} {side} {whose}"
        self._raise("vitals_beyond_limit", what, {"measure": measure, "side": side, "limit_source": source,
                                                  "example": bool(crossing.get("example")), "live": live})

    def _missed(self, data: dict) -> None:
        missing = list(data.get("missing") or data.get("measure") or ())
        name = data.get("name") or ""
        what = f"Scheduled reading missed{f' ({name})' if name else ''}: " \
               + ", ".join(MEASURES.get(m, m).lower() if m != "pulse" else "pulse" for m in missing)
        self._raise("reading_missed", what, {"due_s": data.get("due_s"), "name": name, "missing": missing})

    def _raise(self, kind: str, what: str, detail: dict) -> None:
        self._count += 1
        session, room = self._session(), self._config().room
        alert = {"id": f"{room.id}-{self._count}", "room": room.id,
                 "room_name": room.name, "kind": kind, "urgent": kind in URGENT,
                 "phase": session["phase"]["name"] if session else None,
                 "session_s": session["elapsed_s"] if session else None,
                 "at": iso(self._clock.wall()), "what": what, "detail": detail}
        self._emit("alert_raised", **alert)
        self._keep(alert, sent=False)
        self._unsent.append(alert)
        self._send()

    def _keep(self, alert: dict, sent: bool) -> None:
        self._open[alert["id"]] = alert
        while len(self._open) > OPEN_MAX:
            del self._open[next(iter(self._open))]
        self._open_ids = frozenset(self._open)
        self._shown[alert["id"]] = {key: alert.get(key) for key in ("id", "kind", "urgent", "what", "at")} \
            | {"sent": sent, "seen": None}
        while len(self._shown) > SHOWN_MAX:
            del self._shown[next(iter(self._shown))]

    def _send(self, again: bool = False) -> None:
        """The unsent alerts in order, then the retained list if it changed (or, `again`, after a reconnect)."""
        while self._unsent:
            alert = self._unsent[0]
            if not self._publish(MqttMessage(self.alert_topic, _json(alert), qos=1, retain=False)):
                return   # the broker is away: the rest wait behind it, and the list after them
            self._unsent.popleft()
            if alert["id"] in self._shown:
                self._shown[alert["id"]]["sent"] = True
            self._touch()
        listed = _json(list(self._open.values()))
        if (again or listed != self._list_sent) \
                and self._publish(MqttMessage(self.list_topic, listed, qos=1, retain=True)):
            self._list_sent = listed

    # -- acknowledgements --------------------------------------------------------------------------------------

    def offer_ack(self, payload: bytes, retained: bool) -> None:
        """paho's thread: a bad or unknown acknowledgement raises ValueError, which the link logs in one short
        line per minute and ignores; a good one reaches the core through the intake."""
        if retained:
            raise ValueError("a retained acknowledgement is old news: it is sent live")
        ack = parse_ack(payload)
        if ack["id"] not in self._open_ids:
            raise ValueError(f"no alert {ack['id'][:60]!r} waits for an acknowledgement")
        self._intake.offer(("alert_ack", ack["id"]), ack, self._seen, interval=ACK_PACE)

    def _seen(self, ack: dict) -> None:
        alert = self._open.get(ack["id"])
        if alert is None:
            log.info("alert %s was acknowledged already", ack["id"][:60])
            return
        self._emit("alert_seen", id=ack["id"], kind=alert["kind"], by=ack["by"], at=ack["at"])
        self._acknowledged(ack)
        self._send()

    def _acknowledged(self, ack: dict) -> None:
        self._open.pop(ack.get("id", ""), None)
        self._open_ids = frozenset(self._open)
        shown = self._shown.get(ack.get("id", ""))
        if shown is not None:
            shown["seen"] = {"by": ack.get("by"), "at": ack.get("at")}
        self._touch()


def _number(alert_id: str) -> int:
    tail = alert_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _json(body: object) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)
