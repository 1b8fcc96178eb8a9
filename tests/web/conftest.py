"""The panel's test rig: a room served on loopback with a PIN, and one real headless Chromium (Debian's
`chromium` and `chromium-driver` packages) at a 10-inch tablet's viewport, shared by the browser tests.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from room_controller.app import App
from tests.rooms import load

ROOT = Path(__file__).resolve().parents[2]
PIN = "2468"
TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LIGHTS = [{"id": "ceiling", "profile": "zigbee2mqtt", "device": "Ceiling lamp", "name": "Ceiling"},
          {"id": "floor", "profile": "tasmota", "device": "floorlamp", "name": "Floor lamp"}]
PLACES = {"profiles_dir": str(ROOT / "deploy" / "profiles"), "playlists_dir": str(ROOT / "playlists")}
TABLET = (1280, 800)   # a 10-inch tablet in landscape, in CSS pixels
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items) -> None:
    """Every test here drives a real Chromium: seconds each, so all are `slow` (out of the quick loop)."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


@dataclass
class Served:
    app: App
    base: str

    def stop(self) -> None:
        self.app.stop()


def serve(tmp_path, broker, room_id, *, port: int = 0, audio: bool = False, **web) -> Served:
    """A room on loopback with a PIN and a token, up and connected to the broker."""
    settings = {"host": "127.0.0.1", "port": port, "pin": PIN, "api_token": TOKEN, **web}
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, web=settings, **PLACES)
    app = App(config, catalogue, audio=audio).start()
    deadline = time.monotonic() + 5
    while not app.room.mqtt_connected and time.monotonic() < deadline:
        time.sleep(0.01)
    return Served(app, f"http://127.0.0.1:{app.web.port}")


@pytest.fixture
def served(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id)
    yield room
    room.stop()


def start_chrome(profile: Path):
    """Headless Chromium from the Debian packages, with a fresh profile and nothing fetched from outside."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("the browser tests need Debian's chromium and chromium-driver packages")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                 "--force-device-scale-factor=1", f"--window-size={TABLET[0]},{TABLET[1]}",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


@pytest.fixture(scope="session")
def chrome(tmp_path_factory):
    driver = start_chrome(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def webkit():
    """WebKitGTK on a virtual screen (tests/web/webkit.py): the engine of the tablets that are iPads."""
    from tests.web.webkit import start_webkit, virtual_screen

    with virtual_screen() as display:
        driver = start_webkit(display)
        yield driver
        driver.quit()


@pytest.fixture
def safari(webkit):
    """The shared WebKit, logged out, at a tablet's size (landscape 1024x768)."""
    from tests.web.webkit import viewport as webkit_viewport

    webkit.get("about:blank")
    webkit.delete_all_cookies()
    webkit_viewport(webkit, 1024, 768)
    return webkit


@pytest.fixture
def browser(chrome):
    """The shared browser, logged out and with one tab, at the tablet's size."""
    while len(chrome.window_handles) > 1:
        chrome.switch_to.window(chrome.window_handles[-1])
        chrome.close()
    chrome.switch_to.window(chrome.window_handles[0])
    chrome.get("about:blank")
    chrome.delete_all_cookies()
    device(chrome, *TABLET)
    return chrome


def viewport(driver, width: int, height: int) -> None:
    """The page's own size in CSS pixels, as on the device (a window's size includes the browser's frame)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 900})


def device(driver, width: int, height: int, *, touch: bool = False) -> None:
    """A viewport, and with `touch` a touch screen as on a tablet or phone (taps arrive as touch events)."""
    viewport(driver, width, height)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                           {"enabled": touch, "maxTouchPoints": 5} if touch else {"enabled": False})
