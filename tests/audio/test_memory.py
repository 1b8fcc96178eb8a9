"""libvlc's stream caches go back to the system when freed, whichever of its threads frees them."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# What VLC's cache_read does for every stream it opens, on a thread of its own: 12 MiB, read into, freed.
# The first such block raises glibc's dynamic mmap threshold, so without a fixed one the second stays
# resident in its thread's arena.
STREAMS = """
import ctypes, sys, threading
from room_controller.audio import vlc_player

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]

def rss_kb():
    status = open("/proc/self/status").read()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))

def stream():
    block = libc.malloc(12 << 20)
    ctypes.memset(block, 1, 12 << 20)
    libc.free(block)

if sys.argv[1] == "fixed":
    vlc_player._map_large_blocks()
before = rss_kb()
for _ in range(3):
    thread = threading.Thread(target=stream)
    thread.start()
    thread.join()
print(rss_kb() - before)
"""


def grown_kb(setting: str) -> int:
    done = subprocess.run([sys.executable, "-c", STREAMS, setting], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.slow
@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_a_freed_stream_cache_leaves_nothing_resident():
    assert grown_kb("default") > 8 * 1024      # the cause: one cache stays resident
    assert grown_kb("fixed") < 2 * 1024
