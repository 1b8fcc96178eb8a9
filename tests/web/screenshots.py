"""Makes the README's screenshots of the panel: `python -m tests.web.screenshots` (needs what the browser
tests need). A dark room: a session in its second phase with calm on, on a tablet in landscape and in
portrait, and on a phone (390x844, with touch)."""

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


if __name__ == "__main__":
    main()
    walk_pictures()
