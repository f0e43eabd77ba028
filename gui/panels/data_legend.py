"""Under the prediction plot: what its axes are (``Dataset.boundary_label``) and, for a classification,
which colour is which class. Both come from the data set the worker's session trains on, sent with each
REBUILT snapshot; names may come from a data file's header, so every label is plain text."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from gui.widgets import plain_label
from gui.panels.plotting import class_colour
from gui.panels.unit_axis import colour_levels, regression_map

PER_ROW = 5


class DataLegend(QWidget):
    def __init__(self):
        super().__init__()
        self.setObjectName("dataLegend")
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 0, 4, 2)
        v.setSpacing(2)
        self.axesLabel = plain_label("", "boundaryLabel", "The data set trained on, and what the prediction's axes "
                                     "are: its first two features (the others held at their training mean).")
        self.axesLabel.setWordWrap(True)
        v.addWidget(self.axesLabel)
        self.classes = QWidget()
        self.classes.setObjectName("classLegend")
        self.grid = QGridLayout(self.classes)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        v.addWidget(self.classes)
        self.entries: list[tuple[QLabel, QLabel]] = []   # (colour swatch, class name)

    def show_data(self, snap) -> None:
        """From a REBUILT snapshot: the axes in words and one colour swatch per class (none for a regression)."""
        source = snap.data_source
        name = f"the file {os.path.basename(source['path'])}" if source else f"{snap.config.dataset} (built in)"
        colour = ""
        if regression_map(snap):   # issue 21: the map's colours are the target, in the file's units
            lo, hi = colour_levels(snap)
            colour = f" Colour: the predicted {snap.units.target}, from {lo:.4g} (blue) to {hi:.4g} (red)."
        self.axesLabel.setText(f"Data: {name}." + (f" Axes: {snap.boundary_label}" if snap.boundary_label else "")
                               + colour)
        names = snap.class_names
        while len(self.entries) < len(names):   # created once per class index, then reused
            c = len(self.entries)
            swatch = QLabel()
            swatch.setFixedSize(10, 10)
            swatch.setStyleSheet(f"background: {class_colour(c).name()}; border: 1px solid #777777;")
            text = plain_label("", f"classLegend{c}", "The colour of this class's points and of where the network "
                               "predicts it.")
            row, col = divmod(c, PER_ROW)
            self.grid.addWidget(swatch, row, 2 * col, Qt.AlignVCenter)
            self.grid.addWidget(text, row, 2 * col + 1)
            self.entries.append((swatch, text))
        for c, (swatch, text) in enumerate(self.entries):
            text.setText(f"class {names[c]}" if c < len(names) else "")
            swatch.setVisible(c < len(names))
            text.setVisible(c < len(names))
        self.classes.setVisible(bool(names))
