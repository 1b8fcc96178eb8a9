"""The panel during an emergency: Calm beside the held Emergency light changes no light and says how to leave
it; the release control names what the room returns to, and releasing goes back to the phase."""

from __future__ import annotations

import json
import time

from selenium.webdriver.common.by import By

from room_controller.core.inbox import COMMAND_PACE
from room_controller.core.sources import FLIP_LIMIT
from tests.broker import MARK, Capture
from tests.core.test_emergency_holds import journaled
from tests.web.panel import Panel

CEILING = "zigbee2mqtt/Ceiling lamp/set"
FULL = '{"state":"ON","brightness":254,"color_temp":250,"transition":0}'


def test_calm_during_emergency_moves_no_light_and_says_how_to_leave(browser, served, broker):
    app = served.app
    app.loop.call(app.room.session.start, "ketamine-1h")                 # a phase to go back to: Arrival
    panel = Panel(browser, served.base).open_logged_in()
    cap = Capture(broker, CEILING, MARK)
    cap.sent_until_now(app)
    panel.hold("emergency", 1.3)
    panel.wait_text("preset-status", "Emergency light is on")
    got = cap.sent_until_now(app)   # at once, and again 2.3 s on: a bulb its bridge has not described may be an
    while len(got) < 2:              # IKEA bulb busy with a colour step (issue 24)
        got.append(cap.next())
    assert [m.payload for m in got] == [FULL] * 2
    panel.wait(lambda: panel.find("release").accessible_name == "Release emergency light · back to Arrival",
               what="the release control to say what the room returns to")
    assert (panel.text("release-what"), panel.text("release-to")) == ("Release emergency light", "back to Arrival")
    panel.tap("calm")
    panel.wait_text("toast", "The emergency light holds: Calm cannot dim it. To leave it, tap “Release emergency light”.")
    assert cap.sent_until_now(app) == []                                # no light moved
    assert app.room.snapshot()["preset"] == "emergency"
    assert panel.text("preset-status") == "Emergency light is on"
    panel.release()
    back = json.loads(cap.next().payload)
    assert back == {"state": "ON", "brightness": 102, "transition": 3.8}   # Arrival's 40 %, gently; its white after
    panel.wait(lambda: not panel.shown("release"), what="the release control to go away")
    assert app.room.snapshot()["preset"] is None
    cap.close()


def test_a_held_source_is_a_problem_line_with_the_control_that_clears_it(browser, served, broker, room_id):
    app = served.app
    panel = Panel(browser, served.base).open_logged_in()
    command = f"therapy-room/{room_id}/command"
    automation = Capture(broker, "nothing")
    for i in range(FLIP_LIMIT + 1):                                     # each past the source's pace: all delivered
        automation.publish(command, ('{"preset": "calm"}', '{"preset": null}')[i % 2])
        panel.wait(lambda i=i: len(journaled(app, "preset_on")) + len(journaled(app, "preset_off")) >= i + 1
                   or journaled(app, "source_held"), what="the command to act")
        time.sleep(COMMAND_PACE)
    line = panel.wait(lambda: panel.driver.find_element(By.CSS_SELECTOR, "#problems .held-source"),
                      what="the held source's line")
    assert line.text == ("Home Assistant or an automation kept changing the preset: its preset commands are ignored "
                         "until you let it act again Let it act again")
    line.find_element(By.TAG_NAME, "button").click()
    panel.wait(lambda: not app.room.presets.sources.held, what="the source to be cleared")
    panel.wait(lambda: not panel.shown("problems"), what="the problem line to go")
    assert [d["source"] for d in journaled(app, "source_cleared")] == [command]
    automation.close()
