"""Makes the README's screenshots of the panel: `python -m tests.web.screenshots` (needs what the browser
tests need). A dark room: a session in its second phase with calm on, on a tablet in landscape and in
portrait, and on a phone (390x844, with touch). And the clinic floor with the day's plan of three rooms, and
the panel with the day's next booking ready to start."""

from __future__ import annotations

import tempfile
from pathlib import Path

import requests
from selenium.webdriver.common.by import By

from tests.broker import Broker
from tests.web.conftest import AUTH, ROOT, TABLET, device, serve, start_chrome
from tests.web.panel import Panel

OUT = ROOT / "web" / "docs"


def main() -> None:
    broker = Broker().start()
    with tempfile.TemporaryDirectory() as tmp:
        room = serve(Path(tmp), broker, "room-1", audio=True)
        driver = start_chrome(Path(tmp) / "chromium-profile")
        try:
            requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).raise_for_status()
            requests.post(f"{room.base}/api/session/next", headers=AUTH).raise_for_status()
            requests.post(f"{room.base}/api/presets/calm", headers=AUTH).raise_for_status()
            OUT.mkdir(parents=True, exist_ok=True)
            for name, size in (("panel-tablet-landscape.png", TABLET), ("panel-tablet-portrait.png", (800, 1280)),
                               ("panel-phone.png", (390, 844))):
                device(driver, *size, touch=size[0] < 900)
                panel = Panel(driver, room.base).open()
                if panel.shown("login"):
                    panel.login()
                panel.wait(lambda panel=panel: driver.find_element(By.CSS_SELECTOR, ".timeline") and panel.text("link") == "Live")
                panel.wait_text("preset-status", "Calm is on")
                panel.wait(lambda panel=panel: panel.find("release").is_enabled(), what="the release control")
                driver.save_screenshot(str(OUT / name))
                print(OUT / name)
        finally:
            driver.quit()
            room.stop()
            broker.close()


def walk_pictures() -> None:
    """Each step of the whole-session walk (tests/web/walk.py) at a tablet and a phone: web/docs/walk-*.png,
    the README's row of them. The walk's verdicts are printed; a picture of a broken step shows what broke."""
    from tests.web.walk import PROMISES, WALKS, Room, walk

    broker = Broker().start()
    with tempfile.TemporaryDirectory() as tmp:
        driver = start_chrome(Path(tmp) / "chromium-profile")
        try:
            for old in OUT.glob("walk-*.png"):
                old.unlink()
            for name, (size, profile, seed) in WALKS.items():
                (Path(tmp) / name).mkdir()
                room = Room(Path(tmp) / name, broker, f"walk-{name}")
                try:
                    done = walk(driver, room, size, profile, name, seed, shots=OUT)
                finally:
                    room.stop()
                for promise in PROMISES:
                    print(name, promise, done.faults[promise] or "kept")
        finally:
            driver.quit()
            broker.close()


def floor_picture() -> None:
    """The clinic floor's screen at the front desk (1440x900): three served rooms that name one clinic file, whose
    bookings (times from now) prepare one room, wait in another beside its running session and a booking of a
    profile it lacks, and come tomorrow: web/docs/overview-day.png."""
    from datetime import datetime, timedelta

    import yaml

    from room_controller.app import App
    from room_controller.integrations.overview import Overview, load_clinic
    from tests.rooms import load
    from tests.web.conftest import LIGHTS, PIN, PLACES, TOKEN

    broker = Broker().start()
    now = datetime.now().replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 5)
    at = lambda minutes: f"{now + timedelta(minutes=minutes):%Y-%m-%d %H:%M}"   # noqa: E731
    tomorrow = f"{now + timedelta(days=1):%Y-%m-%d} 10:00"
    bookings = [{"room": "room-1", "profile": "psilocybin-8h", "start": at(10)},
                {"room": "room-1", "profile": "integration-75m", "start": tomorrow},
                {"room": "room-2", "profile": "mdma-8h", "start": at(240)},
                {"room": "room-2", "profile": "ayahuasca-6h", "start": at(120)},
                {"room": "room-3", "profile": "preparation-90m", "start": at(60)}]
    with tempfile.TemporaryDirectory() as tmp:
        clinic = Path(tmp) / "clinic.yaml"
        clinic.write_text(yaml.safe_dump({
            "mqtt": {"host": broker.host, "port": broker.port, "base_topic": "therapy-room"}, "web": {"port": 0},
            "day": {"prepare_ahead": "15m", "bookings": bookings}}))
        rooms = []
        for room_id, name in (("room-1", "Sunrise"), ("room-2", "Harbour"), ("room-3", "Garden")):
            (Path(tmp) / room_id).mkdir()
            config, catalogue = load(Path(tmp) / room_id, broker, room_id, LIGHTS, room={"id": room_id, "name": name},
                                     clinic=str(clinic), web={"host": "127.0.0.1", "port": 0, "pin": PIN,
                                                              "api_token": TOKEN}, **PLACES)
            rooms.append(App(config, catalogue, audio=False).start())
        overview = Overview(load_clinic(clinic)).start()
        driver = start_chrome(Path(tmp) / "chromium-profile")
        try:
            requests.post(f"http://127.0.0.1:{rooms[1].web.port}/api/session", headers=AUTH,
                          json={"profile": "ketamine-1h"}).raise_for_status()
            device(driver, 1440, 900)
            floor = Panel(driver, f"http://127.0.0.1:{overview.web.port}").open()
            floor.wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#plan .plan-bookings li")) == 5 and
                       len(driver.find_elements(By.CSS_SELECTOR, ".room .next")) == 3 and
                       "Ketamine" in driver.find_element(By.CSS_SELECTOR, '.room[data-room="room-2"]').text,
                       timeout=15, what="three rooms' days and the running session")
            floor.wait_text("link", "Live")
            OUT.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(OUT / "overview-day.png"))
            print(OUT / "overview-day.png")
        finally:
            driver.quit()
            overview.stop()
            for room in rooms:
                room.stop()
            broker.close()


def day_picture() -> None:
    """The panel before a booked session, on a tablet in landscape: the room in its arrival light, the card with
    the next booking, its Start button and the day's later bookings, one of them a problem: web/docs/panel-day.png."""
    from tests.web.test_day_panel import DAY, serve_day

    broker = Broker().start()
    with tempfile.TemporaryDirectory() as tmp:
        room = serve_day(Path(tmp), broker, "room-1", [
            {"profile": "psilocybin-8h", "start": "2026-12-08 09:00"},
            {"profile": "integration-75m", "start": "2026-12-09 10:00"},
            {"profile": "mushroom-tea", "start": "2026-12-09 14:00"}], at=DAY.replace(hour=8, minute=47))
        driver = start_chrome(Path(tmp) / "chromium-profile")
        try:
            device(driver, *TABLET)
            panel = Panel(driver, room.base).open_logged_in()
            panel.wait(lambda: panel.find("day-start").is_displayed() and panel.shown("problems"), what="the card")
            OUT.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(OUT / "panel-day.png"))
            print(OUT / "panel-day.png")
        finally:
            driver.quit()
            room.app.stop()
            broker.close()


if __name__ == "__main__":
    main()
    walk_pictures()
    floor_picture()
    day_picture()
