"""The fields of a room's JSON as the clinic floor takes them (alerts, days): untrusted input from anyone allowed
to publish under the base topic, so each field is checked and bounded, and a bad one is a ValueError naming it."""

from __future__ import annotations

from datetime import datetime


def text(data: dict, key: str, longest: int, whose: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > longest:
        raise ValueError(f"{whose} {key} is a text of at most {longest} characters")
    return value


def optional_text(data: dict, key: str, longest: int, whose: str) -> str | None:
    return None if data.get(key) is None else text(data, key, longest, whose)


def moment(data: dict, key: str, whose: str) -> float:
    """An ISO 8601 time with its offset, as epoch seconds."""
    value = data.get(key)
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValueError(f"{whose} {key} is an ISO 8601 time with its offset")
    return when.timestamp()
