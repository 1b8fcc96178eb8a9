"""The therapist's volume shown honestly and "Follow the phase" (issue 11, the panel side of part 5), in
Chromium against a room with real libvlc (dummy output) and a real broker: the slider stays at the chosen
volume while the level ramps towards it, the room's max_volume is named when it holds the volume back, and
one "Follow the phase" control per card gives an adjustment up."""

from __future__ import annotations

import re

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.broker import Capture
from tests.web.conftest import AUTH, serve
from tests.web.panel import Panel

FLOOR = "cmnd/floorlamp/Backlog"
FOLLOW = "//button[normalize-space()='Follow the phase']"


@pytest.fixture
def music_room(tmp_path, broker, room_id):
    room = serve(tmp_path, broker, room_id, audio=True)        # max_volume 80, rises 5 points a second
    yield room
    room.stop()


def audio(room) -> dict:
    return requests.get(f"{room.base}/api/state", headers=AUTH).json()["audio"]


def follow_buttons(browser, card: str) -> list:
    return [b for b in browser.find_elements(By.XPATH, f"//section[@aria-labelledby='{card}-title']{FOLLOW}")
            if b.is_displayed()]


def test_the_slider_holds_the_chosen_volume_while_the_level_ramps_and_names_the_limit(browser, music_room):
    requests.post(f"{music_room.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).raise_for_status()
    panel = Panel(browser, music_room.base).open_logged_in()
    panel.wait(lambda: audio(music_room)["volume"] == 30, timeout=10, what="the phase's volume")
    panel.wait_text("volume-out", "30 %")
    assert not panel.shown("volume-limit") and follow_buttons(browser, "music") == []

    panel.find("volume").send_keys(Keys.END)                   # the therapist asks for 100 %
    panel.wait(lambda: panel.shown("volume-limit"), what="the limit to be named")
    assert panel.text("volume-limit") == "Limited to 80 % by the room."
    seen = set()
    while audio(music_room)["volume"] < 79:           # the level rises towards 80 ...
        assert panel.find("volume").get_attribute("value") == "100"    # ... and the slider never jumps back
        shown = panel.text("volume-out")
        match = re.fullmatch(r"100 % · now (\d+) %", shown)
        assert match or shown == "100 %", shown
        if match:
            seen.add(int(match[1]))
    assert seen and min(seen) < 80, "the level now was never shown while it ramped"
    panel.wait(lambda: float(panel.find("volume-now").value_of_css_property("width")[:-2]) > 0, what="the level bar")
    state = audio(music_room)
    assert (state["requested_volume"], state["target_volume"], state["limited"], state["volume_source"]) \
        == (100, 80, True, "therapist")

    assert len(follow_buttons(browser, "music")) == 1
    follow_buttons(browser, "music")[0].click()
    panel.wait(lambda: audio(music_room)["volume_source"] == "phase", what="the volume to follow the phase")
    panel.wait(lambda: panel.find("volume").get_attribute("value") == "30", what="the slider at the phase's 30 %")
    panel.wait(lambda: follow_buttons(browser, "music") == [] and not panel.shown("volume-limit"))


@pytest.mark.parametrize("session", [False, True], ids=["no session", "session"])
def test_follow_the_phase_gives_the_light_adjustment_up(browser, served, broker, session):
    if session:
        requests.post(f"{served.base}/api/session", headers=AUTH, json={"profile": "psilocybin-8h"}).raise_for_status()
    panel = Panel(browser, served.base).open_logged_in()
    assert follow_buttons(browser, "light") == []
    requests.patch(f"{served.base}/api/lights", headers=AUTH, json={"brightness": 70}).raise_for_status()
    panel.wait_text("room-brightness-out", "70 %")
    if not session:                                             # no phase to follow
        assert follow_buttons(browser, "light") == []
        return
    panel.wait(lambda: len(follow_buttons(browser, "light")) == 1, what="one 'Follow the phase' in the Light card")
    assert follow_buttons(browser, "music") == []               # this room plays no music
    cap = Capture(broker, FLOOR)
    follow_buttons(browser, "light")[0].click()
    assert cap.next().payload                                   # the lamp is told again ...
    panel.wait_text("room-brightness-out", "45 %")              # ... Arrival's 45 %
    panel.wait(lambda: follow_buttons(browser, "light") == [], what="the control to go")
    state = requests.get(f"{served.base}/api/state", headers=AUTH).json()
    assert state["follow_phase"]["lights"] is True
    assert {light["target"]["brightness"] for light in state["lights"]} == {45}
    cap.close()
