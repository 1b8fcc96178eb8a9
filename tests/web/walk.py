"""A whole session walked through the real panel (issue 22 §10): the room it runs in, what it checks at every
step, and the log of what it did, which the session's report is compared with at the end.

The room runs on a test clock (8 hours advanced in ten-minute steps, every step checked) with a real broker,
a Zigbee2MQTT and a Tasmota light whose commands are captured as the devices would receive them, music (VLC,
silent output) and max_volume 80. The invariants, after every step: Calm is what shows at Calm's centre and
a tap makes the room calm within calm's fade; every light was last told what the room says it told, that is
what the layers say once its fade is over (the preset's scene, else the phase's); the panel shows the room's
phase, time, preset and volume. A fault is kept under the promise it breaks (`PROMISES`), so one walk gives a
verdict per promise and a broken promise does not hide the others.
"""

from __future__ import annotations

import html
import json
import random
import time
import traceback
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from room_controller.app import App
from room_controller.audio.music import Music
from room_controller.core.session import CHECKPOINT_EVERY
from room_controller.infrastructure.clock import ManualClock
from room_controller.vitals.model import Limits
from tests.broker import MARK, Capture, free_port
from tests.rooms import load
from tests.web.conftest import AUTH, LIGHTS, PIN, PLACES, TOKEN, device
from tests.web.panel import Panel

PROMISES = {
    "walk": "the walk went through",
    "calm": "calm is reachable and working",
    "dialogs": "calm works over every dialog (§1)",
    "lights": "every light is where the layers say",
    "panel": "the panel shows the truth",
    "emergency": "emergency holds until released (§2)",
    "undo": "a phase move can be undone (§3)",
    "vitals": "vitals are entered and noticed",
    "limits": "vitals limits say where they come from (§4)",
    "volume": "the volume is held at the room's cap",
    "restart": "the panel follows the room through a restart",
    "report": "the report tells what the walk did",
    "record": "the report tells the volume played and the move undone (§3, §5)",
    "split": "the report tells the phase a restart fell in as one phase",
}
WIRE = {"ceiling": "zigbee2mqtt/Ceiling lamp/set", "floor": "cmnd/floorlamp/Backlog"}
SCALE = {"ceiling": 254, "floor": 100}     # the devices' brightness at 100 % (both perceptual: L* scaled)
WHITE = (153, 500)                         # both devices' white range, in mired; warmer goes through colour
STEP = 600.0                               # the test clock's step: shorter than any phase, so none is missed
RESTART_GAP = 20.0                         # seconds the room is off
MAX_VOLUME = 80
# a walk per device: its viewport, the profile started, the seed of its dialogs' moments
WALKS = {"tablet": ((1024, 768), "psilocybin-8h", 22), "phone": ((390, 844), "mdma-8h", 10)}
DIALOGS = {"tools": ("tools-open", "tools-close"), "confirm-stop": (None, None), "set-clock": ("clock-open", "clock-cancel")}


class WalkClock(ManualClock):
    """The room's test clock. The music thread is not walked through each of its 50 ms volume steps (that
    costs 40 s of real time per session hour): it catches up with the clock whenever it is told something,
    as after a busy spell. Everything else (the core loop: phases, fades, checkpoints) runs at its times."""

    def register(self, loop) -> None:
        if not isinstance(loop, Music):
            super().register(loop)


def told(light_id: str, payload: str) -> dict:
    """What a device makes of its last command: on, level (its own scale), white (mired) or a colour."""
    if light_id == "ceiling":
        body = json.loads(payload)
        return {"on": body["state"] == "ON", "level": body.get("brightness"), "mired": body.get("color_temp"),
                "colour": "color" in body}
    parts = dict(part.split(" ", 1) for part in payload.split("; "))
    if parts.get("Power") == "OFF":
        return {"on": False, "level": None, "mired": None, "colour": False}
    if "HSBColor" in parts:
        return {"on": True, "level": int(parts["HSBColor"].split(",")[2]), "mired": None, "colour": True}
    if "Color" in parts:   # a white as Tasmota's cold and warm channels: the white is compared as them
        cold, warm = map(int, parts["Color"].split(",")[3:5])
        return {"on": True, "level": round((cold + warm) * 100 / 255), "mired": (cold, warm), "colour": False}
    return {"on": True, "level": int(parts.get("White", parts.get("Dimmer", "0"))),
            "mired": int(parts["CT"]) if "CT" in parts else None, "colour": False}


def wire_for(light_id: str, state: dict) -> dict:
    """What a device should have been told to show `state` (the API's form of a light's state)."""
    if not state["on"]:
        return {"on": False, "level": None, "mired": None, "colour": False}
    level = max(1, round(state["brightness"] * SCALE[light_id] / 100))
    mired = round(1e6 / state["kelvin"]) if state.get("kelvin") else None
    if mired is not None and not WHITE[0] <= mired <= WHITE[1]:
        return {"on": True, "level": level, "mired": None, "colour": True}
    if light_id == "floor" and mired is not None:   # Tasmota's linked white: cold and warm sum to the level
        level255 = round(level * 255 / 100)
        warm = round(level255 * (mired - WHITE[0]) / (WHITE[1] - WHITE[0]))
        return {"on": True, "level": level, "mired": (level255 - warm, warm), "colour": False}
    return {"on": True, "level": level, "mired": mired, "colour": state.get("mode") == "color"}


def near(wire: dict, expected: dict) -> bool:
    """The same command, give or take the device unit that the API's 0.1 % and whole kelvin round away (a
    step of a fade lies between whole values)."""
    def close(a, b) -> bool:
        if isinstance(a, tuple) and isinstance(b, tuple):   # a white's channels 0-255: one unit of the level
            return all(abs(x - y) <= 3 for x, y in zip(a, b))   # (1 % = 2.55) and a rounding
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            return abs(a - b) <= 1
        return a == b
    return all(close(wire[k], expected[k]) for k in wire)


def seconds(text: str) -> float:
    """'1:02:03' or '2:03' as the panel shows times."""
    value = 0
    for part in text.split(":"):
        value = value * 60 + int(part)
    return value


class Room:
    """The room on the test clock: started, checked on the wire and over the API, and restarted."""

    def __init__(self, tmp_path: Path, broker, room_id: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        web = {"host": "127.0.0.1", "port": self.port, "pin": PIN, "api_token": TOKEN}
        audio = {"vlc_args": ["--aout=dummy"], "max_volume": MAX_VOLUME}
        self.config, self.catalogue = load(tmp_path, broker, room_id, LIGHTS, web=web, audio=audio, **PLACES)
        self.wire = Capture(broker, *WIRE.values(), MARK)
        self.clock = WalkClock()
        self.app = self._start()

    def _start(self) -> App:
        app = App(self.config, self.catalogue, clock=self.clock, audio=True).start()
        deadline = time.monotonic() + 5
        while not app.room.mqtt_connected and time.monotonic() < deadline:
            time.sleep(0.01)
        app.loop.settle()
        return app

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.app.loop.settle()
        self.music.settle()

    @property
    def music(self) -> Music:
        assert self.app.music is not None, "the walk's room plays music"
        return self.app.music

    def come_back(self, gap: float) -> None:
        """After `self.app.stop()`: a new service on the same data and broker `gap` seconds later, after a
        reboot of a computer without network time (monotonic time starts again, the wall clock is not believed),
        so the room resumes at its last checkpoint and asks for the session time."""
        self.clock = WalkClock(start=50.0, wall_start=self.clock.wall() + gap, boot="boot-2", synchronised=False)
        self.app = self._start()

    def stop(self) -> None:
        self.app.stop()
        self.wire.close()

    def call(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", headers=AUTH, timeout=10, **kw)

    def state(self) -> dict:
        return self.call("GET", "/api/state").json()

    def last_told(self) -> dict[str, str | None]:
        """Each light's last command on the broker, once everything the room sent until now has arrived."""
        self.wire.sent_until_now(self.app)
        last: dict[str, str | None] = dict.fromkeys(WIRE)
        for seen in self.wire.all:
            for light_id, topic in WIRE.items():
                if seen.topic == topic:
                    last[light_id] = seen.payload
        return last

    def scene(self, state: dict) -> tuple[float, float] | None:
        """(brightness, kelvin) the layers say: the preset's scene over the phase's; None without either."""
        if state["preset"]:
            lights = self.config.presets[state["preset"]].lights
        elif state["session"]:
            profile = self.app.room.session.profiles[state["session"]["profile"]]
            lights = profile.phases[state["session"]["phase"]["index"]].lights
        else:
            return None
        return lights.brightness, lights.kelvin


@dataclass
class Log:
    """What the walk did, as the report should tell it."""
    phases: list[str] = field(default_factory=list)       # the phases, in order (a move undone is none)
    presets: Counter = field(default_factory=Counter)     # how often each preset came on
    notes: list[str] = field(default_factory=list)
    vitals: list[dict] = field(default_factory=list)
    requested_volume: float | None = None
    move: tuple[str, str] | None = None                   # (the phase left, the phase moved to), undone
    restarted_at: float | None = None                     # session time when the room went off
    resumed_at: float | None = None                       # and where it resumed (its last checkpoint)
    set_to: float | None = None                           # the session time the therapist set after it


class Walk:
    def __init__(self, driver, room: Room, size: tuple[int, int], profile: str, seed: int,
                 shots: Path | None = None, name: str = "") -> None:
        self.driver, self.room, self.size, self.profile = driver, room, size, profile
        self.rng = random.Random(seed)
        self.shots, self.name = shots, name
        self.panel = Panel(driver, room.base)
        self.log = Log()
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.checks: Counter = Counter()
        self.step = "start"
        self.dialog: str | None = None        # the dialog open now
        self.advanced_at = time.monotonic()   # real time of the last clock step: the panel counts on from it
        self.pictures: list[str] = []

    # -- verdicts ------------------------------------------------------------------------------------------------

    def expect(self, promise: str, ok: bool, what: str) -> bool:
        self.checks[promise] += 1
        if not ok:
            self.faults[promise].append(f"{self.step}: {what}")
        return ok

    @contextmanager
    def attempt(self, promise: str):
        """A step that may fail outright (a control missing): a fault of `promise`, and the walk goes on."""
        self.checks[promise] += 1
        try:
            yield
        except Exception as exc:   # recorded, never swallowed: the promise's verdict fails with it
            self.faults[promise].append(f"{self.step}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")

    def picture(self, what: str) -> None:
        """A screenshot of this step, the first time the walk comes to it (walk-<device>-<nn>-<step>.png)."""
        if self.shots is not None and what not in self.pictures:
            self.pictures.append(what)
            self.driver.save_screenshot(str(self.shots / f"walk-{self.name}-{len(self.pictures):02d}-{what}.png"))

    # -- the panel as the therapist touches it -------------------------------------------------------------------

    def centre(self, element_id: str) -> tuple[int, int]:
        r = self.driver.execute_script("const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                                       "return [r.left + r.width / 2, r.top + r.height / 2];", element_id)
        return int(r[0]), int(r[1])

    def taps(self, x: int, y: int, count: int = 1, gap: float = 0.3, hold: float = 0.05) -> None:
        """A finger down and up at (x, y) `count` times, as a touch screen sends them."""
        actions = ActionBuilder(self.driver, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
        actions.pointer_action.move_to_location(x, y)
        for i in range(count):
            if i:
                actions.pointer_action.pause(gap - hold)
            actions.pointer_action.pointer_down().pause(hold).pointer_up()
        actions.perform()

    def tap(self, element) -> None:
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        r = element.rect
        self.taps(int(r["x"] + r["width"] / 2 - self.scroll()[0]), int(r["y"] + r["height"] / 2 - self.scroll()[1]))

    def scroll(self) -> tuple[int, int]:
        return tuple(self.driver.execute_script("return [window.scrollX, window.scrollY]"))

    def button(self, words: str):
        """The visible button that says `words` (or starts with them)."""
        for b in self.driver.find_elements(By.TAG_NAME, "button"):
            if b.is_displayed() and b.text.strip().startswith(words):
                return b
        raise AssertionError(f"no button {words!r} on the panel")

    def press(self, words: str) -> None:
        self.panel.wait(lambda: self.button(words), what=f"a button {words!r}")
        self.tap(self.button(words))

    def wait_state(self, condition, what: str, timeout: float = 5.0) -> dict:
        def met() -> dict | None:
            state = self.room.state()
            return state if condition(state) else None
        return self.panel.wait(met, timeout, what)

    # -- the invariants ------------------------------------------------------------------------------------------

    def calm_shows(self) -> bool:
        """The element at Calm's centre is Calm, and that centre is on the screen (over a dialog: §1)."""
        promise = "dialogs" if self.dialog else "calm"
        found = self.driver.execute_script(
            "const c = document.getElementById('calm'); const r = c.getBoundingClientRect();"
            "const x = r.left + r.width / 2, y = r.top + r.height / 2;"
            "const e = document.elementFromPoint(x, y);"
            "return [x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight && !!e && c.contains(e),"
            "        e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') : 'nothing'];")
        return self.expect(promise, found[0], f"at Calm's centre is {found[1]}")

    def check(self) -> dict:
        """Every invariant, now; returns the room's state."""
        self.calm_shows()
        state = self.room.state()
        self.check_lights(state)
        self.check_panel(state)
        return state

    def check_lights(self, state: dict) -> None:
        last = self.room.last_told()
        scene = self.room.scene(state)
        for light in state["lights"]:
            lid, payload = light["id"], last[light["id"]]
            if payload is None:
                self.expect("lights", False, f"{lid} was never told anything")
                continue
            wire = told(lid, payload)
            self.expect("lights", near(wire, wire_for(lid, light["state"])),
                        f"{lid} was last told {last[lid]!r}, the room says it shows {light['state']}")
            if light["fading"]:
                continue
            self.expect("lights", wire == wire_for(lid, light["target"]),
                        f"{lid} was last told {last[lid]!r}, its target is {light['target']} and no fade runs")
            if scene is not None:
                brightness, kelvin = scene
                self.expect("lights", (light["target"]["brightness"], light["target"].get("kelvin"))
                            == (brightness, kelvin), f"{lid}'s target {light['target']}, the layers say {scene}")

    def shown(self) -> dict:
        return self.driver.execute_script("""
            const text = (id) => document.getElementById(id)?.textContent.trim() ?? null;
            const name = document.querySelector('#session-body .phase-name');
            return {phase: name ? name.textContent.trim() : null, elapsed: text('phase-elapsed'),
                    preset: text('preset-status'), volume: document.getElementById('volume').value,
                    limited: !document.getElementById('volume-limit').hidden, link: text('link')};""")

    def check_panel(self, state: dict) -> None:
        """The panel shows the room's phase and the phase's time (counted on locally since the clock last
        moved), its preset and its volume. Waited for, against the room's latest state: a state event is on
        its way after each change, and the music thread may still be taking one in."""

        def agrees() -> list[str]:
            nonlocal state
            state = self.room.state()
            session, audio = state["session"], state["audio"]
            preset = {None: "", "calm": "Calm is on", "emergency": "Emergency light is on"}.get(state["preset"])
            shown = self.shown()
            wrong = []
            if shown["phase"] != (session["phase"]["name"] if session else None):
                wrong.append(f"phase {shown['phase']!r}")
            if session and shown["elapsed"]:
                ahead = seconds(shown["elapsed"]) - session["phase"]["elapsed_s"]
                if not -1.5 <= ahead <= time.monotonic() - self.advanced_at + 1.5:
                    wrong.append(f"phase time {shown['elapsed']} for {session['phase']['elapsed_s']} s")
            if preset is not None and shown["preset"] != preset:
                wrong.append(f"preset {shown['preset']!r}")
            if round(audio["requested_volume"]) != int(shown["volume"]):
                wrong.append(f"volume {shown['volume']}")
            if shown["limited"] != audio["limited"]:
                wrong.append(f"limit note shown: {shown['limited']}")
            return wrong

        try:
            self.panel.wait(lambda: not agrees(), what="the panel to agree")
            self.expect("panel", True, "")
        except AssertionError:
            wrong = agrees()
            self.expect("panel", False, f"shows {', '.join(wrong)}; the room: phase "
                        f"{state['session'] and state['session']['phase']}, preset {state['preset']}, "
                        f"volume {state['audio']['requested_volume']}")

    # -- the clock ----------------------------------------------------------------------------------------------

    def advance(self, seconds: float) -> dict:
        self.room.advance(seconds)
        self.advanced_at = time.monotonic()
        return self.follow()

    def follow(self) -> dict:
        """Check everything and note the phase the room is in now."""
        state = self.check()
        if state["session"] and (not self.log.phases or self.log.phases[-1] != state["session"]["phase"]["name"]):
            self.log.phases.append(state["session"]["phase"]["name"])
        return state

    # -- the steps -----------------------------------------------------------------------------------------------

    def open_panel(self) -> None:
        device(self.driver, *self.size, touch=True)
        self.panel.open_logged_in()

    def start(self, name: str) -> None:
        self.step = "start"
        start = self.panel.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, f"[aria-label='Start {name}']"),
                                what=f"{name} on the start screen")
        self.tap(start)
        self.wait_state(lambda s: s["session"] is not None, "the session to start")
        self.follow()
        self.picture("started")

    def calm(self, dialog: str | None = None) -> None:
        """A double tap where Calm shows (over `dialog`, opened first), the room calm within calm's fade, and
        released from its own control."""
        promise = "dialogs" if dialog else "calm"
        self.step = f"calm over {dialog}" if dialog else "calm double-tapped"
        if dialog:
            self.open_dialog(dialog)
        self.calm_shows()
        before = self.room.state()["preset"]
        self.taps(*self.centre("calm"), count=2)
        try:
            self.wait_state(lambda s: s["preset"] == "calm", "the room to be calm")
            calm = True
        except AssertionError:
            calm = False
        self.expect(promise, calm, "two taps on Calm did not bring calm")
        if calm and before != "calm":
            self.log.presets["calm"] += 1
        self.advance(self.room.config.presets["calm"].lights.transition)   # calm's own fade
        self.picture(f"calm-{dialog}" if dialog else "calm")
        if dialog:
            self.close_dialog(dialog)
        if calm:
            self.release("Release calm")

    def open_dialog(self, dialog: str) -> None:
        opener = DIALOGS[dialog][0] or ""
        if dialog == "confirm-stop":
            self.press("Stop…")
        else:
            self.tap(self.panel.find(opener))
        self.panel.wait(lambda: self.panel.shown(dialog), what=f"the dialog {dialog}")
        self.dialog = dialog

    def close_dialog(self, dialog: str) -> None:
        self.dialog = None
        if not self.panel.shown(dialog):
            return
        closer = DIALOGS[dialog][1] or ""
        if dialog == "confirm-stop":
            self.press("Keep going")
        else:
            self.tap(self.panel.find(closer))
        self.panel.wait(lambda: not self.panel.shown(dialog), what=f"the dialog {dialog} to close")

    def release(self, words: str) -> dict:
        """Tap the control that releases the preset once it can be pressed; the room back to the phase within
        the return fade."""
        self.panel.wait(lambda: self.button(words).is_enabled(), what=f"{words!r} to be usable")
        phase = self.room.state()["session"]["phase"]["name"]
        control = self.button(words)
        self.expect("panel", control.text.endswith(f"back to {phase}"), f"the release control says {control.text!r}")
        self.tap(control)
        self.wait_state(lambda s: s["preset"] is None, "the preset to be released")
        return self.advance(5)   # the return fade (core/layers.py RETURN_TRANSITION)

    def emergency(self) -> None:
        """Emergency held; one tap on Calm beside it changes nothing (§2); released from its own control."""
        self.step = "emergency held"
        x, y = self.centre("emergency")
        self.taps(x, y, hold=1.3)
        self.wait_state(lambda s: s["preset"] == "emergency", "emergency light")
        self.log.presets["emergency"] += 1
        self.advance(1)
        self.picture("emergency")
        self.step = "calm tapped during emergency"
        self.taps(*self.centre("calm"))
        try:   # refused (§2): the panel says how to leave emergency; else the room went calm
            shown = self.panel.wait(lambda: self.panel.text("toast") or self.room.state()["preset"] != "emergency",
                                    what="an answer to the tap")
        except AssertionError:
            shown = None
        state = self.room.state()
        if state["preset"] == "calm":
            self.log.presets["calm"] += 1
        self.expect("emergency", state["preset"] == "emergency",
                    f"one tap on Calm during emergency made the room {state['preset']}")
        self.expect("emergency", isinstance(shown, str) and "emergency" in shown.lower(),
                    f"the panel said {shown!r} of the refused tap")
        self.advance(3)
        self.step = "emergency released"
        words = "Release emergency light" if state["preset"] == "emergency" else "Release calm"
        self.release(words)

    def move_and_undo(self) -> None:
        """Next phase, then Undo: back in the phase left, at the time it had reached, lights and music too."""
        self.step = "phase moved"
        before = self.room.state()["session"]
        self.press("Next phase")
        moved = self.wait_state(lambda s: s["session"]["phase"]["index"] == before["phase"]["index"] + 1,
                                "the next phase")["session"]
        self.follow()
        self.advance(2)
        self.step = "phase move undone"
        undone = False
        with self.attempt("undo"):
            self.panel.wait(lambda: self.button("Undo"), what="an Undo control")
            self.picture("moved")
            self.press("Undo")
            after = self.wait_state(lambda s: s["session"]["phase"]["index"] == before["phase"]["index"],
                                    "the phase left")["session"]
            undone = True
            self.log.move = (before["phase"]["name"], moved["phase"]["name"])
            self.follow()
            del self.log.phases[-2:]   # the report tells the phase left going on, the move undone under it
            self.expect("undo", abs(after["phase"]["elapsed_s"] - (before["phase"]["elapsed_s"] + 2)) <= 0.1,
                        f"back at {after['phase']['elapsed_s']} s into {after['phase']['name']}, "
                        f"left at {before['phase']['elapsed_s']} s 2 s ago")
            playlist = self.advance(1)["audio"]["playlist"]   # the music tells the room within 0.25 s of its clock
            self.expect("undo", self.phase_playlist(after) in (None, playlist), f"music {playlist} after the undo")
        if not undone:   # as a therapist would without Undo: the phase left, restarted at 0:00
            self.press("Previous phase")
            self.wait_state(lambda s: s["session"]["phase"]["index"] == before["phase"]["index"], "the phase left")
        self.follow()

    def phase_playlist(self, session: dict) -> str | None:
        music = self.room.app.room.session.profiles[session["profile"]].phases[session["phase"]["index"]].music
        return getattr(music, "playlist", None)

    def vitals(self, values: dict, beyond: bool) -> None:
        self.step = "vitals beyond a limit" if beyond else "vitals entered"
        for name, value in values.items():
            box = self.panel.find(f"vital-{name}")
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
            box.clear()
            box.send_keys(str(value))
        self.tap(self.panel.find("vital-save"))
        state = self.wait_state(lambda s: len(s["vitals"]["readings"]) == len(self.log.vitals) + 1, "the reading")
        self.log.vitals.append(values)
        reading = state["vitals"]["readings"][-1]
        self.expect("vitals", {k: reading.get(k) for k in values} == values, f"the room keeps {reading}")
        notices = state["vitals"].get("notices", [])
        self.expect("vitals", bool(notices) == beyond or not self.limits(), f"notices {notices}")
        with self.attempt("limits"):
            card = self.panel.wait(lambda: self.panel.text("vitals"), what="the vitals card")
            self.check_limits(card, beyond)
        self.picture("vitals-beyond" if beyond else "vitals")

    def limits(self) -> Limits | None:
        session = self.room.state()["session"]
        return self.room.app.room.session.profiles[session["profile"]].vitals_limits

    def check_limits(self, card: str, beyond: bool) -> None:
        """§4: the card says whose limits it checks (examples as examples) or that there are none; a notice
        quotes the source of the limit crossed."""
        limits = self.limits()
        if limits is None:
            assert "No limits set for this profile: readings are recorded, not checked" in card, card
            return
        if limits.source == "example":
            assert "Example limits, not this clinic's: set the protocol's own in the profile" in card, card
            if beyond:
                assert "Beyond an example limit (not set by this clinic)" in card, card
        else:
            assert f"Limits: {limits.source}" in card, card
            if beyond:
                assert f"Beyond the limit of {limits.source}" in card, card

    def note(self, text: str | None) -> None:
        """A note typed, or (None) the 'Client resting' marker."""
        self.step = "note"
        if text is None:
            self.press("Client resting")
            text = "client resting"
        else:
            box = self.panel.find("note-text")
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
            box.send_keys(text)
            self.press("Add note")
        self.panel.wait(lambda: self.panel.text("toast").endswith(f": {text}"), what="the note's confirmation")
        self.log.notes.append(text)

    def volume(self) -> None:
        """The volume slider pushed to 95 % in a room whose max_volume is 80: the room plays 80, says so."""
        self.step = "volume past the cap"
        slider = self.panel.find("volume")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
        width = slider.size["width"] - 48
        value = float(slider.get_attribute("value"))
        self.panel.drag("volume", int(width * (95 - value) / 100))
        self.panel.wait(lambda: self.room.music.snapshot()["requested_volume"] > MAX_VOLUME,
                        what="the request past the cap")
        state = self.advance(1)   # the music tells the room of a change at most every 0.25 s of its clock
        self.log.requested_volume = state["audio"]["requested_volume"]
        self.expect("volume", state["audio"]["requested_volume"] > MAX_VOLUME, f"the room was asked {state['audio']}")
        self.advance(30)
        audio = self.room.state()["audio"]
        self.expect("volume", audio["volume"] <= MAX_VOLUME and audio["limited"], f"the room plays {audio}")
        self.panel.wait(lambda: self.panel.shown("volume-limit"), what="the limit's note")
        self.expect("volume", self.panel.text("volume-limit") == f"Limited to {MAX_VOLUME} % by the room.",
                    f"the panel says {self.panel.text('volume-limit')!r}")
        self.picture("volume")

    def restart(self) -> None:
        """The service stops and the computer starts again without network time: the open panel reconnects by
        itself (no reload), the session resumes at its last checkpoint and the lights are told again; the panel
        asks for the session time (Calm tapped over that dialog too), and the therapist sets it."""
        self.step = "service restarted"
        self.driver.execute_script("window.walkNoReload = true")
        before = self.room.state()["session"]
        self.log.restarted_at = before["elapsed_s"]
        self.room.app.stop()
        with self.attempt("restart"):
            self.panel.wait(lambda: self.panel.text("link").startswith("Reconnecting"), 30, "the panel to notice")
        self.room.come_back(RESTART_GAP)
        self.advanced_at = time.monotonic()
        with self.attempt("restart"):
            self.panel.wait(lambda: self.panel.text("link") == "Live", 30, "the panel to reconnect")
            self.expect("restart", self.driver.execute_script("return window.walkNoReload === true"),
                        "the panel reloaded")
        state = self.room.state()
        self.log.resumed_at = state["session"]["elapsed_s"]
        self.expect("restart", before["elapsed_s"] - CHECKPOINT_EVERY <= state["session"]["elapsed_s"]
                    <= before["elapsed_s"], f"resumed at {state['session']['elapsed_s']} s, stopped at "
                    f"{before['elapsed_s']} s")
        self.advance(self.room.config.lighting.reassert_transition)
        self.picture("restarted")
        with self.attempt("restart"):
            self.panel.wait(lambda: self.panel.shown("clock-open"), what="the session time's correction")
            self.calm("set-clock")
            self.step = "session time set"
            minutes = int(before["elapsed_s"] + RESTART_GAP) // 60 + 1
            self.tap(self.panel.find("clock-open"))
            for box, value in (("clock-hours", minutes // 60), ("clock-minutes", minutes % 60)):
                self.panel.find(box).send_keys(Keys.CONTROL, "a", Keys.DELETE)
                self.panel.find(box).send_keys(str(value))
            self.tap(self.panel.find("clock-confirm"))
            self.wait_state(lambda s: s["session"]["elapsed_s"] == minutes * 60, "the session time set")
            self.log.set_to = minutes * 60.0
            self.follow()

    def stop(self) -> None:
        self.step = "session stopped"
        self.press("Stop…")
        self.press("Stop session")
        self.wait_state(lambda s: s["session"] is None, "the session to end")
        self.panel.wait(lambda: self.driver.find_element(By.CSS_SELECTOR, ".profiles li"), what="the start screen")
        self.check()

    # -- the report ----------------------------------------------------------------------------------------------

    def report(self) -> None:
        """The report (JSON and the printable page) against the walk's log."""
        self.step = "report"
        session_id = self.room.call("GET", "/api/sessions").json()[-1]["id"]
        report = self.room.call("GET", f"/api/sessions/{session_id}/report", params={"format": "json"}).json()
        page = self.room.call("GET", f"/api/sessions/{session_id}/report", params={"format": "html"}).text
        log = self.log
        entered = [p["name"] for p in report["phases"]]
        once = [name for i, name in enumerate(entered) if i == 0 or entered[i - 1] != name]
        self.expect("report", once == log.phases, f"phases {entered}, the walk saw {log.phases}")
        self.expect("split", entered == once, f"phases {entered}: the phase the room resumed in after the "
                    "restart is told as two")
        used = {p["name"]: p["times"] for p in report["presets_used"]}
        self.expect("report", used == dict(log.presets), f"presets {used}, the walk brought on {dict(log.presets)}")
        notes = [n["text"] for n in report["notes"]]
        self.expect("report", notes == log.notes, f"notes {notes}, the walk wrote {log.notes}")
        readings = [{k: r.get(k) for k in want} for r, want in zip(report["vitals"], log.vitals)]
        self.expect("report", readings == log.vitals, f"vitals {report['vitals']}, the walk entered {log.vitals}")
        beyond = [bool(r["crossed"]) for r in report["vitals"]]
        self.expect("report", beyond == [False, self.limits_of(report) is not None],
                    f"readings beyond a limit {beyond}")
        recoveries = [(r["at_s"], r["gap_s"]) for r in report["recoveries"]]
        self.expect("report", recoveries == [(log.resumed_at, None)],
                    f"recoveries {report['recoveries']}, the room resumed at {log.resumed_at} s, its time off unknown")
        set_to = [e["data"]["to_s"] for e in report["events"] if e["kind"] == "session_clock_set"]
        self.expect("report", set_to == [log.set_to], f"session time set to {set_to}, the walk set {log.set_to}")
        for words in [*log.notes, *dict.fromkeys(log.phases), "Calm", "Emergency light"]:
            self.expect("report", words in page or words.capitalize() in page, f"the page does not name {words!r}")
        self.record(report, page)

    def limits_of(self, report: dict):
        return self.room.app.room.session.profiles[self.profile].vitals_limits

    def record(self, report: dict, page: str) -> None:
        """§5: the volume played and the request held back; §3: the move and its undo, as such."""
        asked = f"{self.log.requested_volume:g}"
        volumes = [(v["asked"], v["played"]) for v in report["volumes"]]
        self.expect("record", volumes == [(self.log.requested_volume, MAX_VOLUME)], f"volumes {volumes}")
        page = html.unescape(page)
        self.expect("record", f"Volume {MAX_VOLUME} % (asked {asked} %, held by the room's limit)" in page
                    and f"Volume set to {asked} %" not in page, f"the page does not say {MAX_VOLUME} % played, "
                    f"{asked} % asked")
        undone = [m["to"] for m in report["undone_moves"]]
        moved = self.log.move[1] if self.log.move else None
        self.expect("record", undone == [moved], f"moves undone {undone}, the walk undid the move to {moved}")
        self.expect("record", f"Moved to {moved} by hand at" in page, "the page does not tell the move undone")


def walk(driver, room: Room, size: tuple[int, int], profile: str, name: str, seed: int,
         shots: Path | None = None) -> Walk:
    """The whole session: 8 hours on the test clock in ten-minute steps, with the therapist's doings at their
    moments and the three dialogs at moments drawn from `seed`. Every step is checked."""
    w = Walk(driver, room, size, profile, seed, shots, name)
    try:
        w.open_panel()
        w.start(room.app.room.session.profiles[profile].name)
        hours = 8 * 3600 // int(STEP)
        dialogs = dict(zip(sorted(w.rng.sample(range(2, hours - 2), 2)), w.rng.sample(["tools", "confirm-stop"], 2)))
        doings = {1: lambda: w.vitals({"systolic": 122, "diastolic": 78, "pulse": 72, "temperature": 36.8}, False),
                  4: lambda: w.note("Asked for water"),
                  5: w.calm,
                  8: lambda: w.vitals({"pulse": 165}, True),
                  10: w.volume,
                  14: w.emergency,
                  19: w.move_and_undo,
                  24: w.restart,
                  30: lambda: w.note(None),
                  36: w.calm}
        for step in range(1, hours + 1):
            w.step = f"{step * STEP / 3600:.2f} h"
            w.advance(STEP)
            if step in dialogs:
                w.calm(dialogs[step])
            if step in doings:
                doings[step]()
        w.stop()
        w.report()
    except Exception:   # the walk stops here; its verdict says where and why, the others what they saw
        w.faults["walk"].append(f"{w.step}: {traceback.format_exc(limit=-3)}")
    w.checks["walk"] += 1
    return w
