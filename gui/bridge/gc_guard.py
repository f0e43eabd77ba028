"""Python's cyclic garbage collector runs only in the GUI thread while a trainer thread lives.

The collector runs in whichever thread happens to allocate when a threshold is crossed. If that is
the trainer's thread (or, in process mode, the thread that relays the child's snapshots) and the
garbage holds a Qt object (a closed window's widgets and actions, kept alive by a reference cycle),
the object's C++ destructor runs there: it takes Qt's lock on its connections and then waits for the
GIL to look for Python overrides, while the GUI thread, holding the GIL, waits for that same lock
deleting a widget of its own. Both wait forever. This was the intermittent hang of the GUI tests (a
faulthandler dump: the worker in ``gc_collect_main`` -> ``QObject::~QObject`` ->
``Shiboken::GilState::acquire``, the GUI thread in ``QWidget::~QWidget`` -> ``QBasicMutex::lockInternal``).

So while any session model has a trainer thread, automatic collection is off and a timer on the GUI
thread collects each generation when its count passes the threshold automatic collection would have
used, as ``pyqtgraph.util.garbage_collector.GarbageCollector`` does (pyqtgraph turns it off for good;
here it is turned back on when the last trainer thread has ended, so a script or test that goes on
without an event loop still collects). Reference counting, which frees almost everything (arrays
included), is not affected.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QTimer

INTERVAL_MS = 100

_users = 0
_timer: QTimer | None = None
_was_enabled = True


def hold() -> None:
    """A trainer thread starts: from now on the GUI thread collects (call from the GUI thread)."""
    global _users, _timer, _was_enabled
    if _users == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
        _timer = QTimer()
        _timer.setObjectName("gcGuard")
        _timer.timeout.connect(collect_due)
        _timer.start(INTERVAL_MS)
    _users += 1


def release() -> None:
    """A trainer thread has ended; the last one gives collection back to Python."""
    global _users, _timer
    if _users == 0:
        return
    _users -= 1
    if _users == 0:
        _timer.stop()
        _timer = None
        gc.collect()
        if _was_enabled:
            gc.enable()


def collect_due() -> None:
    """Collect the generations whose counts passed their thresholds (what automatic collection does)."""
    threshold = gc.get_threshold()
    count = gc.get_count()
    if count[0] > threshold[0]:
        generation = 2 if count[2] > threshold[2] and count[1] > threshold[1] else 1 if count[1] > threshold[1] else 0
        gc.collect(generation)


def active() -> bool:
    return _users > 0
