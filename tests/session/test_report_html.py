"""The printable report: a session on a test clock, then its HTML page over HTTP — every journal event in the
table, in words, and a timeline picture whose shapes are exactly the journal's phases, presets, tracks, notes
and reminders; a summary on top. Notes corrected after the session keep their original; the label is the
clinic's to change."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import requests

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.rooms import load
from tests.session.test_session_api import AUTH, LIGHTS, PLACES

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def session_done(tmp_path, broker, room_id):
    """A ketamine session of 30 minutes: a note, calm and its release, a track, reminders, then stop."""
    clock = ManualClock()
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
    app = App(config, catalogue, clock=clock, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    room = app.room
    session_id = app.loop.call(room.session.start, "ketamine-1h", "K-3")["session"]
    clock.advance(60)
    app._music_event("track_started", {"title": "Arrival & breath", "file": "arrival/1.ogg"})  # as Music says it
    app.loop.settle()
    clock.advance(240)
    app.loop.call(room.add_note, "client resting")
    clock.advance(180)
    app.loop.call(room.presets.activate, "calm")
    clock.advance(240)
    app.loop.call(room.presets.release)
    clock.advance(25 * 60 - 720)
    for reminder in room.snapshot()["session"]["reminders"]:
        app.loop.call(room.session.acknowledge, reminder["id"])
    clock.advance(5 * 60)
    app.loop.call(room.session.stop)
    yield app, f"http://127.0.0.1:{app.web.port}", session_id
    app.stop()


def journal(app, session_id):
    with app.journal.reader() as reader:
        return reader.events(session_id)


class Table(HTMLParser):
    """The event table's rows: their `data-event` ids and cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr" and dict(attrs).get("data-event"):
            self.rows.append((int(dict(attrs)["data-event"]), [dict(attrs)["data-kind"]]))
        elif tag == "td" and self.rows:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell))
            self._cell = None


def picture(page: str) -> dict[str, list[tuple]]:
    svg = ET.fromstring(page[page.index("<svg"):page.index("</svg>") + 6])
    shapes: dict[str, list[tuple]] = {}
    for g in svg.iter(f"{SVG}g"):
        if "data-start-s" in g.attrib:
            shapes.setdefault(g.get("data-kind"), []).append(
                (g.get("data-name"), float(g.get("data-start-s")), float(g.get("data-end-s"))))
        else:
            shapes.setdefault(g.get("data-kind"), []).append((g.get("data-name"), float(g.get("data-at-s"))))
    return shapes


def spans(rows, opens, closes, name):
    out, current = [], None
    for row in rows:
        if current and row.kind in closes:
            out.append((current[0], current[1], row.session_s))
            current = None
        if row.kind == opens:
            current = (row.data[name], row.session_s)
    return out


@pytest.mark.slow
def test_the_html_report_shows_every_event_and_a_timeline_that_matches_the_journal(session_done):
    app, base, session_id = session_done
    r = requests.get(f"{base}/api/sessions/{session_id}/report?format=html", headers=AUTH)
    assert (r.status_code, r.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    rows = journal(app, session_id)
    table = Table()
    table.feed(r.text)
    assert [event_id for event_id, _ in table.rows] == [row.id for row in rows]
    assert [cells[0] for _, cells in table.rows] == [row.kind for row in rows]
    said = {kind: text for _, (kind, _, _, text) in table.rows}
    assert said["note"] == "Note: client resting"
    assert said["session_started"] == "Session started: Ketamine, about 1 hour"
    assert said["phase_entered"] == "Phase Journey began (planned 30 min)"   # the last of three
    assert (said["preset_on"], said["preset_off"]) == ("Calm on", "Calm released")
    assert said["track_started"] == "Track: Arrival & breath"
    assert said["session_stopped"] == "Session ended after 30 min"
    assert not any("=" in text or "/" in text or "_" in text for _, (_, _, _, text) in table.rows)
    assert "recovered" not in r.text and "phase_entered" not in r.text.split("<tbody>")[-1].replace('data-kind="phase_entered"', "")

    shapes = picture(r.text)
    assert shapes["phases"] == spans(rows, "phase_entered", ("phase_entered", "session_stopped"), "name") == [
        ("Arrival", 0.0, 600.0), ("Onset", 600.0, 1200.0), ("Journey", 1200.0, 1800.0)]
    assert shapes["presets"] == [("calm", 480.0, 720.0)]
    assert shapes["tracks"] == [("Arrival & breath", 60.0, 1800.0)]
    assert shapes["notes"] == [("client resting", 300.0)]
    assert shapes["reminders"] == [(row.data["text"], row.session_s) for row in rows if row.kind == "reminder_shown"] \
        == [("Dose when the client is ready", 480.0), ("Check vitals", 1500.0)]
    assert "<h1>Session report · K-3</h1>" in r.text and f"<dd>#{session_id}</dd>" in r.text


@pytest.mark.slow
def test_the_summary_says_phases_presets_music_notes_reminders_and_the_dose(session_done):
    app, base, session_id = session_done
    page = requests.get(f"{base}/api/sessions/{session_id}/report?format=html", headers=AUTH).text
    summary = page[page.index("<h2>Summary</h2>"):page.index("<h2>Timeline</h2>")]
    report = requests.get(f"{base}/api/sessions/{session_id}/report", headers=AUTH).json()
    assert [(p["name"], p["planned_s"]) for p in report["phases"]] == [("Arrival", 600.0), ("Onset", 600.0),
                                                                       ("Journey", 1800.0)]
    assert summary.count("<tr data-phase>") == 3 and "<td class=t>10 min</td><td class=t>10 min</td>" in summary
    assert report["presets_used"] == [{"name": "calm", "times": 1, "seconds": 240.0}]
    assert "Calm: 1×, 4 min in all" in summary
    assert "Tracks played: 1, 29 min in all" in summary and "Arrival: 1 track, 29 min" in summary
    assert "Arrival &amp; breath" not in summary   # tracks are counted here, named in the event list below
    assert "client resting" in summary
    reminders = [(r["text"], r["acknowledged_s"]) for r in report["reminders"]]
    assert reminders == [("Dose when the client is ready", 1500.0), ("Check vitals", 1500.0)]
    assert summary.count("done at ") == 2 and "not acknowledged" not in summary
    assert report["dose"] is None and "<p data-dose>Not recorded.</p>" in summary   # no music in this room


@pytest.mark.slow
def test_notes_are_corrected_with_the_original_kept_and_the_label_is_the_clinics(session_done):
    app, base, session_id = session_done
    note = next(row for row in journal(app, session_id) if row.kind == "note")
    url = f"{base}/api/sessions/{session_id}/notes/{note.id}"
    r = requests.patch(url, headers=AUTH, json={"text": "client resting, eyes closed"})
    assert (r.status_code, r.json()) == (200, {"session": session_id, "note": note.id,
                                               "text": "client resting, eyes closed"})
    assert requests.patch(url, headers=AUTH, json={"text": ""}).status_code == 422
    assert requests.patch(f"{base}/api/sessions/{session_id}/notes/1", headers=AUTH,
                          json={"text": "x"}).status_code == 404
    assert requests.patch(f"{base}/api/sessions/{session_id}", headers=AUTH, json={"label": "K-3b"}).json() == \
        {"session": session_id, "label": "K-3b"}
    assert requests.patch(f"{base}/api/sessions/999", headers=AUTH, json={"label": "x"}).status_code == 404
    rows = journal(app, session_id)
    assert next(row for row in rows if row.id == note.id).data == {"text": "client resting"}  # never rewritten
    assert [(row.kind, row.data, row.session_s) for row in rows[-2:]] == [
        ("note_edited", {"note": note.id, "text": "client resting, eyes closed", "was": "client resting"}, None),
        ("label_changed", {"label": "K-3b", "was": "K-3"}, None)]
    report = requests.get(f"{base}/api/sessions/{session_id}/report", headers=AUTH).json()
    assert report["session"]["label"] == "K-3b"
    assert [(n["text"], n["original"]) for n in report["notes"]] == [("client resting, eyes closed", "client resting")]
    page = requests.get(f"{base}/api/sessions/{session_id}/report?format=html", headers=AUTH).text
    assert "client resting, eyes closed <span class=edited>(corrected; first written: client resting)</span>" in page
    assert requests.get(f"{base}/api/sessions/999/report?format=html", headers=AUTH).status_code == 404
    assert requests.get(f"{base}/api/sessions/{session_id}/report?format=pdf", headers=AUTH).status_code == 422


@pytest.mark.slow
def test_the_report_speaks_the_rooms_language_unless_asked_for_another(session_done):
    app, base, session_id = session_done
    url = f"{base}/api/sessions/{session_id}/report?format=html"
    assert "<html lang=en" in requests.get(url, headers=AUTH).text        # the room's language: English here
    german = requests.get(f"{url}&lang=de", headers=AUTH).text
    assert "<html lang=de" in german and "Sitzung beendet" in german
    r = requests.get(f"{url}&lang=xx-nowhere", headers=AUTH)
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("lang: ")
    assert app.room.snapshot()["room"]["language"] == "en"


@pytest.mark.slow
def test_a_session_left_running_for_a_day_still_has_a_timeline(tmp_path, broker, room_id):
    clock = ManualClock()
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
    app = App(config, catalogue, clock=clock, audio=False).start()
    try:
        session_id = app.loop.call(app.room.session.start, "ketamine-1h")["session"]
        clock.advance(26 * 3600)   # nobody pressed stop
        r = requests.get(f"http://127.0.0.1:{app.web.port}/api/sessions/{session_id}/report?format=html",
                         headers=AUTH)
        assert r.status_code == 200 and "<svg" in r.text and r.text.rstrip().endswith("</html>")
    finally:
        app.stop()
