"""The clinic floor's alerts in the session report: what the room raised, who saw it and when, and a scheduled
reading missed, in sentences a clinician reads, in every language; from a journal written the way the room
writes it (real SQLite, `Journal`, the rows core/alerts.py and the vitals desk journal)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from room_controller import i18n
from room_controller.reporting import html, report, words
from tests.report.test_words import START, written

LANGUAGES = ["en", "de", "nl", "es", "pt"]


def iso(at: float) -> str:
    return datetime.fromtimestamp(START + at).astimezone().isoformat(timespec="seconds")


def raised(n: int, at: float, kind: str, what: str, detail: dict, urgent: bool = False) -> tuple:
    return (at, "alert_raised", {"id": f"room-2-{n}", "room": "room-2", "room_name": "Room 2", "kind": kind,
                                 "urgent": urgent, "phase": "Peak", "session_s": at, "at": iso(at), "what": what,
                                 "detail": detail})


EVENTS = [  # (session time, kind, data)
    (0, "session_started", {"profile": "psilocybin", "name": "Psilocybin", "label": "P-7"}),
    (0.0004, "phase_entered", {"index": 0, "name": "Peak", "planned_s": None, "transition_s": 60.0,
                               "recovered": False}),
    (8040, "preset_on", {"preset": "emergency", "replaced": None}),
    raised(1, 8040, "emergency_on", "Emergency light switched on", {}, urgent=True),
    (8100, "alert_seen", {"id": "room-2-1", "kind": "emergency_on", "by": "the front desk", "at": iso(8100)}),
    (8200, "vitals_missed", {"due_s": 7200.0, "name": "hourly", "missing": ["systolic", "pulse"]}),
    raised(2, 8200, "reading_missed", "Scheduled reading missed (hourly): systolic blood pressure, pulse",
           {"due_s": 7200.0, "name": "hourly", "missing": ["systolic", "pulse"]}),
    raised(3, 8300, "vitals_beyond_limit", "Live pulse above the limit of Clinic protocol v4",
           {"measure": "pulse", "side": "above", "limit_source": "Clinic protocol v4", "example": False,
            "live": True}, urgent=True),
    (8320, "alert_seen", {"id": "room-2-3", "kind": "vitals_beyond_limit", "by": "Dr. Haas", "at": iso(8320)}),
    raised(4, 8400, "problem", "Light offline: Ceiling lamp",
           {"problem": "light_offline", "light": "ceiling", "label": "Ceiling lamp"}),   # named as the room names it
    raised(5, 8460, "vitals_beyond_limit", "Systolic blood pressure below an example limit (not set by this clinic)",
           {"measure": "systolic", "side": "below", "limit_source": None, "example": True, "live": False}),
    (9000, "session_stopped", {"elapsed_s": 9000.0}),
]


@pytest.fixture
def record(tmp_path):
    with written(tmp_path, EVENTS, 9000) as session_and_events:
        yield session_and_events


def rows_said(page: str) -> list[str]:
    """The event table's words for the alert and missed-reading rows, as the page shows them."""
    found = re.findall(r'data-kind="(alert_raised|alert_seen|vitals_missed)"[^>]*>.*?<td>(.*?)</td></tr>', page)
    return [text.replace("&#x27;", "'") for _, text in found]


def test_alerts_in_the_report_say_what_when_and_who_saw_them(record):
    session, rows = record
    t = i18n.translator("en")
    built = report.build(session, rows)
    assert [(a["id"], a["at_s"], a["seen"]) for a in built["alerts"]] == [
        ("room-2-1", 8040, {"by": "the front desk", "at": iso(8100)}), ("room-2-2", 8200, None),
        ("room-2-3", 8300, {"by": "Dr. Haas", "at": iso(8320)}), ("room-2-4", 8400, None), ("room-2-5", 8460, None)]
    assert rows_said(html.render(built, rows, "Room 2")) == [
        f"Alert: emergency light on, 2 h 14 min into the session — seen by the front desk at {t.time(START + 8100)}",
        f"Alert seen by the front desk at {t.time(START + 8100)}: emergency light on",
        "Scheduled reading missed (hourly): systolic, pulse",
        "Alert: scheduled reading missed (systolic, pulse), 2 h 17 min into the session",
        "Alert: live pulse above the limit of Clinic protocol v4, 2 h 18 min into the session"
        f" — seen by Dr. Haas at {t.time(START + 8320)}",
        f"Alert seen by Dr. Haas at {t.time(START + 8320)}: live pulse above the limit of Clinic protocol v4",
        "Alert: light Ceiling lamp offline, 2 h 20 min into the session",
        "Alert: systolic below an example limit (not set by this clinic), 2 h 21 min into the session",
    ]


def test_the_summary_lists_the_alerts_sent_and_who_saw_them(record):
    """The page a clinician reads first has the alerts the floor was sent, each with its time and who saw it,
    or that nobody marked it as seen."""
    session, rows = record
    t = i18n.translator("en")
    page = html.summary(t, report.build(session, rows))
    section = re.search(r"<h3>Alerts</h3><ul>(.*?)</ul>", page)
    assert section is not None, page
    items = [re.sub(r"<[^>]+>", "", item).replace("&#x27;", "'") for item in re.findall(r"<li>(.*?)</li>", section[1])]
    at = lambda seconds: t.time(START + seconds)  # noqa: E731
    assert items == [
        f"{at(8040)} emergency light on · seen by the front desk at {at(8100)}",
        f"{at(8200)} scheduled reading missed (systolic, pulse) · not marked as seen",
        f"{at(8300)} live pulse above the limit of Clinic protocol v4 · seen by Dr. Haas at {at(8320)}",
        f"{at(8400)} light Ceiling lamp offline · not marked as seen",
        f"{at(8460)} systolic below an example limit (not set by this clinic) · not marked as seen",
    ]
    built = report.build(session, rows)   # the same reading missed again an hour on, and seen: one line for both
    again = next(a for a in built["alerts"] if a["kind"] == "reading_missed")
    built["alerts"].append({**again, "at_s": 11800, "seen": {"by": "Dr. Haas", "at": iso(11900)}})
    said = re.findall(r"<li>(.*?)</li>", re.search(r"<h3>Alerts</h3><ul>(.*?)</ul>", html.summary(t, built))[1])
    assert said[1] == f"scheduled reading missed (systolic, pulse) · 2 times, {at(8200)} to {at(11800)} · 1 marked as seen"
    assert len(said) == 5


def test_each_row_alone_still_says_what_it_was(record):
    """Without the session's alerts beside it (a row read on its own) an alert says what and when, and its
    acknowledgement who and when."""
    _, rows = record
    t = i18n.translator("en")
    said = {row.data.get("id"): words.describe(t, row) for row in rows if row.kind == "alert_raised"}
    assert said["room-2-1"] == "Alert: emergency light on, 2 h 14 min into the session"
    seen = [words.describe(t, row) for row in rows if row.kind == "alert_seen"]
    assert seen == [f"Alert seen by the front desk at {t.time(START + 8100)}: emergency light on",
                    f"Alert seen by Dr. Haas at {t.time(START + 8320)}"]   # whose limit: only beside the alert


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_alerts_are_said_in_every_language_with_no_english_left(record, language):
    session, rows = record
    page = html.render(report.build(session, rows), rows, "Raum 2", language)
    said = rows_said(page)
    assert len(said) == 8
    english = {w for key, phrase in i18n.catalogue("en").items() if key.startswith(("alert.", "event.alert",
                                                                                      "event.vitals_missed"))
               for w in re.findall(r"[A-Za-z]{4,}", phrase)}
    ours = {w for phrase in i18n.catalogue(language).values() for w in re.findall(r"[A-Za-zÀ-ÿ]{4,}", phrase)}
    journal_words = {"front", "desk", "Haas", "Clinic", "protocol", "hourly", "Ceiling", "lamp"}
    leftover = {w for line in said for w in re.findall(r"[A-Za-z]{4,}", line)} & (english - ours - journal_words)
    assert leftover == set(), said
    assert not [line for line in said if re.search(r"\b(alert|event)\.[a-z_]+", line)], said   # no key unsaid
    assert "the front desk" in said[0] and "Clinic protocol v4" in said[4]
