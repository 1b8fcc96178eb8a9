"""The report in words, from a journal written the way the room writes it (real SQLite, `Journal`): every
event a therapist reads in their language, durations rounded, no paths, no `key=value`, no event names."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from room_controller import i18n
from room_controller.journal.store import Journal
from room_controller.reporting import html, report, words

START = 1_800_000_000.0
EVENTS = [  # (session time, kind, data) as the room and the music journal them
    (0, "session_started", {"profile": "psilocybin", "name": "Psilocybin", "label": "P-7",
                            "timeline": {"durations": [3600.0, None], "anchor_index": 0, "anchor_at": 0.0}}),
    (0.0004, "phase_entered", {"index": 0, "name": "Onset", "planned_s": 3600.0, "transition_s": 59.99841389900001,
                               "recovered": False}),
    (62, "track_started", {"title": "Warm drone", "file": "/srv/music/onset/01 warm drone.ogg",
                           "playlist": "onset", "position_s": 0.0}),
    (300, "preset_on", {"preset": "calm", "replaced": None}),
    (420, "preset_off", {"preset": "calm"}),
    (430, "manual_change", {"lights": ["ceiling"], "change": {"brightness": 20.0, "kelvin": 2200},
                            "during_preset": None}),
    (500, "note", {"text": "client resting"}),
    (900, "reminder_shown", {"reminder": 1, "text": "Check vitals", "due_s": 900.0, "phase": ""}),
    (1000, "track_skipped", {"file": "/srv/music/onset/02 broken.ogg", "reason": "VLC cannot read it"}),
    (1800, "dose_warning", {"percent": 50.0, "dose": 50.2}),
    (3600, "phase_entered", {"index": 1, "name": "Return", "planned_s": None, "transition_s": 600.0,
                             "recovered": False}),
    (3700, "session_recovered", {"gap_s": 12.4, "elapsed_s": 3700.0, "paused": False, "preset": None}),
    (3700, "phase_entered", {"index": 1, "name": "Return", "planned_s": None, "transition_s": 1.0,
                             "recovered": True}),
    (4000, "session_stopped", {"elapsed_s": 4000.0, "dose": 61.3}),
]


@contextmanager
def written(tmp_path, events: list[tuple], ended_at: float):
    """A session journaled as the room journals it: its row and its events, read back."""
    journal = Journal(tmp_path)
    try:
        session_id = journal.new_session("psilocybin", "Psilocybin", "P-7", {}, START)
        for at, kind, data in events:
            journal.append(kind, data, wall=START + at, mono=at, session_id=session_id, session_s=at)
        journal.end_session(session_id, START + ended_at)
        yield journal.read.session(session_id), journal.read.events(session_id)
    finally:
        journal.close()


@pytest.fixture
def record(tmp_path):
    with written(tmp_path, EVENTS, 4000) as session_and_events:
        yield session_and_events


def test_each_event_in_a_therapists_words(record):
    _, rows = record
    said = [words.describe(i18n.translator("en"), row) for row in rows]
    assert said == [
        "Session started: Psilocybin",
        "Phase Onset began (planned 1 h)",
        "Track: Warm drone",
        "Calm on",
        "Calm released",
        "Light adjusted: brightness 20 %, 2,200 K (ceiling)",
        "Note: client resting",
        "Reminder: Check vitals",
        "Track skipped (could not be played): 02 broken",
        "Warning: sound dose at 50 % of the daily limit",
        "Phase Return began (open-ended)",
        "The room computer restarted; the session went on (12 s later)",
        "Phase Return went on after the restart",
        "Session ended after 1 h 7 min",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("language", ["de", "nl", "es", "pt"])
def test_a_report_in_another_language_has_no_english_left(record, language):
    session, rows = record
    page = html.render(report.build(session, rows), rows, "Raum 2", language)
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    english = {w for key, phrase in i18n.catalogue("en").items() if not key.startswith(("duration.", "preset.check"))
               for w in re.findall(r"[A-Za-z]{5,}", phrase)}
    ours = {w for phrase in i18n.catalogue(language).values() for w in re.findall(r"[A-Za-zÀ-ÿ]{5,}", phrase)}
    journal_words = {"Psilocybin", "Onset", "Return", "Check", "vitals", "client", "resting", "Warm", "drone",
                     "broken", "ceiling"}
    leftover = set(re.findall(r"[A-Za-z]{5,}", text)) & (english - ours - journal_words)
    assert leftover == set(), f"English words in the {language} report"
    assert f"<html lang={language}>" in page


def test_the_page_has_no_paths_no_raw_names_and_no_long_decimals(record):
    session, rows = record
    page = html.render(report.build(session, rows), rows, "Room 2")
    body = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    assert "/srv/" not in page and ".ogg" not in body
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", body)          # phase_entered, transition_s, ...
    assert not re.search(r"\d\.\d{3,}", body)                   # 59.99841389900001
    assert "True" not in body and "=" not in body


def test_the_summary_counts_what_happened(record):
    session, rows = record
    built = report.build(session, rows)
    assert built["presets_used"] == [{"name": "calm", "times": 1, "seconds": 120.0}]
    assert built["dose"] == {"percent": 61.3, "final": True}
    assert [(r["text"], r["acknowledged_s"]) for r in built["reminders"]] == [("Check vitals", None)]
    page = html.render(built, rows, "Room 2")
    assert "<p data-dose>61 % of the daily limit (85 dBA for 8 hours)</p>" in page
    assert '<span class=missed>not acknowledged</span>' in page
    assert "The room computer restarted at" in page
    german = html.render(built, rows, "Raum 2", "de")
    assert "<p data-dose>61 % der Tagesdosis (85 dB(A) für 8 Stunden)</p>" in german
    assert "Ruhe: 1×, insgesamt 2 Min." in german


def test_a_room_without_calibration_says_so_instead_of_a_number(record):
    session, rows = record
    rows = [r if r.kind != "session_stopped" else type(r)(r.id, r.session_id, r.wall, r.mono, r.session_s, r.kind,
                                                          {"elapsed_s": 4000.0, "dose": None})
            for r in rows if r.kind != "dose_warning"]
    page = html.render(report.build(session, rows), rows, "Room 2")
    assert "<p data-dose>Not measured: the room's sound is not calibrated.</p>" in page
