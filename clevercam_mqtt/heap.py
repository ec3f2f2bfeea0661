"""Keeps the service's memory flat on glibc (Linux, Raspberry Pi OS).

A frame with motion is decoded in whichever worker thread `asyncio.to_thread` picks, and
a 1080p RGB picture is an 8 MB block. glibc raises its mmap threshold after the first such
block is freed, serves the next ones from per-thread arenas and keeps the freed memory
there, so RSS climbs by ~12 MB each time another worker decodes its first big frame (161
MB after 10 minutes at 5 frames/s instead of a flat 100 MB). A fixed threshold sends every
block of 512 KB or more to mmap, which gives it back to the system when it is freed; small
allocations (a 1/8 greyscale frame, the JPEG bytes) stay on the heap.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

_LOGGER = logging.getLogger(__name__)
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD = 512 * 1024


def limit_heap_growth(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold for this process; False where there is nothing to do
    (not Linux, no glibc) or where the user set MALLOC_MMAP_THRESHOLD_ themselves."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = mallopt(M_MMAP_THRESHOLD, threshold) == 1
    _LOGGER.debug("malloc mmap threshold %s bytes: %s", threshold, "set" if done else "refused")
    return done
