"""Files the clinic tools write (session profiles, the room file's presets): atomically, the old kept.

A save writes a temporary file beside the target, fsyncs it and renames it over the old one, so a crash
leaves the old file or the new, never half of one; the old version is first copied into `backups/` beside
it, so any save can be undone by hand.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

BACKUPS = "backups"


def back_up(path: Path, move: bool = False) -> Path:
    """Copy (or move) `path` into `backups/` under a name that sorts by time."""
    folder = path.parent / BACKUPS
    folder.mkdir(exist_ok=True)
    target = folder / f"{path.stem}.{time.strftime('%Y%m%dT%H%M%S')}.{time.monotonic_ns() % 10**6:06d}{path.suffix}"
    (shutil.move if move else shutil.copy2)(path, target)
    return target


def temporary(path: Path, text: str) -> Path:
    """`text` written and synced to a hidden file beside `path`, ready for `replace`."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def replace(tmp: Path, path: Path) -> None:
    """Put `tmp` in the place of `path`, the old version first copied into the backups."""
    if path.exists():
        back_up(path)
    os.replace(tmp, path)
