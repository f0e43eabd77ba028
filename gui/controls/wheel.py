"""No setting changes under the mouse wheel unless the user clicked into it (as Qt Creator and Blender do).

``guard(root)`` gives every spin box, combo box and slider under ``root`` Qt.StrongFocus (a click or Tab
focuses it, the wheel does not) and a filter that hands a wheel event over an unfocused one to the scroll
area it sits in, so the settings column scrolls instead of the value changing.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSlider, QAbstractSpinBox, QComboBox, QScrollBar, QWidget

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """The event filter: a wheel event over an unfocused editor is not delivered to it; the scroll area it
    sits in (if any) gets it instead, so the column scrolls."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Wheel and not obj.hasFocus():
            area = _scroll_area_of(obj)
            if area is not None:
                QCoreApplication.sendEvent(area.viewport(), event)
            event.accept()   # handled here: Qt does not hand it on to the parents a second time
            return True
        return super().eventFilter(obj, event)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def guard(root: QWidget, wheel_guard: WheelGuard | None = None) -> WheelGuard:
    """Guard every editor under ``root`` (and ``root`` itself); returns the filter (keep it alive)."""
    wheel_guard = wheel_guard or WheelGuard(root)
    editors = [w for kind in GUARDED for w in root.findChildren(kind)] + ([root] if isinstance(root, GUARDED) else [])
    editors = [w for w in editors if not isinstance(w, QScrollBar)]   # a scroll bar scrolls: that is its wheel
    for w in editors:
        w.setFocusPolicy(Qt.StrongFocus)
        w.installEventFilter(wheel_guard)
    return wheel_guard
