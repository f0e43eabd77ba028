"""Draw only what can be seen: a panel on a page or tab that is not in front, or in a collapsed splitter pane,
keeps its latest data and is marked dirty; it draws when it is shown, before it paints, so nothing stale is
ever on screen.

``shown(widget)`` is asked relative to the widget's window, so a window not shown yet (tests, a screenshot
being prepared) draws everything a user would see once it is. ``ShowWatcher`` calls back when a watched
widget is shown (its page or tab switched to, its window shown) or resized (a splitter pane opened).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


def shown(widget) -> bool:
    """Would be on screen when its window is: not on a page or tab behind another, not hidden, not a
    collapsed (zero-sized) splitter pane."""
    return widget.isVisibleTo(widget.window()) and widget.width() > 0 and widget.height() > 0


class ShowWatcher(QObject):
    """An event filter: ``on_shown()`` runs, synchronously (before the paint), when a watched widget gets a
    Show or Resize event."""

    EVENTS = (QEvent.Type.Show, QEvent.Type.Resize)

    def __init__(self, on_shown, parent=None):
        super().__init__(parent)
        self.on_shown = on_shown

    def watch(self, widget) -> None:
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:   # noqa: N802 (Qt's name)
        if event.type() in self.EVENTS:
            self.on_shown()
        return False


class Panel:
    """One view of the dashboard. ``clear`` (a new network: nothing from the old run stays) draws at once;
    ``on_batch`` (the latest measured step) and ``on_epochs`` (epochs were added to the histories) keep what
    is new and call ``changed()``; ``draw()`` draws what was kept, called by the dashboard only while one of
    ``views()`` is shown, else when one next is."""

    widget = None
    dirty = False

    def views(self) -> list:
        """The widgets that show what ``draw`` draws."""
        return [] if self.widget is None else [self.widget]

    def changed(self) -> None:
        self.dirty = True

    def clear(self, snap) -> None:
        pass

    def on_batch(self, frame) -> None:
        pass

    def on_epochs(self, frame) -> None:
        pass

    def draw(self) -> None:
        pass


class Rewinds:
    """A panel that rewinds (issue 21): ``set_at`` keeps the chosen RewindAt (None: live) and ``draw`` shows it."""
    at = None

    def set_at(self, at) -> None:
        self.at = at
        self.changed()
