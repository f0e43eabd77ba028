"""Kept for imports written before the split (issue 20): the shared helpers are in gui/panels/plotting.py, the
plots in gui/panels/heatmap.py, update_ratios.py and prediction.py. New code imports from those."""
from gui.panels.heatmap import NONFINITE_COLOUR, SPECIAL_RGBA, ZERO_COLOUR, FlowHeatmap  # noqa: F401
from gui.panels.plotting import *  # noqa: F401,F403
from gui.panels.plotting import _log10, _plot  # noqa: F401  (private names are not in *)
from gui.panels.prediction import DecisionBoundary, class_mix  # noqa: F401
from gui.panels.update_ratios import UpdateRatios  # noqa: F401
