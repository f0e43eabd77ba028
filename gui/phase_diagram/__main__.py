"""``python -m gui.phase_diagram SWEEP.csv OUT.png [METRIC]``: draw a sweep CSV as a phase diagram, headless."""
import sys

from gui.phase_diagram.view import render_png

sys.exit(0 if render_png(*sys.argv[1:4]) else 1)
