"""The clinic file's `day:` section (docs/day.md): where a clinic's bookings come from and how far ahead a room
prepares. The overview's clinic model carries it, and each room that names the clinic file (`clinic:`) reads
only this section of it, so a room neither needs nor checks the overview's own settings.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator

from room_controller.fields import Duration
from room_controller.files import yamlfile
from room_controller.files.yamlfile import ConfigError, Model

LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$")


def _local_time(value: object) -> object:
    """'2026-12-08 09:00', the room computer's local time: no seconds, no offset (a clinic writes it by hand)."""
    if isinstance(value, datetime):   # YAML reads an unquoted date and time itself
        value = value.strftime("%Y-%m-%d %H:%M")
    if not isinstance(value, str) or not LOCAL_TIME.match(value):
        raise ValueError("a start is a local date and time, e.g. \"2026-12-08 09:00\"")
    return datetime.fromisoformat(value.replace(" ", "T"))


LocalTime = Annotated[datetime, BeforeValidator(_local_time)]


class HandBooking(Model):
    """A booking written into the clinic file: a room (its id or name), a session profile, a start."""

    room: str = Field(min_length=1, max_length=100)
    profile: str = Field(min_length=1, max_length=64)
    start: LocalTime


class DaySettings(Model):
    calendar: str | None = Field(None, min_length=1, max_length=2000, description="an iCalendar file (relative to "
                                 "the clinic file) or an http(s) URL")
    refresh: Duration = Field(300.0, ge=10, le=86400, description="how often the calendar is read again")
    prepare_ahead: Duration = Field(900.0, ge=0, le=6 * 3600, description="the arrival scene and music start this "
                                    "long before a booking")
    bookings: list[HandBooking] = Field(default_factory=list, max_length=2000)

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str | None) -> str | None:
        if value is not None and "://" in value and not value.startswith(("http://", "https://")):
            raise ValueError("a calendar is a file or an http:// or https:// URL")
        return value


class DayFile(Model):
    """What a room reads of the clinic file: its `day:` (the other sections are the overview's)."""

    day: DaySettings | None = None


def read_day(path: str | Path) -> DaySettings | None:
    """The clinic file's `day:`, or ConfigError naming file:line:field; None when it has none."""
    doc = yamlfile.load(path)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "a clinic file is a mapping (with `day:` for the rooms' bookings)")])
    return yamlfile.validate(DayFile, doc, {"day": doc.data.get("day")}).day
