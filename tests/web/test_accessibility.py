"""axe-core on the panel's screens (no serious or critical problems), and calm in reach on every screen size.

axe-core comes from npm (`npm install --prefix tests/web --no-save axe-core@4`); it is not vendored.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.web.conftest import AUTH, TABLET, viewport
from tests.web.panel import Panel

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"tablet landscape": TABLET, "tablet portrait": (800, 1280), "phone": (390, 844)}


def serious_problems(driver) -> list[str]:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing: npm install --prefix {AXE.parents[2]} --no-save axe-core@4")
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(done, (e) => done({error: String(e)}));")
    assert "error" not in result, result
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_login_start_and_session_screens_have_no_serious_problems(browser, served):
    panel = Panel(browser, served.base).open()
    panel.wait(lambda: panel.shown("login"))
    assert serious_problems(browser) == []
    panel.login()
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".profiles li"), what="the start screen")
    assert serious_problems(browser) == []
    requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).raise_for_status()
    requests.post(f"{served.base}/api/presets/calm", headers=AUTH).raise_for_status()
    panel.wait_text("preset-status", "Calm is on")
    panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, ".timeline"), what="the timeline")
    browser.find_element(By.CSS_SELECTOR, ".lights summary").click()
    assert serious_problems(browser) == []
    browser.find_element(By.CSS_SELECTOR, ".controls .danger").click()
    assert serious_problems(browser) == []


@pytest.mark.parametrize("size", SIZES)
def test_calm_is_in_reach_and_every_control_is_big_enough(browser, served, size):
    viewport(browser, *SIZES[size])
    Panel(browser, served.base).open_logged_in()
    calm = browser.find_element(By.ID, "calm")
    top, bottom, height = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom, innerHeight];", calm)
    assert 0 <= top and bottom <= height
    small = browser.execute_script(
        "return [...document.querySelectorAll('button, input, summary')]"
        ".filter((e) => e.offsetParent !== null)"
        ".map((e) => [e.id || e.textContent.trim(), e.getBoundingClientRect()])"
        ".filter(([, r]) => r.height < 48 || r.width < 48).map(([name]) => name);")
    assert small == []
