"""Makes the README's pictures of the report and of the panel in German: `python -m tests.report.screenshots`
(needs what the browser tests need). The report of a short demo session, dark on a portrait tablet and as
printed; the panel on a landscape tablet set to German, in a session with calm on."""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests
from selenium.webdriver.support.ui import Select

from room_controller.app import App
from room_controller.infrastructure.clock import ManualClock
from tests.broker import Broker
from tests.rooms import load
from tests.web.conftest import AUTH, LIGHTS, PIN, PLACES, ROOT, TABLET, TOKEN, device, serve, start_chrome
from tests.web.panel import Panel

OUT = ROOT / "web" / "docs"


def session(tmp: Path, broker) -> tuple[App, str]:
    """A ketamine session of an hour on the test clock, with music, notes, calm and reminders."""
    clock = ManualClock()
    config, catalogue = load(tmp, broker, "room-2", LIGHTS, web={"host": "127.0.0.1", "port": 0, "pin": PIN,
                                                                 "api_token": TOKEN}, **PLACES)
    app = App(config, catalogue, clock=clock, audio=False).start()
    room = app.room
    session_id = app.loop.call(room.session.start, "ketamine-1h", "K-3")["session"]
    steps = [(60, lambda: app._music_event("track_started", {"title": "Arrival & breath", "file": "a/1.ogg"})),
             (300, lambda: app.loop.call(room.add_note, "client resting, eyes closed")),
             (180, lambda: app.loop.call(room.presets.activate, "calm")),
             (240, lambda: app.loop.call(room.presets.release)),
             (120, lambda: app._music_event("track_started", {"title": "Slow strings", "file": "a/2.ogg"})),
             (900, lambda: app.loop.call(room.add_note, "asked for water")),
             (600, lambda: app._music_event("track_started", {"title": "Return", "file": "a/3.ogg"}))]
    for seconds, step in steps:
        clock.advance(seconds)
        step()
        app.loop.settle()
    for reminder in room.snapshot()["session"]["reminders"][:1]:
        app.loop.call(room.session.acknowledge, reminder["id"])
    clock.advance(900)
    app.loop.call(room.session.stop)
    return app, f"http://127.0.0.1:{app.web.port}/api/sessions/{session_id}/report?format=html"


def main() -> None:
    broker = Broker().start()
    with tempfile.TemporaryDirectory() as tmp:
        room = serve(Path(tmp), broker, "room-1", audio=True)
        driver = start_chrome(Path(tmp) / "chromium-profile")
        try:
            recorded, report = session(Path(tmp), broker)
            device(driver, 768, 1024)
            Panel(driver, report.split("/api/")[0]).open_logged_in()
            driver.get(report)
            driver.save_screenshot(str(OUT / "report-tablet-dark.png"))
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            driver.save_screenshot(str(OUT / "report-print.png"))
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
            recorded.stop()

            requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).raise_for_status()
            requests.post(f"{room.base}/api/session/next", headers=AUTH).raise_for_status()
            requests.post(f"{room.base}/api/presets/calm", headers=AUTH).raise_for_status()
            device(driver, *TABLET)
            panel = Panel(driver, room.base).open_logged_in()
            panel.tap("tools-open")
            Select(panel.find("language")).select_by_value("de")
            panel.tap("tools-close")
            panel.wait_text("preset-status", "Ruhe ist an")
            panel.wait(lambda: panel.find("release").is_enabled(), what="the release control")
            driver.save_screenshot(str(OUT / "panel-german.png"))
            driver.execute_script("localStorage.removeItem('panel-language')")
            for name in ("report-tablet-dark.png", "report-print.png", "panel-german.png"):
                print(OUT / name)
        finally:
            driver.quit()
            room.stop()
            broker.close()


if __name__ == "__main__":
    main()
