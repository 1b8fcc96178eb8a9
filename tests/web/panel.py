"""Drives the panel in the browser the way a therapist does: by what is on the screen."""

from __future__ import annotations

import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.web.conftest import PIN


class Panel:
    def __init__(self, driver, base: str) -> None:
        self.driver = driver
        self.base = base

    def open(self) -> Panel:
        self.driver.get(f"{self.base}/")
        return self

    def login(self, pin: str = PIN) -> Panel:
        self.wait(lambda: self.shown("login"))
        field = self.find("pin")
        field.clear()
        field.send_keys(pin)
        self.find("login-form").submit()
        return self

    def open_logged_in(self) -> Panel:
        self.open().login()
        self.wait(lambda: self.shown("panel") and self.text("link") == "Live")
        return self

    def find(self, element_id: str):
        return self.driver.find_element(By.ID, element_id)

    def button(self, label: str):
        return self.driver.find_element(By.XPATH, f"//button[normalize-space()={label!r}]")

    def press(self, label: str) -> None:
        """Tap the button that says `label`, once it is there (the page redraws as the room changes)."""
        self.wait(lambda: self.button(label).click() or True, what=f"a button {label!r} to tap")

    def shown(self, element_id: str) -> bool:
        return self.find(element_id).is_displayed()

    def text(self, element_id: str) -> str:
        return self.find(element_id).text.strip()

    def tap(self, element_id: str) -> None:
        self.find(element_id).click()

    def release(self) -> None:
        """Tap the release control once it can be pressed (a second after the preset came on)."""
        self.wait(lambda: self.shown("release") and self.find("release").is_enabled(), what="the release control")
        self.tap("release")

    def hold(self, element_id: str, seconds: float) -> None:
        ActionChains(self.driver).click_and_hold(self.find(element_id)).pause(seconds).release().perform()

    def drag(self, element_id: str, dx: int) -> None:
        """Put a finger on the slider's thumb, move it `dx` pixels in a few steps, and lift it."""
        slider = self.find(element_id)
        value, low, high = (float(slider.get_attribute(a)) for a in ("value", "min", "max"))
        width = slider.size["width"] - 48          # the thumb's travel
        thumb = -width / 2 + width * (value - low) / (high - low)
        chain = ActionChains(self.driver).move_to_element_with_offset(slider, int(thumb), 0).click_and_hold()
        for _ in range(4):
            chain.move_by_offset(dx // 4, 0).pause(0.05)
        chain.release().perform()

    def wait(self, condition, timeout: float = 5.0, what: str = "the panel to show it"):
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = condition()
            except Exception:  # the page is changing under us; look again
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def wait_text(self, element_id: str, expected: str, timeout: float = 5.0) -> None:
        self.wait(lambda: self.text(element_id) == expected, timeout,
                  f"#{element_id} to read {expected!r} (it reads {self.text(element_id)!r})")
