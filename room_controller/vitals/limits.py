"""Which limits a set of values crosses. Pure: the desk shows a notice for each crossing, nothing else.
Each crossing carries where its limit comes from, so the notice and the record quote it, and whether that
is an example nobody has set for this clinic.

A live pulse is checked the same way, but one notice per excursion: a chest strap says 111, 112, 111
once a second, and the therapist needs to hear it once, again only after it came back within the limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from room_controller.vitals.model import UNITS, VALUES, Limits, is_example

DEFAULT_INSTRUCTION = "Check the reading again and follow the protocol."


@dataclass(frozen=True)
class Crossing:
    value_name: str       # systolic, diastolic, pulse, temperature
    value: float
    side: str             # "above" or "below"
    limit: float
    instruction: str
    source: str           # the protocol (and version) the limit is from, or "example"
    example: bool

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
        source = bound.source or limits.source
        if bound.above is not None and value > bound.above:
            out.append(Crossing(name, value, "above", bound.above, instruction, source, is_example(source)))
        elif bound.below is not None and value < bound.below:
            out.append(Crossing(name, value, "below", bound.below, instruction, source, is_example(source)))
    return out


def in_force(limits: Limits | None) -> dict | None:
    """What the vitals card says of the limits: None (readings are recorded, not checked), else where they
    come from and whether any of them is an example."""
    if limits is None:
        return None
    sources = limits.sources()
    return {"sources": sources, "example": any(is_example(s) for s in sources)}


class PulseWatch:
    """One crossing per excursion of the live pulse beyond its limits."""

    def __init__(self) -> None:
        self.outside = False

    def check(self, limits: Limits | None, bpm: float) -> Crossing | None:
        found = crossed(limits, {"pulse": bpm})
        crossing = found[0] if found and not self.outside else None
        self.outside = bool(found)
        return crossing
