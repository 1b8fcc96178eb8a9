"""Whose volume the room plays at: the phase's, the therapist's, or a held preset's. Pure, so it has
property tests; the music thread keeps one `Volume` and ramps to its `requested` level after each change.

What a therapist expects, and so the rules:
- A level the therapist chose is a choice for this client, made by ear: it holds across phase changes (a
  phase's playlist `volume` no longer moves it) until they choose to follow the phase again. It is absolute,
  not an offset from the phase's level: an offset would raise it by itself at the peak.
- A preset is a deliberate act, later than any choice: while it holds, its own volume (calm's quieter music)
  sets the level, or, for a preset without one, the level stays where it was when it began. A phase change
  under it waits for the release.
- Moving the slider while a preset holds sets the level now, and it is the therapist's choice from then on:
  the slider stays where their hand left it, on release too. Following the phase while a preset holds lets
  the preset keep its level; the phase's level comes back on release.
- On release the room goes back to the therapist's choice, or without one to the phase's level.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class Volume:
    phase: float                     # what the phase's music asks for: its `volume`, or the last one given
    therapist: float | None = None   # the therapist's choice; None while the room follows the phase
    preset: float | None = None      # the level under a held preset; None when no preset holds

    @property
    def requested(self) -> float:
        """The level asked for now, before the room's max_volume caps it."""
        for level in (self.preset, self.therapist):
            if level is not None:
                return level
        return self.phase

    @property
    def source(self) -> Literal["phase", "therapist"]:
        """Whose level the room keeps across phase changes (a held preset sets its own on top of it)."""
        return "phase" if self.therapist is None else "therapist"

    def chosen(self, level: float) -> Volume:
        return replace(self, therapist=level, preset=None if self.preset is None else level)

    def following_phase(self) -> Volume:
        return replace(self, therapist=None)

    def phase_asks(self, level: float | None) -> Volume:
        """A phase's music; without a `volume` of its own the phase level stays as it is."""
        return self if level is None else replace(self, phase=level)

    def held(self, level: float | None) -> Volume:
        """A preset begins (or replaces another); without a volume of its own it keeps the level it finds."""
        if level is None:
            level = self.requested
        return replace(self, preset=level)

    def released(self) -> Volume:
        return replace(self, preset=None)
