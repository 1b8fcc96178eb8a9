"""A handler's answer that is not a JSON object made by the HTTP layer; its own module so that the route
modules of each area (vitals_routes, calibration_routes) and the route table can all return it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """Pre-serialised JSON, a CSV file, or a report streamed as it is read from the journal."""

    body: bytes | Iterator[bytes]
    mimetype: str = "application/json"
