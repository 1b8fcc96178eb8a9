"""The report's one-page summary stays one page: an 8-hour session driven through a real room on the test
clock, with calm pressed 40 times and 200 tracks, printed by real headless Chromium to A4; the summary counts
each phase's tracks by playlist and calm's together, and the event list below still names every track."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest
import requests

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from room_controller.session.profiles import load_profile
from tests.rooms import load
from tests.session.test_session_api import AUTH, LIGHTS, PLACES
from tests.web.conftest import browser, chrome  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

A4 = {"paperWidth": 8.27, "paperHeight": 11.69}   # inches, as Chromium's print dialog sends them
STEP = 144.0          # seconds between track changes: 200 of them in 8 hours
PRESSES = 40


def pages(pdf: bytes) -> int:
    """Pages in a PDF Chromium printed: one page object each (`/Type /Page`, not the `/Pages` tree)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.fixture
def long_session(tmp_path, broker, room_id):
    """MDMA, 8 hours on the test clock: every fifth track change is a calm press (its music from calm.m3u),
    the next its release (the phase's music again); a note every 80 minutes. The journal is the room's own."""
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES)
    clock = ManualClock()
    app = App(config, catalogue, clock=clock, audio=False).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    room = app.room
    profile = load_profile(Path(PLACES["profiles_dir"]) / "mdma-8h.yaml")[0]
    playlists = {p.name: getattr(p.music, "playlist", None) for p in profile.phases}
    session_id = app.loop.call(room.session.start, "mdma-8h", "M-1")["session"]
    for step in range(200):
        if step % 5 == 0:
            app.loop.call(room.presets.activate, "calm")
            playlist = "calm.m3u"
        else:
            if step % 5 == 1:
                app.loop.call(room.presets.release)
            playlist = playlists[room.snapshot()["session"]["phase"]["name"]]
        app._music_event("track_started", {"title": f"Track {step}", "file": f"/music/{step}.ogg",
                                           "playlist": playlist, "position_s": 0.0})   # as Music says it
        if step % 33 == 10:
            app.loop.call(room.add_note, f"note at step {step}")
        app.loop.settle()
        clock.advance(STEP)
    app.loop.call(room.session.stop)
    yield f"http://127.0.0.1:{app.web.port}", session_id
    app.stop()


def test_the_summary_of_an_8_hour_session_prints_on_one_a4_page(browser, long_session, tmp_path):  # noqa: F811
    base, session_id = long_session
    page = requests.get(f"{base}/api/sessions/{session_id}/report?format=html", headers=AUTH).text
    summary = page[page.index("<div class=summary>"):page.index("<h2>Timeline</h2>")]
    assert "Calm: 40×, 1 h 36 min in all" in summary                 # presets: a count and the time in all
    assert "Tracks played: 200, 8 h in all" in summary
    assert "During Calm: 40 tracks from calm, 1 h 36 min" in summary   # every press's track, in one line
    assert "Onset: 20 tracks from onset, 48 min" in summary              # the phase's, by playlist
    assert "Track 7" not in summary and page.count(">Track: Track ") == 200   # each track below, in the event list
    report = requests.get(f"{base}/api/sessions/{session_id}/report", headers=AUTH).json()
    assert len(report["tracks"]) == 200 and report["presets_used"][0]["times"] == PRESSES

    (tmp_path / "report.html").write_text(page)
    browser.get((tmp_path / "report.html").as_uri())
    whole = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", A4)["data"])
    assert pages(whole) > 3   # the page counter counts: the whole report with its 200-track event list is long
    browser.execute_script("""   // the title, the session's facts and the summary: what the first page must hold
        const summary = document.querySelector(".summary");
        while (summary.nextSibling) summary.nextSibling.remove();
    """)
    first = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", A4)["data"])
    assert pages(first) == 1
