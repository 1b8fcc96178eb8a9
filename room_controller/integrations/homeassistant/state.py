"""What Home Assistant's entities read from the room's retained state besides session, preset and problems.

Only what they show: the music's on/off, the volume it ramps to (not where a ramp is now, which would
republish the state several times a second) and its problem; the room's lights as one light (on if any is,
the brightest one's level, the mean of their whites).
"""

from __future__ import annotations


def state_extras(snapshot: dict) -> dict:
    audio = snapshot["audio"]
    music = {"playing": audio["playing"], "volume": audio["target_volume"], "problem": audio.get("problem")} \
        if "target_volume" in audio else None
    return {"music": music, "light": room_light(snapshot["lights"])}


def room_light(lights: list[dict]) -> dict:
    shown = [light["target"] or light["state"] for light in lights]
    lit = [s for s in shown if s and s["on"]]
    whites = [s["kelvin"] for s in lit if "kelvin" in s]
    return {"on": bool(lit), "brightness": max((s["brightness"] for s in lit), default=0),
            "kelvin": round(sum(whites) / len(whites)) if whites else None}
