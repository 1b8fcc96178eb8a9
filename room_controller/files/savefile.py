"""Files the clinic tools write (session profiles, the room file's presets): atomically, the old kept.

A save writes a temporary file beside the target, fsyncs it and renames it over the old one, so a crash
leaves the old file or the new, never half of one; the old version is first copied into `backups/` beside
it, so any save can be undone by hand. The new file keeps the old one's mode and owner: the room file holds
the broker password and the PINs and is 0600, and a save must not make it readable to every user.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import time
from pathlib import Path

log = logging.getLogger(__name__)

BACKUPS = "backups"


def back_up(path: Path, move: bool = False) -> Path:
    """Copy (or move) `path` into `backups/` under a name that sorts by time."""
    folder = path.parent / BACKUPS
    folder.mkdir(exist_ok=True)
    target = folder / f"{path.stem}.{time.strftime('%Y%m%dT%H%M%S')}.{time.monotonic_ns() % 10**6:06d}{path.suffix}"
    (shutil.move if move else shutil.copy2)(path, target)
    return target


def temporary(path: Path, text: str) -> Path:
    """`text` written and synced to a hidden file beside `path`, ready for `replace`, with `path`'s mode and
    owner (created owner-only, so the secrets are never readable by others even for a moment)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    _same_as(tmp, path)
    return tmp


def _same_as(tmp: Path, path: Path) -> None:
    """`path`'s permission bits and owner on `tmp` (a new file: the usual mode under the umask)."""
    try:
        old = path.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(tmp, old.st_uid, old.st_gid)
        except PermissionError:   # a file of another owner in a folder the service may write: it becomes ours
            log.warning("%s: cannot keep its owner (uid %d), the saved file belongs to this service", path,
                        old.st_uid)
    os.chmod(tmp, stat.S_IMODE(old.st_mode))


def replace(tmp: Path, path: Path) -> None:
    """Put `tmp` in the place of `path`, the old version first copied into the backups."""
    if path.exists():
        back_up(path)
    os.replace(tmp, path)
