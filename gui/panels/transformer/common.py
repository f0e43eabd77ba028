"""What the Transformer's views share: the caption of the pass they show, and controls that ignore the wheel."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


def caption(view, comparing: bool = False) -> str:
    """Which pass the numbers come from (core.measure.transformer_view: the latest batch, current weights); while
    comparing, that they are run A's (B's are not measured for these views)."""
    when = "initialisation, first batch" if view.step == 0 else f"step {view.step}, latest batch"
    return f"run A, {when}" if comparing else when


def short_caption(view, comparing: bool = False) -> str:
    """The step only, for a narrow plot (its tooltip says which batch)."""
    when = "initialisation" if view.step == 0 else f"step {view.step}"
    return f"run A, {when}" if comparing else when


class _NoWheelUnfocused(QObject):
    """A spin or combo box takes the wheel only when it has focus: scrolling the dashboard changes nothing."""

    def eventFilter(self, obj, event) -> bool:   # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Wheel and not obj.hasFocus():
            event.ignore()
            return True
        return False


_FILTER = _NoWheelUnfocused()


def wheel_only_when_focused(widget):
    widget.setFocusPolicy(Qt.StrongFocus)
    widget.installEventFilter(_FILTER)
    return widget
