"""What a reading, a limit and a schedule are, as the room file, a profile and the API write them.

Plausible ranges catch a typo (a pulse of 720) with a clear error before anything is journaled; they are
not clinical limits, which are the protocol's own (`Limits`).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from room_controller.fields import Duration
from room_controller.files.yamlfile import Model
from room_controller.i18n.said import SaidError

Measure = Literal["blood_pressure", "pulse", "temperature"]
MEASURES: tuple[Measure, ...] = ("blood_pressure", "pulse", "temperature")
VALUES = ("systolic", "diastolic", "pulse", "temperature")   # the numbers a reading may hold, in this order
UNITS = {"systolic": "mmHg", "diastolic": "mmHg", "pulse": "/min", "temperature": "°C"}
EXAMPLE = "example"   # the source of limits nobody has set for this clinic yet
SOURCE_LENGTH = 120


class Values(Model):
    """One set of measurements taken together; what was not measured is left out."""

    systolic: int | None = Field(None, ge=50, le=300, description="mmHg")
    diastolic: int | None = Field(None, ge=20, le=200, description="mmHg")
    pulse: int | None = Field(None, ge=20, le=250, description="beats per minute")
    temperature: float | None = Field(None, ge=30, le=45, description="°C")

    @model_validator(mode="after")
    def _whole(self) -> Values:
        if (self.systolic is None) != (self.diastolic is None):
            raise ValueError("blood pressure is two numbers: give systolic and diastolic together")
        if self.systolic is not None and self.diastolic >= self.systolic:   # type: ignore[operator]
            raise ValueError("diastolic must be lower than systolic (were they swapped?)")
        if not self.present():
            raise ValueError("give at least one of systolic/diastolic, pulse, temperature")
        return self

    def present(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in VALUES if getattr(self, k) is not None}

    def measures(self) -> set[str]:
        """Which of MEASURES this reading covers."""
        return {m for m, key in (("blood_pressure", "systolic"), ("pulse", "pulse"), ("temperature", "temperature"))
                if getattr(self, key) is not None}


class Entry(Values):
    """A reading as the panel sends it: the values and, if not just now, how long ago they were taken."""

    ago: Duration = Field(0.0, le=12 * 3600, description="how long ago it was measured, e.g. 5m; now if left out")


class Bound(Model):
    above: float | None = Field(None, description="a value greater than this crosses the limit")
    below: float | None = Field(None, description="a value lower than this crosses the limit")
    instruction: str = Field("", max_length=300, description="what to do; else the limits' own instruction")
    source: str = Field("", max_length=SOURCE_LENGTH, description="where this limit comes from, if not from the "
                                                                   "limits' own source (e.g. a paper)")

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        return _named(value, required=False)

    @model_validator(mode="after")
    def _some(self) -> Bound:
        if self.above is None and self.below is None:
            raise ValueError("give above and/or below")
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError("below must be lower than above")
        return self


class Limits(Model):
    """The protocol's limits. Crossing one shows a notice quoting their source, with its instruction; the room
    changes nothing. `source` is required: a notice must say whose limit it is, and numbers nobody has set
    for this clinic (`source: example`) say so on the panel and in the report."""

    source: str = Field(max_length=SOURCE_LENGTH, description="where the limits come from: the clinic's protocol "
                                                              "and its version, or `example`")
    instruction: str = Field("", max_length=300, description="what the protocol says to do when a limit is crossed")
    systolic: Bound | None = None
    diastolic: Bound | None = None
    pulse: Bound | None = None
    temperature: Bound | None = None

    @model_validator(mode="before")
    @classmethod
    def _sourced(cls, data):
        if isinstance(data, dict) and "source" not in data:
            raise SaidError("check.limits_no_source")
        return data

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        return _named(value, required=True)

    def sourced(self) -> Limits:
        """Each limit with its source and instruction filled in from these limits' where it has none."""
        return self.model_copy(update={
            k: bound.model_copy(update={"source": bound.source or self.source,
                                        "instruction": bound.instruction or self.instruction})
            for k in VALUES if (bound := getattr(self, k)) is not None})

    def over(self, base: Limits | None) -> Limits:
        """These limits where they are given, `base`'s elsewhere (a profile's over the room's), each limit
        keeping its own source and instruction."""
        if base is None:
            return self.sourced()
        mine, theirs = self.sourced(), base.sourced()
        return Limits(source=self.source, instruction=self.instruction or base.instruction,
                      **{k: getattr(mine, k) or getattr(theirs, k) for k in VALUES})

    def sources(self) -> list[str]:
        """Where the limits in force come from, each once, in the order of VALUES."""
        found = [(getattr(self, k).source or self.source) for k in VALUES if getattr(self, k) is not None]
        return list(dict.fromkeys(found or [self.source]))


def is_example(source: str) -> bool:
    return source == EXAMPLE


def _named(value: str, required: bool) -> str:
    """A source as written, or `example`; anything else that calls itself an example is ambiguous (did the
    clinic set these numbers or not?) and refused."""
    value = " ".join(value.split())
    if value.lower() == EXAMPLE:
        return EXAMPLE
    if required and not value:
        raise SaidError("check.limits_unnamed")
    if re.search(r"\b(example|placeholder)", value, re.IGNORECASE):
        raise SaidError("check.limits_half_example", source=value)
    return value


class Moment(Model):
    at: Duration = Field(description="session time, e.g. 1h45m")
    name: str = Field(min_length=1, max_length=80, description="e.g. before the supplemental dose")


class Schedule(Model):
    """When the profile asks for vitals: `every` so often from `from` until `until`, and at named moments."""

    every: Duration | None = Field(None, ge=300, description="at most every 5 minutes")
    start: Duration = Field(0.0, alias="from", description="session time of the first regular measurement")
    until: Duration | None = Field(None, description="session time of the last; the session's end if left out")
    at: list[Moment] = Field(default_factory=list, max_length=50)
    measure: list[Measure] = Field(default_factory=lambda: list(MEASURES), min_length=1)

    @model_validator(mode="after")
    def _some(self) -> Schedule:
        if self.every is None and not self.at:
            raise ValueError("give `every` and/or `at`")
        if self.until is not None and self.until < self.start:
            raise ValueError("`until` comes before `from`")
        return self


class Settings(Model):
    """The room file's `vitals:` section: the clinic's limits and, where it has one, a live pulse sensor."""

    pulse_topic: str | None = Field(None, min_length=1, pattern=r"^[^#+]+$",
                                    description="MQTT topic of a pulse sensor, e.g. chest-strap/sensor/heart_rate/state")
    pulse_path: str = Field("", max_length=100, description="dotted path to the number in a JSON payload "
                                                           "(e.g. heart_rate.bpm); empty: the payload is the number")
    pulse_stale_after: Duration = Field(30.0, ge=5, le=600, description="no pulse for this long: shown as stale")
    pulse_store_every: Duration = Field(60.0, ge=10, le=3600, description="at most one stored pulse row this often")
    limits: Limits | None = None
