"""Time, made explicit so a test can run an 8-hour session in a second.

Two readings: `monotonic()` orders everything the room does (fades, phase changes) and never jumps;
`wall()` is only for people (journal timestamps, reports) and may step when NTP corrects it.

After a reboot monotonic time starts again, and a computer without a real-time clock (a Raspberry Pi) starts
its wall clock at the last shutdown until NTP corrects it, which on an offline clinic network may never
happen. So a clock also says which boot it is in (`boot()`) and whether the kernel counts its wall time as
synchronised (`synchronised()`): recovery believes a wall-clock gap only from a synchronised clock.

A loop that waits on a clock asks `clock.timeout(deadline)` how long to block. The system clock answers in
real seconds. The manual clock answers "until woken" and moves only when a test calls `advance()`, which
walks through every registered loop's deadlines in order, so each timer fires at exactly its planned time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...

    def timeout(self, deadline: float | None) -> float | None: ...

    def register(self, loop: ClockDriven) -> None: ...

    def boot(self) -> str: ...

    def synchronised(self) -> bool | None: ...


class ClockDriven(Protocol):
    """A loop with timers: the manual clock needs its next deadline and a way to let it catch up."""

    def next_deadline(self) -> float | None: ...

    def settle(self) -> None: ...


class SystemClock:
    """The real clocks of the machine."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def timeout(self, deadline: float | None) -> float | None:
        if deadline is None:
            return None
        return max(0.0, deadline - time.monotonic())

    def register(self, loop: ClockDriven) -> None:
        """Real time needs no driving."""

    def boot(self) -> str:
        """Which boot of this computer we are in: monotonic time means nothing across boots."""
        try:
            return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        except OSError:
            return "unknown"

    def synchronised(self) -> bool | None:
        return kernel_synchronised()


class _Timex(ctypes.Structure):
    """struct timex of <sys/timex.h> (Linux), as far as `status`; the rest is room for the kernel to fill."""

    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("rest", ctypes.c_byte * 256)]


TIME_ERROR = 5        # adjtimex's answer when the clock is not synchronised (man 2 adjtimex)
STA_UNSYNC = 0x0040   # status bit: "clock unsynchronized"


def kernel_synchronised() -> bool | None:
    """The kernel's own view (adjtimex(2) with modes 0 only reads): False while no time source (NTP,
    systemd-timesyncd, chrony) has disciplined the clock since boot; None where it cannot be asked. The
    same flag `timedatectl show -p NTPSynchronized` reports."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR and not timex.status & STA_UNSYNC


class ManualClock:
    """A clock that moves only when told; wall time can be stepped apart from monotonic time."""

    def __init__(self, start: float = 1000.0, wall_start: float = 1_780_000_000.0, boot: str = "boot-1",
                 synchronised: bool | None = True) -> None:
        """`boot`, `synchronised`: a test starts a clock of another boot, maybe without network time."""
        self.boot_id, self.synced = boot, synchronised
        self._now = start
        self._wall_offset = wall_start - start
        self._loops: list[ClockDriven] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def timeout(self, deadline: float | None) -> float | None:
        if deadline is not None and deadline <= self._now:
            return 0.0
        return None

    def register(self, loop: ClockDriven) -> None:
        with self._lock:
            self._loops.append(loop)

    def boot(self) -> str:
        return self.boot_id

    def synchronised(self) -> bool | None:
        return self.synced

    def unregister(self, loop: ClockDriven) -> None:
        with self._lock:
            if loop in self._loops:
                self._loops.remove(loop)

    def step_wall(self, seconds: float) -> None:
        """What NTP does to a computer without a real-time clock: wall time jumps, monotonic does not."""
        self._wall_offset += seconds

    def advance(self, seconds: float) -> None:
        """Move time forward, letting every registered loop run each timer at its own planned moment."""
        target = self._now + seconds
        while True:
            with self._lock:
                loops = list(self._loops)
            due = [d for d in (loop.next_deadline() for loop in loops) if d is not None and d <= target]
            if not due:
                break
            self._now = max(self._now, min(due))
            for loop in loops:
                loop.settle()
        self._now = target
        for loop in loops:
            loop.settle()
