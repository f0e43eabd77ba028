"""Issue 25, snapshots sized to what is drawn: the window tells its trainer which costly extras (the prediction
picture, the Jacobian's spectrum) it can show, as pages and tabs change."""
from __future__ import annotations

import pytest

from core.runtime.messages import SHOWN_JACOBIAN, SHOWN_PICTURE


@pytest.mark.wiring
def test_the_trainer_is_told_which_costly_views_are_in_sight(small_window, qtbot):
    w = small_window
    d = w.dashboard
    w.show()
    qtbot.waitExposed(w)
    tabs = d.lessonTabs

    def after_a_step() -> int:
        n = w.last_snapshot.step
        w.step_batch()
        qtbot.waitUntil(lambda: w.last_snapshot.step > n and not w.model._step_pending, timeout=10000)
        return w.worker._link.shown

    tabs.setCurrentWidget(d.boundary.widget)
    assert d.costly_shown() == SHOWN_PICTURE and after_a_step() == SHOWN_PICTURE
    tabs.setCurrentWidget(d.jacobian.widget)
    assert d.costly_shown() == SHOWN_JACOBIAN and after_a_step() == SHOWN_JACOBIAN
    d.pages.setCurrentIndex(1)   # the Inside page: neither
    assert d.costly_shown() == 0 and after_a_step() == 0
    d.pages.setCurrentIndex(0)
    assert d.costly_shown() == SHOWN_JACOBIAN
