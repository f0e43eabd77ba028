"""Small helpers every part of the window uses to make its widgets findable and safe."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def named(widget, name: str, tip: str):
    """Give a widget its object name (tests and automation find it by that) and a one-sentence tooltip."""
    widget.setObjectName(name)
    widget.setToolTip(tip)
    return widget


def plain_label(text: str, name: str, tip: str) -> QLabel:
    """A label that never renders its text as markup: it may show text from a file or a config value."""
    label = named(QLabel(text), name, tip)
    label.setTextFormat(Qt.PlainText)
    label.setWordWrap(True)
    return label


def restyle(widget, css: str) -> None:
    """``widget.setStyleSheet(css)`` only when it changes: each call re-polishes the widget (its style and fonts
    made anew, its layout redone), and a story's claim marks are shown again at every frame."""
    if widget.styleSheet() != css:
        widget.setStyleSheet(css)
