"""Light and dark themes; "system" follows the desktop's colour scheme."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")
COLOURS = {"light": {"bg": "#ffffff", "fg": "#222222"}, "dark": {"bg": "#1c1c1e", "fg": "#dddddd"}}
# Status and message text per theme: each at least 4.5:1 against the window colour (tests/gui/test_honest_view.py).
TEXT = {"light": {"ready": "#333333", "running": "#1b5e20", "paused": "#6b5400", "done": "#1f5fa8",
                  "diverged": "#b00020", "notice": "#4a4a4a", "error": "#b00020"},
        "dark": {"ready": "#e6e6e6", "running": "#81c995", "paused": "#f0c35a", "done": "#8ab4f8",
                 "diverged": "#ff8a80", "notice": "#c8c8c8", "error": "#ff8a80"}}
# Text drawn inside plots by role (a TextItem's ``theme_role``): each at least 4.5:1 against its plot's background
ROLE_TEXT = {"light": {"muted": "#595959", "underflow": "#b35806"},
             "dark": {"muted": "#a8a8a8", "underflow": "#f1a340"}}
WINDOW = {"dark": "#2b2b2e"}   # the dark palette's window colour (the light one is the style's own)
mode = "light"                 # the theme in use, set by apply()


def text_colour(name: str) -> str:
    """The colour of a status word or message kind ('notice', 'error', a run state) in the current theme."""
    return TEXT[mode].get(name, TEXT[mode]["ready"])


def luminance(colour) -> float:
    """WCAG relative luminance of a colour."""
    c = QColor(colour)
    def lin(v):
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())


def contrast(a, b) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


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
    global mode
    mode = resolve(name)
    app = QApplication.instance()
    if app.style().name().lower() != "fusion":   # once: setStyle re-polishes every widget, and (since this
        app.setStyle("Fusion")                   # session's merges) crashed in 5 of 10 switches in a live window
    app.setPalette(_dark_palette() if mode == "dark" else app.style().standardPalette())
    for w in plot_widgets:
        style_plot(w, mode)
    return mode


def style_plot(w, plot_mode: str) -> None:
    """Colour one PlotWidget for 'light' or 'dark' (exports draw a plot light, then restore it): its axes, title,
    legend, colour bars and text items; plots drawn with it (``w.companions``) too."""
    bg, fg = COLOURS[plot_mode]["bg"], COLOURS[plot_mode]["fg"]
    w.setBackground(bg)
    item = w.getPlotItem()
    _style_axes(item, fg)
    item.titleLabel.opts["color"] = fg
    item.titleLabel.setText(item.titleLabel.text)
    if item.legend is not None:
        item.legend.setLabelTextColor(fg)
        for _, label in item.legend.items:  # existing labels keep their colour otherwise
            label.setText(label.text, color=fg)
        item.legend.setBrush(pg.mkBrush(QColor(bg).red(), QColor(bg).green(), QColor(bg).blue(), 200))
    for child in w.scene().items():
        if isinstance(child, pg.ColorBarItem):   # its own axes: black ticks on a dark plot otherwise
            _style_axes(child, fg)
        elif isinstance(child, pg.TextItem) and getattr(child, "theme_role", None):
            child.setColor(ROLE_TEXT[plot_mode][child.theme_role])
    for other in getattr(w, "companions", ()):
        style_plot(other, plot_mode)


def _style_axes(plot_item, fg: str) -> None:
    for side in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(side)
        axis.setPen(fg)
        axis.setTextPen(fg)   # the tick labels and the axis label


def role_colour(role: str) -> str:
    """The colour of text in plots with ``theme_role`` ``role`` in the current theme."""
    return ROLE_TEXT[mode][role]
