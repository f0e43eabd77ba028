"""Keep glibc from returning every large temporary to the OS.

A training step allocates and frees arrays of a few hundred kilobytes per layer. Above
glibc's mmap threshold each one is a fresh mapping whose pages fault in on first write:
measured here, 25-30% of a step at depth 10 / width 256 / batch 128. Raising the
threshold serves them from the heap instead. No effect (and no error) off glibc; set
GRADFLOW_KEEP_MALLOC=1 to leave the allocator alone.
"""
import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get("GRADFLOW_KEEP_MALLOC"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
    return mallopt(_M_TRIM_THRESHOLD, 128 * 1024 * 1024) == 1 and ok
