"""Light and dark themes; "system" follows the desktop's colour scheme."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
COLOURS = {"light": {"bg": "#ffffff", "fg": "#222222"}, "dark": {"bg": "#1c1c1e", "fg": "#dddddd"}}


def resolve(name: str) -> str:
    """'light' or 'dark' for a theme name; 'system' asks the desktop."""
    if name in ("light", "dark"):
        return name
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", lambda: None)()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def _dark_palette() -> QPalette:
    p = QPalette()
    for role, colour in ((QPalette.Window, "#2b2b2e"), (QPalette.WindowText, "#e6e6e6"),
                         (QPalette.Base, "#1f1f22"), (QPalette.AlternateBase, "#2b2b2e"),
                         (QPalette.Text, "#e6e6e6"), (QPalette.Button, "#3a3a3e"),
                         (QPalette.ButtonText, "#e6e6e6"), (QPalette.Highlight, "#3d7bd9"),
                         (QPalette.HighlightedText, "#ffffff"), (QPalette.ToolTipBase, "#2b2b2e"),
                         (QPalette.ToolTipText, "#e6e6e6"), (QPalette.PlaceholderText, "#8a8a8a")):
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.Disabled, QPalette.Text, QColor("#777777"))
    p.setColor(QPalette.Disabled, QPalette.ButtonText, QColor("#777777"))
    return p


def apply(plot_widgets, name: str) -> str:
    """Apply a theme to the application and to each pyqtgraph PlotWidget; returns 'light' or 'dark'."""
    mode = resolve(name)
    app = QApplication.instance()
    app.setStyle("Fusion")
    app.setPalette(_dark_palette() if mode == "dark" else app.style().standardPalette())
    bg, fg = COLOURS[mode]["bg"], COLOURS[mode]["fg"]
    for w in plot_widgets:
        w.setBackground(bg)
        item = w.getPlotItem()
        for side in ("left", "bottom", "right", "top"):
            axis = item.getAxis(side)
            axis.setPen(fg)
            axis.setTextPen(fg)
        item.titleLabel.opts["color"] = fg
        item.titleLabel.setText(item.titleLabel.text)
        if item.legend is not None:
            item.legend.setLabelTextColor(fg)
            for _, label in item.legend.items:  # existing labels keep their colour otherwise
                label.setText(label.text, color=fg)
            item.legend.setBrush(pg.mkBrush(QColor(bg).red(), QColor(bg).green(), QColor(bg).blue(), 200))
    return mode
