"""What must outlive a kill even when the disk is full: the preset that holds the room.

A preset's journal row can be refused on a full disk, and a calm that was on must be on after a restart.
So the active preset is also kept in a small file whose space is taken once, when the journal opens: two
fixed-size slots overwritten in place (no new block, no rename, both of which a full disk refuses), each
with a sequence number and a checksum. A write goes to the older slot, so a write cut off half-way leaves
the other, still valid one; reading takes the newest valid slot.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from pathlib import Path

log = logging.getLogger(__name__)

SLOT = 512   # bytes; a preset name is at most 64 characters


class Standing:
    FILE = "standing"

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / self.FILE
        self._fd: int | None = None
        self._seq, self._slot = 0, 1
        self.state: dict | None = None   # as last written (or read at start); None: never written
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(self._fd).st_size < 2 * SLOT:
                os.pwrite(self._fd, b" " * (2 * SLOT), 0)   # the space, taken now while there is some
                os.fsync(self._fd)
        except OSError as exc:
            log.error("cannot keep the room's standing state in %s (%s): a preset that is on may be off after "
                      "a restart on a full disk", self.path, exc)
            if self._fd is not None:
                os.close(self._fd)
            self._fd = None
            return
        found = [slot for slot in (self._slot_at(0), self._slot_at(1)) if slot is not None]
        if found:
            self._seq, self._slot, self.state = max(found, key=lambda slot: slot[0])

    def _slot_at(self, index: int) -> tuple[int, int, dict] | None:
        assert self._fd is not None   # read only once the file is open
        raw = os.pread(self._fd, SLOT, index * SLOT).rstrip(b" ")
        try:
            seq, crc, body = raw.split(b" ", 2)
            if zlib.crc32(body) != int(crc):
                return None
            return int(seq), index, json.loads(body)
        except ValueError:
            return None

    def write(self, state: dict) -> None:
        """Overwrite the older slot with `state` and sync it; an error is logged (the room carries on)."""
        if self._fd is None:
            return
        body = json.dumps(state, separators=(",", ":")).encode()
        record = b"%d %d %s" % (self._seq + 1, zlib.crc32(body), body)
        if len(record) > SLOT:
            raise ValueError(f"standing state of {len(record)} bytes does not fit a slot of {SLOT}")
        slot = 1 - self._slot
        try:
            os.pwrite(self._fd, record.ljust(SLOT, b" "), slot * SLOT)
            os.fdatasync(self._fd)
        except OSError as exc:
            log.error("cannot write the room's standing state to %s: %s", self.path, exc)
            return
        self._seq, self._slot, self.state = self._seq + 1, slot, state

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
