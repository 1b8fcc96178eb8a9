"""The demo room's picture in the panel follows the simulated lights as they fade."""

from __future__ import annotations

import signal

from selenium.webdriver.common.by import By

from tests.broker import free_port
from tests.test_demo import Demo
from tests.web.conftest import TABLET, start_chrome, viewport
from tests.web.panel import Panel


def test_the_picture_shows_each_light_as_it_glows(tmp_path):
    demo = Demo("--port", str(free_port()))
    driver = start_chrome(tmp_path / "chromium")
    try:
        viewport(driver, *TABLET)
        panel = Panel(driver, demo.base).open()
        panel.login(demo.pin)
        panel.wait(lambda: driver.find_element(By.ID, "room-picture").is_displayed())
        driver.find_element(By.ID, "calm").click()
        panel.wait(lambda: all(f"{name} 15 %" in driver.find_element(By.ID, "room-plan").text
                               for name in ("Ceiling", "Bedside", "Floor lamp", "Shelf strip")), timeout=10)
    finally:
        driver.quit()
        demo.proc.send_signal(signal.SIGTERM)
        demo.proc.wait(20)
