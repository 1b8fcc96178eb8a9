"""Field types shared by every file model and request body: durations, percentages, whites, colours."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from room_controller import units


def _colour(value: Any) -> Any:
    if isinstance(value, str):
        return units.parse_hex_colour(value)
    return value


Duration = Annotated[float, BeforeValidator(units.parse_duration)]
Percent = Annotated[float, Field(ge=0, le=100)]
Kelvin = Annotated[float, Field(ge=units.KELVIN_MIN, le=units.KELVIN_MAX)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Channel = Annotated[int, Field(ge=0, le=255)]
Colour = Annotated[tuple[Channel, Channel, Channel], BeforeValidator(_colour)]
