"""How the report writes a moment: the session's own clock (h:mm:ss since it began) and the computer's wall
clock. A leaf, so that each part of the report (the summary, the vitals section, the CSV) writes them alike."""

from __future__ import annotations

import time


def wall_text(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = int(seconds)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"
