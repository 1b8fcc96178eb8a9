"""Who may change the room's preset: a person at the panel over automated sources, and no source that loops.

The panel (the HTTP API) is a person deciding. The command topic (Home Assistant's entities, a clinic's
automations) and each button's topic are command sources that can go wrong without anyone in the room
choosing it: an automation that sends calm and release in turn, a remote stuck between two buttons. Two
rules keep such a source from fighting the therapist (docs/safety.md):

- A press on the panel wins: for `PANEL_WINS` seconds after it, an automated source may not change the
  preset, except to make the room calm or switch the emergency light on (the safe way is never held back).
- A source that asks for more than `FLIP_LIMIT` preset changes in `FLIP_WINDOW` seconds is held off: its
  preset commands are ignored until a person clears it (the panel's problem line, `POST /api/sources/clear`),
  but for the emergency light, which still acts. Its other commands (session, music) still act. The hold is a
  problem the panel and `/api/health` show.

Runs on the core loop, on the room's clock.

It is given only what it uses (core/room.py wires it): the room's clock, its problems (where a held source is
shown), its `emit` (journal an event, tell the followers) and the command topic (from the inbox, wired after the
presets: a callable), which tells the command topic from a button's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from room_controller.errors import NotFound
from room_controller.pace import Budget

if TYPE_CHECKING:
    from room_controller.infrastructure.clock import Clock

log = logging.getLogger(__name__)

PANEL = "panel"
RECOVERY = "recovery"   # the preset that stood before a restart, put back by the room itself: nobody's press
# A person changes the preset a few times a session; seven changes asked for within a minute is a loop, and
# each change it makes fades every light: held after the sixth.
FLIP_LIMIT = 6
FLIP_WINDOW = 60.0
# As long as the flip window: an automation that would take back the therapist's choice within a minute is
# either held for flipping or has waited a minute; a clinic's ordinary automation (calm at a session's end) acts.
PANEL_WINS = 60.0
PROBLEM = "source:"   # a held source's key in the room's problems: "source:<kind>:<topic>" (the panel names it)


class Sources:
    def __init__(self, *, clock: Clock, problems: dict[str, str], emit: Callable[..., object],
                 command_topic: Callable[[], str]) -> None:
        self.clock, self.problems, self.emit, self._command_topic = clock, problems, emit, command_topic
        self._asked: dict[str, Budget] = {}
        self.held: dict[str, int] = {}   # a held source: how many of its preset commands were ignored since
        self._panel_at: float | None = None

    def kind(self, source: str) -> str:
        """How the journal and the panel name a source: `panel`, `command` (the command topic) or `button`."""
        if source in (PANEL, RECOVERY):
            return source
        return "command" if source == self._command_topic() else "button"

    def label(self, source: str) -> str:
        return {"panel": "the panel", "command": f"the command topic {source}"}.get(self.kind(source),
                                                                                     f"the button on {source}")

    def _problem(self, source: str) -> str:
        return f"{PROBLEM}{self.kind(source)}:{source}"

    def panel_pressed(self) -> None:
        self._panel_at = self.clock.monotonic()

    def panel_holds(self) -> bool:
        """Does a panel press made moments ago still hold against automated sources?"""
        return self._panel_at is not None and self.clock.monotonic() - self._panel_at < PANEL_WINS

    def ignored(self, source: str) -> bool:
        """A held source's preset command: ignored, and counted."""
        if source not in self.held:
            return False
        self.held[source] += 1
        return True

    def ask(self, source: str) -> bool:
        """An automated source asks for a preset change: False if that was one too many, and it is held now."""
        budget = self._asked.setdefault(source, Budget(FLIP_LIMIT, FLIP_WINDOW))
        if budget.take(self.clock.monotonic()):
            return True
        self.held[source] = 0
        del self._asked[source]
        self.problems[self._problem(source)] = (f"{self.label(source)} keeps changing the preset ({FLIP_LIMIT + 1} "
                                                f"times in {FLIP_WINDOW:.0f} s): its preset commands are ignored "
                                                "until someone lets it act again")
        log.warning("held off %s: %d preset changes in %.0f s", source, FLIP_LIMIT + 1, FLIP_WINDOW)
        self.emit("source_held", source=source, via=self.kind(source), changes=FLIP_LIMIT + 1, window_s=FLIP_WINDOW)
        return False

    def clear(self, source: str) -> dict:
        """A person lets a held source act again (its next preset command acts, counted afresh)."""
        ignored = self.held.pop(source, None)
        if ignored is None:
            raise NotFound(f"{source!r} is not held; held: {', '.join(self.held) or 'none'}")
        self.problems.pop(self._problem(source), None)
        self.emit("source_cleared", source=source, via=self.kind(source), ignored=ignored)
        return {"source": source, "held": False}
