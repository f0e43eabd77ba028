"""``python -m gui.phase_diagram SWEEP.csv OUT.png [METRIC]``: draw a sweep CSV as a phase diagram, headless."""
import sys

from core.runtime.setup import configure_process

configure_process()   # an entry point: BLAS threads and the allocator, before NumPy loads

from gui.phase_diagram.view import render_png  # noqa: E402

sys.exit(0 if render_png(*sys.argv[1:4]) else 1)
