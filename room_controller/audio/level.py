"""The room's level: which volume is asked for (`volume.Volume`'s rule: the phase's, the therapist's, a held
preset's) and where the level is on its way there. It rises no faster than `max_rise_per_s` (no sudden
blast, whoever asks) and never above `max_volume`.
"""

from __future__ import annotations

from room_controller.audio import ramps
from room_controller.audio.decks import Decks
from room_controller.audio.ramps import Ramp
from room_controller.audio.settings import AudioSettings, MusicPlay, MusicSpec
from room_controller.audio.volume import Volume


class Level:
    def __init__(self, settings: AudioSettings) -> None:
        self._settings = settings
        self.volume = Volume(settings.default_volume)   # replaced by the music thread at each change
        self._ramp = Ramp(settings.default_volume, min(settings.default_volume, settings.max_volume), 0, 0)

    def at(self, now: float) -> float:
        return self._ramp.at(now)

    def done(self, now: float) -> bool:
        return self._ramp.done(now)

    def phase_music(self, spec: MusicSpec) -> None:
        """The phase's music changes: its volume, if it has one, is the phase's level."""
        self.volume = self.volume.phase_asks(spec.volume if isinstance(spec, MusicPlay) else None)
        if spec == "stop":  # the session ended: the next client starts at their phases' levels
            self.volume = self.volume.following_phase()

    def follow(self, now: float, decks: Decks) -> None:
        """Ramp to the level `volume` asks for, unless the level is already on its way there. A rise waits
        while the music only fades out (a silent stretch, a stop): it would swell the fading tracks."""
        s = self._settings
        requested = self.volume.requested
        target = min(requested, s.max_volume)
        if target == self._ramp.target:
            return
        if not decks.sounding():  # nothing sounds: the next fade-in is the ramp
            self._ramp = Ramp(requested, target, now, 0.0)
            return
        if decks.active is None and target > self._ramp.at(now):
            return
        self._ramp = ramps.plan_ramp(self._ramp.at(now), requested, now, s.max_volume, s.max_rise_per_s, s.fade_out)

    def snapshot(self, now: float) -> dict:
        """Where the level is, where it is going (a rise may wait for the next music), what was asked and
        whether `max_volume` holds it back."""
        requested, cap = self.volume.requested, self._settings.max_volume
        return {"volume": round(self.at(now), 1), "target_volume": round(min(requested, cap), 1),
                "requested_volume": round(requested, 1), "max_volume": cap, "limited": requested > cap,
                "volume_source": self.volume.source}
