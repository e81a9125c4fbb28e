"""Keep a long copy's memory flat: glibc's heap otherwise grows with the bytes that passed through.

Object bodies arrive in multi-MiB buffers allocated and freed on several threads (obstore's runtime,
hashing threads, the event loop). glibc raises its mmap threshold after the first such free and then
serves those sizes from per-thread heaps that fragment; the process grew by ~40 MiB per GiB copied.
A fixed threshold of 1 MiB sends every large buffer to mmap, returned to the system on free.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024


def keep_large_buffers_off_the_heap() -> bool:
    """True if applied (Linux with glibc); elsewhere nothing to do, or nothing we can do."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl has no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
