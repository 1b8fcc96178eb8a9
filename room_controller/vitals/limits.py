"""Which limits a set of values crosses. Pure: the desk shows a notice for each crossing, nothing else.

A live pulse is checked the same way, but one notice per excursion: a chest strap says 111, 112, 111
once a second, and the therapist needs to hear it once, again only after it came back within the limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from room_controller.vitals.model import UNITS, VALUES, Limits

DEFAULT_INSTRUCTION = "Check the reading again and follow the protocol."


@dataclass(frozen=True)
class Crossing:
    value_name: str       # systolic, diastolic, pulse, temperature
    value: float
    side: str             # "above" or "below"
    limit: float
    instruction: str

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        return f"{self.value_name} {self.value:g} {UNITS[self.value_name]} is {self.side} {self.limit:g}"


def crossed(limits: Limits | None, values: dict[str, float]) -> list[Crossing]:
    """Every limit `values` crosses (strictly: a systolic of exactly 160 is not above 160)."""
    if limits is None:
        return []
    out = []
    for name in VALUES:
        bound, value = getattr(limits, name), values.get(name)
        if bound is None or value is None:
            continue
        instruction = bound.instruction or limits.instruction or DEFAULT_INSTRUCTION
        if bound.above is not None and value > bound.above:
            out.append(Crossing(name, value, "above", bound.above, instruction))
        elif bound.below is not None and value < bound.below:
            out.append(Crossing(name, value, "below", bound.below, instruction))
    return out


class PulseWatch:
    """One crossing per excursion of the live pulse beyond its limits."""

    def __init__(self) -> None:
        self.outside = False

    def check(self, limits: Limits | None, bpm: float) -> Crossing | None:
        found = crossed(limits, {"pulse": bpm})
        crossing = found[0] if found and not self.outside else None
        self.outside = bool(found)
        return crossing
