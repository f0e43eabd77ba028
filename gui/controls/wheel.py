"""No setting changes under the mouse wheel unless the user clicked into it (as Qt Creator and Blender do).

``guard(root)`` gives every spin box, combo box and slider under ``root`` Qt.StrongFocus (a click or Tab
focuses it, the wheel does not) and a filter that passes a wheel event over an unfocused one on to its
parents, so the settings column scrolls instead of the value changing.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """The event filter: a wheel event over an unfocused editor is ignored there, so Qt hands it to the
    parent widgets (the scroll area scrolls)."""

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Wheel and isinstance(obj, GUARDED) and not obj.hasFocus():
            event.ignore()
            return True   # not delivered to the editor; ignored, so it propagates to the parent
        return super().eventFilter(obj, event)


def guard(root: QWidget, wheel_guard: WheelGuard | None = None) -> WheelGuard:
    """Guard every editor under ``root`` (and ``root`` itself); returns the filter (keep it alive)."""
    wheel_guard = wheel_guard or WheelGuard(root)
    editors = [w for kind in GUARDED for w in root.findChildren(kind)]
    if isinstance(root, GUARDED):
        editors.append(root)
    for w in editors:
        w.setFocusPolicy(Qt.StrongFocus)
        w.installEventFilter(wheel_guard)
    return wheel_guard
