"""One light as the room core sees it: where it is heading, what it was told, what it says it shows.

Runs only on the core loop. A new target cancels the running fade at once and plans a new one from the
light's present position, so a preset tapped halfway through a ten-minute fade starts from where the
light really is. Only the next step of a fade is ever on the timer heap. Every command passes two safety
rules on its way out (`_send`): switching on or off at most once per `min_toggle_interval`, and at most
three abrupt changes a second (lighting/flash.py): nothing any source asks for can look like a flash.

A fade can be worked out ahead (`prepare`, for calm: core/prepared.py): `fade_to` takes its plan and its first
commands only where what they were worked out from equals what it would work them out from now, so they are
the commands it would have made; the safety rules still judge them at the moment they go out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from room_controller.core.loop import Loop, Timer
from room_controller.lighting import fades, flash
from room_controller.lighting.decode import Report
from room_controller.lighting.encode import encode
from room_controller.lighting.profiles import Device, DeviceProfile
from room_controller.lighting.state import LightState, MqttMessage

log = logging.getLogger(__name__)


@dataclass
class Fade:
    start: LightState | None  # None: where the light was is unknown (never reported, never told)
    target: LightState
    began: float
    duration: float
    steps: list[fades.Step]
    index: int = 0
    timer: Timer | None = None

    def position(self, now: float) -> LightState | None:
        if self.start is None:
            return None
        if self.duration <= 0:
            return self.target
        return fades.interpolate(self.start, self.target, (now - self.began) / self.duration)


@dataclass(frozen=True)
class Ready:
    """A fade worked out ahead: from `start` to `target` in `duration` s on `profile`, and its first step's
    commands (None when the first step waits)."""
    target: LightState
    duration: float
    start: LightState | None
    profile: DeviceProfile
    steps: list[fades.Step]
    first: tuple[MqttMessage, ...] | None
    anywhere: bool   # the same steps from any known start but the target (fades.from_anywhere)

    def holds_from(self, start: LightState | None) -> bool:
        """Are these the steps a fade from `start` would take?"""
        return start == self.start or (self.anywhere and start is not None and start != self.target)


class Light:
    def __init__(self, device: Device, loop: Loop, publish: Callable[[MqttMessage], bool], *,
                 max_rate: float, min_toggle_interval: float) -> None:
        self.device = device
        self.loop = loop
        self._publish = publish
        self.max_rate = max_rate
        self.min_toggle_interval = min_toggle_interval
        self.target: LightState | None = None
        self.commanded: LightState | None = None
        self.reported: LightState | None = None
        self.online: bool | None = None
        self._fade: Fade | None = None
        self._last_toggle = -math.inf
        self._held: tuple[LightState, float] | None = None
        self._held_timer: Timer | None = None
        self._flash = flash.budget()
        self.changed: Callable[[], object] = lambda: None   # what it is told, says or heads for changed

    @property
    def id(self) -> str:
        return self.device.id

    @property
    def fading(self) -> bool:
        return self._fade is not None

    def known_state(self) -> LightState | None:
        """What the light shows as far as we know: its own report, else what it was last told."""
        return self.reported or self.commanded

    def position(self) -> LightState | None:
        """Where the light is now: along its fade, or (a fade from where it was unknown) what it was last told."""
        where = self._fade.position(self.loop.clock.monotonic()) if self._fade is not None else None
        return where or self.commanded or self.reported

    # -- commands ----------------------------------------------------------------------------------------------

    def fade_to(self, target: LightState, duration: float, ready: Ready | None = None) -> None:
        """Head for `target` over `duration` seconds, replacing whatever fade was running. `ready`: the same
        fade worked out ahead, whose plan and first commands are taken where they are what this would make."""
        start = self.position()
        self.cancel()
        self.target = target
        now = self.loop.clock.monotonic()
        if ready is not None and (ready.target != target or ready.duration != duration
                                  or ready.profile is not self.device.profile):
            ready = None
        steps = ready.steps if ready is not None and ready.holds_from(start) else self._plan(start, target, duration)
        first = ready.first if ready is not None and steps[0] == ready.steps[0] else None
        self._fade = Fade(start, target, now, duration, steps)
        if steps[0].at <= 0:
            self._next_step(first)
        else:
            self._fade.timer = self.loop.call_at(now + steps[0].at, self._next_step)
        self.changed()

    def prepare(self, target: LightState, duration: float) -> Ready:
        """What `fade_to(target, duration)` would start with if it ran now, worked out without acting."""
        start = self.position()
        steps = self._plan(start, target, duration)
        first = tuple(encode(self.device, steps[0].state, steps[0].transition)) if steps[0].at <= 0 else None
        anywhere = start is not None and start != target and \
            fades.from_anywhere(self.device.profile, target, duration, self.max_rate)
        return Ready(target, duration, start, self.device.profile, steps, first, anywhere)

    def _plan(self, start: LightState | None, target: LightState, duration: float) -> list[fades.Step]:
        if start is None:  # never heard from and never told: let the device fade natively from wherever it is
            return fades.plan_unknown(self.device.profile, target, duration)
        return fades.plan(self.device.profile, start, target, duration, self.max_rate)

    def reassert(self, transition: float) -> None:
        """Put the light right again (after a reconnect or the device coming back): resume any fade."""
        if self.target is None:
            return
        fade = self._fade
        remaining = fade.began + fade.duration - self.loop.clock.monotonic() if fade else 0.0
        if fade is not None and remaining > 0:
            if fade.start is None:   # a fade from the unknown: its first commands may never have arrived either
                self.commanded = None
            where = self.position()
            if where is not None and self.device.profile.capabilities.transition is None:
                self._send(where, 0.0)   # software steps missed meanwhile: catch up now, not one step later
            self.fade_to(fade.target, remaining)
            return
        self.cancel()
        self.commanded = None  # what it was told may never have arrived: start from what it says, if anything
        self.fade_to(self.target, transition)

    def cancel(self) -> None:
        if self._fade and self._fade.timer:
            self._fade.timer.cancel()
        self._fade = None

    def _next_step(self, messages: tuple[MqttMessage, ...] | None = None) -> None:
        fade = self._fade
        if fade is None:
            return
        step = fade.steps[fade.index]
        fade.index += 1
        self._send(step.state, step.transition, messages)
        if fade.index < len(fade.steps):
            fade.timer = self.loop.call_at(fade.began + fade.steps[fade.index].at, self._next_step)
        else:
            fade.timer = self.loop.call_at(fade.began + fade.duration, self._finish)

    def _finish(self) -> None:
        self._fade = None
        self.changed()

    def _send(self, state: LightState, transition: float, messages: tuple[MqttMessage, ...] | None = None) -> None:
        """Send now if the safety rules allow it, else hold it until they do; the latest state held wins.
        Two rules, both per light: on/off at most once per `min_toggle_interval`, and the flash budget
        (lighting/flash.py). Every source of commands passes here, so no source can make a light flash.
        `messages`: this state's commands encoded ahead (a prepared fade's first step)."""
        now = self.loop.clock.monotonic()
        previous = self.commanded or self.reported
        toggles = state.lit != (previous or state).lit
        abrupt = flash.is_abrupt(previous, state, transition)
        at = self._flash.allowed_at(now) if abrupt else now
        if toggles:
            at = max(at, self._last_toggle + self.min_toggle_interval)
        if self._held_timer is not None:
            self._held_timer.cancel()
            self._held = self._held_timer = None
        if at > now:
            self._held = (state, transition)
            self._held_timer = self.loop.call_at(at, self._release)
            return
        if toggles:
            self._last_toggle = now
        if abrupt:
            self._flash.record(now)
        for message in encode(self.device, state, transition) if messages is None else messages:
            self._publish(message)
        self.commanded = state
        self.changed()

    def _release(self) -> None:
        held, self._held, self._held_timer = self._held, None, None
        if held is not None:
            self._send(*held)

    def send_raw(self, messages: list[MqttMessage]) -> None:
        for message in messages:
            self._publish(message)

    # -- reports -----------------------------------------------------------------------------------------------

    def apply_report(self, report: Report) -> bool:
        """Merge what the device said; True if its availability changed. A report that says white or colour
        without saying which (a WLED strip on its white LEDs) forgets the other one; one that says on without a
        level that could be read is lit at the level it was told (full if never told), never shown off."""
        changed = False
        if report.online is not None and report.online != self.online:
            self.online, changed = report.online, True
        if not report.says_state:
            return changed
        base = self.reported or LightState(on=False, brightness=0.0)
        on = base.on if report.on is None else report.on
        brightness = base.brightness if report.brightness is None else report.brightness
        if on and report.brightness is None and brightness <= 0:   # on, at a level it did not say (unreadable)
            told = self.commanded
            brightness = told.brightness if told is not None and told.lit else LightState().brightness
        kelvin, rgb = base.kelvin, base.rgb
        if report.kelvin is not None:
            kelvin, rgb = report.kelvin, None
        elif report.rgb is not None:
            kelvin, rgb = None, report.rgb
        elif report.mode == "white":
            rgb = None
        elif report.mode == "color":
            kelvin = None
        self.reported = LightState(on=on, brightness=brightness, kelvin=kelvin, rgb=rgb)
        self.changed()
        if self.online is None:
            self.online, changed = True, True  # a device that reports state is there
        return changed

    def as_dict(self) -> dict:
        shown = self.known_state()
        return {
            "id": self.id,
            "online": self.online,
            "state": shown.as_dict() if shown else None,
            "target": self.target.as_dict() if self.target else None,
            "fading": self.fading,
        }
