"""A panel that stays dark and legible (issue 22, part 6), in real Chromium.

The demo's room picture with every light at full keeps the whole screen about as dark as the panel without
it (the mean relative luminance of a screenshot), and its labels read at 4.5:1 on it. The phase timeline
names every phase whole, at two tablet and two phone sizes, in English and in German. Every control a finger
is meant for is at least 44 px both ways, and none can be scrolled under the Calm/Emergency dock.
"""

from __future__ import annotations

import signal
import time

import pytest
import requests
from selenium.webdriver.common.by import By

from room_controller.app import App
from room_controller.demo import room as demo_room
from tests.broker import free_port
from tests.rooms import load
from tests.session.test_profile_editor_api import ADMIN_PIN
from tests.test_demo import Demo
from tests.web.conftest import AUTH, LIGHTS, PIN, PLACES, TOKEN, Served, device, start_chrome
from tests.web.panel import Panel

SIZES = {"1024x768": (1024, 768), "768x1024": (768, 1024), "390x844": (390, 844), "360x740": (360, 740)}
DARK = 0.05           # the most a screen's mean relative luminance may be with the picture at full

# The screenshot's mean relative luminance (WCAG's, of linear sRGB), and for each box the contrast of its
# brightest pixel against its median one (a label's letters against the plate they sit on).
LUMINANCE = """
const [png, boxes, done] = arguments;
const image = new Image();
image.onload = () => {
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const d = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const lin = Array.from({length: 256}, (_, v) => (v /= 255) <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const at = (i) => 0.2126 * lin[d[i]] + 0.7152 * lin[d[i + 1]] + 0.0722 * lin[d[i + 2]];
  let sum = 0;
  for (let i = 0; i < d.length; i += 4) sum += at(i);
  const contrast = boxes.map(([left, top, right, bottom]) => {
    const seen = [];
    for (let y = Math.ceil(top); y < Math.floor(bottom); y++)
      for (let x = Math.ceil(left); x < Math.floor(right); x++) seen.push(at(4 * (y * canvas.width + x)));
    seen.sort((a, b) => a - b);
    return (seen[seen.length - 1] + 0.05) / (seen[seen.length >> 1] + 0.05);
  });
  done({mean: sum / (d.length / 4), contrast});
};
image.src = 'data:image/png;base64,' + png;
"""
LABELS = ("return [...document.querySelectorAll('#room-plan text')].map((t) => t.getBoundingClientRect())"
          ".map((r) => [r.left, r.top, r.right, r.bottom]);")


def measure(driver, boxes=()) -> dict:
    return driver.execute_async_script(LUMINANCE, driver.get_screenshot_as_base64(), list(boxes))


def test_the_demo_picture_at_full_stays_dark_and_its_labels_read(tmp_path):
    demo = Demo("--port", str(free_port()))
    driver = start_chrome(tmp_path / "chromium")
    try:
        panel = Panel(driver, demo.base).open()
        panel.login(demo.pin)
        panel.wait(lambda: panel.shown("room-picture"), timeout=10, what="the room's picture")
        for kelvin in (2700, 6500):   # warm and cool white, every light at full
            requests.patch(f"{demo.base}/api/lights", headers=demo.auth,
                           json={"brightness": 100, "kelvin": kelvin}).raise_for_status()
            panel.wait(lambda: panel.text("room-plan").count("100 %") == len(demo_room.LIGHTS), timeout=15,
                       what="every light at full")
            for size in ("1024x768", "390x844"):
                device(driver, *SIZES[size], touch=size == "390x844")
                driver.execute_script("scrollTo(0, 0)")
                time.sleep(0.3)   # the picture is drawn again every 250 ms, at the new size
                with_picture = measure(driver, driver.execute_script(LABELS))
                driver.execute_script("document.getElementById('room-picture').style.visibility = 'hidden'")
                without = measure(driver)
                driver.execute_script("document.getElementById('room-picture').style.visibility = ''")
                print(f"{kelvin} K at {size}: mean luminance {with_picture['mean']:.4f} with the picture, "
                      f"{without['mean']:.4f} without; label contrast {min(with_picture['contrast']):.1f}:1 at least")
                assert with_picture["mean"] <= DARK, (kelvin, size, with_picture["mean"], without["mean"])
                assert len(with_picture["contrast"]) == len(demo_room.LIGHTS) and min(with_picture["contrast"]) >= 4.5, with_picture
    finally:
        driver.quit()
        demo.proc.send_signal(signal.SIGTERM)
        demo.proc.wait(20)


def serve_in(tmp_path, broker, room_id, language: str) -> Served:
    """A room whose own language is `language` (room.language in its file), as a clinic would set it."""
    config, catalogue = load(tmp_path, broker, room_id, LIGHTS, **PLACES,
                             room={"id": room_id, "name": "Test room", "language": language},
                             web={"host": "127.0.0.1", "port": 0, "pin": PIN, "api_token": TOKEN, "admin_pin": ADMIN_PIN})
    app = App(config, catalogue, audio=False).start()
    return Served(app, f"http://127.0.0.1:{app.web.port}")


TIMELINE = """
const line = document.querySelector('.timeline');
const words = [...line.querySelectorAll('summary > span:not(.phase-bar), summary .name, summary .length, li, li > span')];
return {
  segments: [...line.querySelectorAll('.phase-bar > span')].map((s) => s.getBoundingClientRect().width),
  empty: words.filter((w) => w.textContent.trim() === '').map((w) => w.outerHTML),
  cut: words.filter((w) => w.scrollWidth > w.clientWidth + 0.5).map((w) => w.textContent),
  items: [...line.querySelectorAll('li')].map((li) => li.querySelector('.name').textContent),
  next: line.querySelector('summary .name')?.textContent ?? null,
  wide: document.scrollingElement.scrollWidth > innerWidth,
};
"""


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_timeline_names_every_phase_whole_at_every_size(browser, tmp_path, broker, room_id, language):
    room = serve_in(tmp_path, broker, room_id, language)
    try:
        panel = Panel(browser, room.base).open_logged_in() if language == "en" else Panel(browser, room.base).open().login()
        for profile in ("psilocybin-8h", "preparation-90m"):
            requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": profile}).raise_for_status()
            phases = [p["name"] for p in requests.get(f"{room.base}/api/state", headers=AUTH).json()["session"]["phases"]]
            for index in range(len(phases)):
                name = phases[index]
                panel.wait(lambda name=name: browser.find_element(By.CSS_SELECTOR, ".phase-name").text == name,
                           what=f"phase {name}")
                for size in SIZES:
                    device(browser, *SIZES[size], touch=True)
                    for open_list in (False, True):
                        browser.execute_script("document.querySelector('.timeline').open = arguments[0]", open_list)
                        shown = browser.execute_script(TIMELINE)
                        where = f"{profile}, phase {index + 1}, {size}, list {'open' if open_list else 'closed'}"
                        assert shown["empty"] == [] and shown["cut"] == [] and not shown["wide"], (where, shown)
                        assert shown["items"] == phases, where
                        assert len(shown["segments"]) == len(phases) and min(shown["segments"]) >= 2, (where, shown)
                        assert shown["next"] == (phases[index + 1] if index + 1 < len(phases) else None), where
                if index + 1 < len(phases):
                    requests.post(f"{room.base}/api/session/next", headers=AUTH).raise_for_status()
            requests.post(f"{room.base}/api/session/stop", headers=AUTH).raise_for_status()
            panel.wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".profiles li"), what="the start screen")
        if language == "de":
            assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "de"
    finally:
        room.stop()


# Every control a finger is meant for that shows now: its size (a checkbox's by its label's), and, scrolled
# into view as the browser does for a search, a tab or a link, whether it ends above the dock.
CONTROLS = """
const dock = document.querySelector('.dock');
const bottomDock = dock.getClientRects().length > 0 && getComputedStyle(dock).position === 'fixed';
const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[inert]');
const controls = [...document.querySelectorAll('button, input, select, summary, a[href], textarea')]
  .filter(shown).filter((e) => !(e.type === 'hidden'));
const name = (e) => e.id || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40) || e.outerHTML.slice(0, 60);
const small = controls.map((e) => {
  const target = (e.type === 'checkbox' || e.type === 'radio') && e.labels.length ? e.labels[0] : e;
  const r = target.getBoundingClientRect();
  return [name(e), Math.round(r.width), Math.round(r.height)];
}).filter(([, w, h]) => w < 44 || h < 44);
const under = [];
if (bottomDock) {
  for (const e of controls.filter((e) => !dock.contains(e) && !e.closest('dialog'))) {
    for (const block of ['end', 'nearest']) {
      e.scrollIntoView({block});
      if (e.getBoundingClientRect().bottom > dock.getBoundingClientRect().top + 0.5) under.push([name(e), block]);
    }
  }
}
scrollTo(0, 0);
return {count: controls.length, small, under};
"""


def check_controls(driver, state: str) -> int:
    found = driver.execute_script(CONTROLS)
    assert found["small"] == [] and found["under"] == [], (state, found)
    return found["count"]


def admin(panel: Panel) -> None:
    panel.tap("tools-open")
    panel.wait(lambda: panel.shown("admin-login") or panel.driver.find_elements(By.CSS_SELECTOR, "#tools-body .profiles"))
    if panel.shown("admin-login"):
        panel.find("admin-pin").send_keys(ADMIN_PIN)
        panel.find("admin-login").submit()
    panel.wait(lambda: panel.driver.find_elements(By.CSS_SELECTOR, "#tools-body .profiles"), what="the tools' lists")


@pytest.mark.parametrize("size", SIZES)
def test_every_control_is_big_enough_and_none_scrolls_under_the_dock(browser, tmp_path, broker, room_id, size):
    room = serve_in(tmp_path, broker, room_id, "en")
    try:
        requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "ketamine-1h"}).raise_for_status()
        requests.post(f"{room.base}/api/session/stop", headers=AUTH).raise_for_status()
        device(browser, *SIZES[size], touch=True)
        panel = Panel(browser, room.base).open()
        panel.wait(lambda: panel.shown("login"))
        counts = {"login": check_controls(browser, "login")}
        panel.login()
        panel.wait(lambda: panel.text("link") == "Live" and browser.find_elements(By.CSS_SELECTOR, "[aria-label^='Start ']"),
                   what="the start screen")
        for summary in browser.find_elements(By.CSS_SELECTOR, "main summary"):
            browser.execute_script("arguments[0].parentElement.open = true", summary)
        panel.wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#past-list a"), what="the past sessions")
        counts["start"] = check_controls(browser, "start screen, every fold-out open")
        requests.post(f"{room.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).raise_for_status()
        requests.post(f"{room.base}/api/presets/calm", headers=AUTH).raise_for_status()
        panel.wait(lambda: panel.shown("release") and browser.find_elements(By.CSS_SELECTOR, ".timeline"), what="the session")
        for summary in browser.find_elements(By.CSS_SELECTOR, "main summary"):
            browser.execute_script("arguments[0].parentElement.open = true", summary)
        counts["session"] = check_controls(browser, "session with calm on, every fold-out open")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", panel.find("session-stop"))
        panel.tap("session-stop")
        panel.wait(lambda: panel.shown("confirm-stop"))
        counts["stop"] = check_controls(browser, "the stop question")
        panel.find("confirm-stop").find_element(By.CSS_SELECTOR, "button[value=keep]").click()
        admin(panel)
        counts["tools"] = check_controls(browser, "the clinic tools' lists")
        browser.find_element(By.CSS_SELECTOR, '[aria-label="Edit Ketamine, about 1 hour"]').click()
        panel.wait(lambda: panel.find("f-name"), what="the profile editor")
        for summary in browser.find_elements(By.CSS_SELECTOR, "#profile-form summary"):
            browser.execute_script("arguments[0].parentElement.open = true", summary)
        counts["editor"] = check_controls(browser, "the profile editor, every fold-out open")
        browser.find_element(By.XPATH, "//form[@id='profile-form']//button[normalize-space()='Back']").click()
        panel.wait(lambda: browser.find_element(By.CSS_SELECTOR, '[aria-label="Edit preset Calm"]').click() or True,
                   what="the preset list")
        panel.wait(lambda: panel.find("preset-form"), what="the preset editor")
        for summary in browser.find_elements(By.CSS_SELECTOR, "#preset-form summary"):
            browser.execute_script("arguments[0].parentElement.open = true", summary)
        counts["preset editor"] = check_controls(browser, "the preset editor")
        panel.tap("tools-close")
        assert all(counts.values()), counts
    finally:
        room.stop()
