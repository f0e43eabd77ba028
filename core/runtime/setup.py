"""How a process that trains is set up: its BLAS threads and its allocator, in one place.

Called by the entry points (main.py, the trainer's child process, the sweep's workers, the benchmarks and
the test suite's conftest), never on ``import core``: a library does not change its host's thread pools or
allocator behind its back.

BLAS threads: the machine has 2 cores shared by the GUI thread, the trainer and BLAS: one BLAS thread keeps
the window responsive and the small matrices of this tool fast. The environment variables work only if they
are set before NumPy loads its BLAS, so an entry point calls ``configure_process`` before it imports NumPy;
when NumPy is loaded already, the loaded BLAS is limited with threadpoolctl instead. A value the user set
(``OPENBLAS_NUM_THREADS=4 python main.py``) is kept unless ``force``.

The allocator: a training step allocates and frees arrays of a few hundred kilobytes per layer. Above
glibc's mmap threshold each one is a fresh mapping whose pages fault in on first write: measured here,
25-30% of a step at depth 10 / width 256 / batch 128. Raising the threshold serves them from the heap
instead. No effect (and no error) off glibc; set GRADFLOW_KEEP_MALLOC=1 to leave the allocator alone.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

configured: dict | None = None   # what the latest configure_process did; None: never called in this process
_limits: list = []               # threadpoolctl's limiters, kept alive for the process's lifetime


def configure_process(blas_threads: int = 1, force: bool = False) -> dict:
    """Set this process up for training: ``blas_threads`` BLAS threads (unless the environment names another
    number and not ``force``) and the allocator tuned. Returns what it did, also kept in ``configured``."""
    global configured
    configured = {"blas_threads": set_blas_threads(blas_threads, force), "allocator": tune_allocator()}
    return configured


def set_blas_threads(n: int = 1, force: bool = False) -> int | None:
    """The BLAS thread variables set (kept when the user set them, unless ``force``); when NumPy's BLAS is
    loaded already and did not start with them, it is limited with threadpoolctl. Returns the number the
    variables now say (None when that is not a number)."""
    had = os.environ.get(BLAS_THREAD_VARS[0])
    for var in BLAS_THREAD_VARS:
        if force:
            os.environ[var] = str(n)
        else:
            os.environ.setdefault(var, str(n))
    try:
        wanted = int(os.environ[BLAS_THREAD_VARS[0]])
    except ValueError:
        return None
    if "numpy" in sys.modules and (force or had is None):   # loaded before the variables said anything
        _limit_loaded_blas(wanted)
    return wanted


def _limit_loaded_blas(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # an optional nicety where the dependency is missing: the variables still hold for children
        return
    _limits.append(threadpool_limits(limits=n))


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds (see the module's docstring); False when not done."""
    if not sys.platform.startswith("linux") or os.environ.get("GRADFLOW_KEEP_MALLOC"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
    return mallopt(_M_TRIM_THRESHOLD, 128 * 1024 * 1024) == 1 and ok
