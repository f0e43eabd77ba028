"""The prediction tab for sequence tasks: a sequence has no input plane to colour, so the tab says so
and shows something true instead, the validation score per epoch (accuracy for classification,
the loss for regression such as the adding problem)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.data.datasets import SEQUENCE_DATASETS

from gui.widgets import plain_label
from gui.panels.plotting import _plot, centre, empty_note, nice_ceiling
from gui.panels.loss import finished_only
from gui.panels.panel import Panel

NOTE = ("A sequence has no 2-D input plane to draw the prediction on. Shown instead: how the network does on the "
        "validation sequences after each epoch.")


class SequenceScore:
    def __init__(self):
        self.widget = _plot("Validation score per epoch", "validation accuracy", "epoch",
                            "After each epoch: the share of validation sequences classified correctly "
                            "(classification) or the validation loss (regression).", "sequenceScorePlot")
        self.curve = self.widget.plot([], [], pen=pg.mkPen("#f58518"), symbol="o", symbolSize=5,
                                      symbolBrush="#f58518", connect="finite")
        self.widget.setMouseEnabled(x=False, y=False)
        self.accuracy, self._view = True, None
        self.empty = empty_note(self.widget)

    def clear(self) -> None:
        self.curve.setData([], [])
        self._view = None
        self._show(True, 1.0, 1.0)
        self.empty.setText("no epoch completed yet")
        self.empty.setVisible(True)
        centre(self.widget, self.empty)

    def update(self, epochs, accuracy, val_loss) -> None:
        """Accuracy when the run measures one (classification), else the validation loss."""
        # no finite score at all (a run that diverged in its first epoch): the accuracy axis it would have had
        accuracy_known = bool(np.isfinite(accuracy).any()) or not np.isfinite(val_loss).any()
        y = np.asarray(accuracy if accuracy_known else val_loss, dtype=float)
        y = np.where(np.isfinite(y), y, np.nan)
        self.curve.setData(np.asarray(epochs, dtype=float), y)
        top = 1.0 if accuracy_known or not np.isfinite(y).any() else nice_ceiling(float(np.nanmax(y)) * 1.1)
        self._show(accuracy_known, nice_ceiling(max(len(epochs), 1)), top)
        shown = bool(np.isfinite(y).any())
        self.empty.setText("no epoch completed yet" if not len(y) else "no finished epoch: training diverged")
        self.empty.setVisible(not shown)
        if not shown:
            centre(self.widget, self.empty)

    def _show(self, accuracy: bool, x_end: float, y_top: float) -> None:
        """Axes from 0 (a probability from 0 to 1, a loss from 0), set only when they change: a changed axis
        repaints the plot."""
        if self._view == (accuracy, x_end, y_top):
            return
        self._view = (accuracy, x_end, y_top)
        self.accuracy = accuracy
        self.widget.setLabel("left", "validation accuracy" if accuracy else "validation loss")
        self.widget.setXRange(0.5, x_end + 0.5, padding=0)
        self.widget.setYRange(0.0, y_top, padding=0.02 if accuracy else 0)


class SequencePredictionPanel(Panel):
    """Takes the Prediction tab's place for sequence data sets (any model), and gives it back otherwise."""

    def __init__(self):
        self.plot = SequenceScore()
        self.note = plain_label(NOTE, "sequenceNote", "Why there is no prediction picture for sequences.")
        self.widget = QWidget()
        v = QVBoxLayout(self.widget)
        v.setContentsMargins(4, 4, 4, 4)
        v.addWidget(self.note, 0)
        v.addWidget(self.plot.widget, 1)

    @staticmethod
    def applies(snap) -> bool:
        return snap.config.dataset in SEQUENCE_DATASETS

    def clear(self, snap) -> None:
        self.plot.clear()

    def on_epochs(self, f) -> None:
        if self.applies(f.snap) and len(f.history):
            self.history, self.divergence = f.history, f.snap.divergence
            self.changed()

    def draw(self) -> None:
        # an epoch a divergence cut short has no validation to show (it ran on a broken network)
        epochs, _, val_loss, accuracy = finished_only(self.history, self.divergence)
        self.plot.update(epochs, accuracy, val_loss)
