"""The sound dose: what is heard, counted against NIOSH's daily limit (docs/sound-dose.md).

Each deck's volume and its track's measured loudness, through the room's `calibration_dba`, give the level
at the listening position; the dose adds up the time at each level. Without calibration there is no number,
and the snapshot says so. The arithmetic is pure, so it has property tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from room_controller.audio import loudness
from room_controller.audio.decks import Deck
from room_controller.audio.ramps import amplitude
from room_controller.audio.settings import AudioSettings

NIOSH_DBA = 85.0
NIOSH_SECONDS = 8 * 3600.0
NIOSH_EXCHANGE_DB = 3.0


def level_dba(calibration_dba: float, volumes: Iterable[float],
              louder_db: Iterable[float] | None = None) -> float | None:
    """Sound level of players at `volumes` given the measured dBA of the calibration reference at volume 100,
    each playing a track `louder_db` louder than that reference (its LUFS less the reference's; 0 when not
    given). Levels add as powers; None when all are silent."""
    volumes = list(volumes)
    offsets = list(louder_db) if louder_db is not None else [0.0] * len(volumes)
    power = sum(amplitude(v) ** 2 * 10 ** (db / 10) for v, db in zip(volumes, offsets))
    if power <= 0:
        return None
    return calibration_dba + 10 * math.log10(power)


def allowed_seconds(dba: float) -> float:
    """NIOSH: 8 h at 85 dBA, halved for every 3 dB more."""
    return NIOSH_SECONDS / 2 ** ((dba - NIOSH_DBA) / NIOSH_EXCHANGE_DB)


def dose_percent(dba: float | None, seconds: float) -> float:
    """Percent of the daily dose used by `seconds` at `dba` (silence uses none)."""
    if dba is None or seconds <= 0:
        return 0.0
    return 100.0 * seconds / allowed_seconds(dba)


class Dose:
    """The session's dose so far, kept by the music thread. Each `dose_step` passed is notified (journaled, so
    a restart knows it), and each of `dose_warnings` once."""

    def __init__(self, settings: AudioSettings, now: float, notify: Callable[[str, dict], None]) -> None:
        self.calibration_dba = settings.calibration_dba   # a new calibration counts from when it is made
        self._step, self._warnings = settings.dose_step, settings.dose_warnings
        self._notify = notify
        self._percent = 0.0
        self._at = now
        self._warned: set[float] = set()
        self._dba: float | None = None
        self._estimated = False   # a track whose loudness is not known yet is in the level

    def reset(self, percent: float) -> None:
        """A new session starts at 0 %; after a restart, what the journal says."""
        self._percent, self._warned = percent, {w for w in self._warnings if w <= percent}

    def hear(self, audible: list[Deck]) -> None:
        """The level from now on: the decks playing (not paused), at the volumes VLC was told."""
        if self.calibration_dba is None:
            return
        louder = [(loudness.UNMEASURED_LUFS if d.lufs is None else d.lufs) - loudness.TARGET_LUFS for d in audible]
        self._dba = level_dba(self.calibration_dba, [d.volume for d in audible], louder)
        self._estimated = any(d.lufs is None and d.volume > 0 for d in audible)

    def account(self, now: float) -> None:
        """Add the time since the last call at the level heard then."""
        elapsed, self._at = now - self._at, now
        if self.calibration_dba is None:
            return
        before, self._percent = self._percent, self._percent + dose_percent(self._dba, elapsed)
        if self._percent // self._step > before // self._step:
            self._notify("dose_step", {"dose": round(self._percent // self._step * self._step, 1)})
        for warning in sorted(self._warnings):
            if self._percent >= warning and warning not in self._warned:
                self._warned.add(warning)
                self._notify("dose_warning", {"percent": warning, "dose": round(self._percent, 1)})

    def snapshot(self) -> dict:
        dose: dict[str, object] = {"calibrated": False, "percent": None, "dba": None, "estimated": False,
                                   "warnings": self._warnings}
        if self.calibration_dba is not None:
            dose.update(calibrated=True, percent=round(self._percent, 1), estimated=self._estimated,
                        dba=None if self._dba is None else round(self._dba, 1))
        return dose
