"""The flash rule: what counts as an abrupt change of a light, and how many may go out in a second.

WCAG 2.3.1 ("Three Flashes or Below Threshold") allows no more than three flashes in any one second, a
flash being a pair of opposing changes in luminance of 10 % or more; photosensitive seizures are most
often triggered at 3-30 Hz (see docs/safety.md). The room keeps a stricter budget per light: at most
three *abrupt changes* (not pairs) in any one-second window, where a change is abrupt when the perceived
brightness (CIE L*, 0-100) moves by 10 points or more in under a second. A change over the budget waits
until the window has room; the latest request replaces one that waits, so nothing is lost, only slowed.

Pure: `Light` (core/lights.py) asks its `budget()` before each abrupt command and records what it sends.
"""

from __future__ import annotations

from room_controller.lighting.state import LightState
from room_controller.pace import Budget

ABRUPT_POINTS = 10.0      # perceived brightness points (0-100)
ABRUPT_TRANSITION = 1.0   # seconds: a change that takes at least this long is a fade, not a flash
WINDOW = 1.0              # seconds
BUDGET = 3                # abrupt changes per window


def level(state: LightState) -> float:
    """Perceived brightness as the eye sees it: a light that is off is at 0."""
    return state.brightness if state.lit else 0.0


def is_abrupt(previous: LightState | None, new: LightState, transition: float) -> bool:
    """A command that changes the light by 10 points or more in under a second. With nothing known about
    what the light showed before, a fast command is counted as abrupt: the budget errs on the safe side."""
    if transition >= ABRUPT_TRANSITION:
        return False
    return previous is None or abs(level(new) - level(previous)) >= ABRUPT_POINTS


def budget() -> Budget:
    """A light's budget of abrupt changes (fades never draw on it)."""
    return Budget(BUDGET, WINDOW)
