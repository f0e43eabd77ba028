"""The Jacobian tab draws core's JacobianView (sent in the snapshot): the histogram's bars, the predicted line and
the gauge's words are core's numbers; a recurrent network hides the tab."""
import math

import numpy as np

from core import ExperimentConfig, Trainer
from core.measure.jacobian import measure_view
from gui.panels.jacobian_spectrum import gauge_text
from tests.gui.conftest import epochs_stepped, rebuilt_with_config

CFG = ExperimentConfig(depth=5, width=12, activation="tanh", init="orthogonal", samples=120, batch_size=32)


def test_snapshot_carries_cores_view_and_the_tab_draws_it(window, qtbot):
    rebuilt_with_config(window, qtbot, CFG)
    panel = window.dashboard.jacobian
    view = window.last_snapshot.jacobian
    assert view is not None
    expected = measure_view(Trainer(CFG))   # the same seed: the same network before any step
    np.testing.assert_allclose(view.singular_values, expected.singular_values, rtol=1e-12)
    assert view.predicted == expected.predicted and math.isfinite(view.predicted[0])
    tabs = window.dashboard.lessonTabs
    tabs.setCurrentIndex(tabs.indexOf(panel.widget))
    window.dashboard.draw_shown()
    x, y = panel.bars.getData()
    np.testing.assert_allclose(y, view.shares)
    assert panel.predicted.isVisible() and panel.predicted.value() == 0.5 * math.log10(view.predicted[0])
    assert panel.label.text() == gauge_text(view)
    assert f"{100 * view.share:.0f}% of {view.singular_values.size} singular values" in panel.label.text()
    epochs_stepped(window, qtbot, 1)
    assert tabs.isTabVisible(tabs.indexOf(panel.widget))


def test_no_prediction_where_the_theory_does_not_hold_and_hidden_for_rnn(window, qtbot):
    rebuilt_with_config(window, qtbot, CFG.replace(residual=True))
    view = window.last_snapshot.jacobian
    assert view.predicted is None and "residual" in view.reason
    panel = window.dashboard.jacobian
    tabs = window.dashboard.lessonTabs
    tabs.setCurrentIndex(tabs.indexOf(panel.widget))
    window.dashboard.draw_shown()
    assert not panel.predicted.isVisible() and "no free-probability prediction" in panel.label.text()
    rebuilt_with_config(window, qtbot, ExperimentConfig(model="rnn", dataset="recall", seq_len=4, width=6,
                                                        samples=60))
    assert window.last_snapshot.jacobian is None
    assert not tabs.isTabVisible(tabs.indexOf(panel.widget))
    precision = tabs.indexOf(window.dashboard.precision.widget)   # low precision is the MLP's only: no tab either
    assert precision >= 0 and not tabs.isTabVisible(precision)
    rebuilt_with_config(window, qtbot, CFG)
    assert tabs.isTabVisible(tabs.indexOf(panel.widget)) and tabs.isTabVisible(precision)


def test_free_probability_density_drawn_for_tanh_and_relu(window, qtbot):
    """Issue 23: the red curve is core's free-probability density for tanh and ReLU, not only the linear law."""
    panel = window.dashboard.jacobian
    tabs = window.dashboard.lessonTabs
    for activation, init in (("tanh", "lecun"), ("relu", "he")):
        rebuilt_with_config(window, qtbot, ExperimentConfig(depth=5, width=32, activation=activation, init=init,
                                                            samples=120, batch_size=32))
        view = window.last_snapshot.jacobian
        assert len(view.density) == len(view.shares) and "free-probability density" in view.law
        tabs.setCurrentIndex(tabs.indexOf(panel.widget))
        window.dashboard.draw_shown()
        x, y = panel.law.getData()
        np.testing.assert_allclose(y, view.density)
        assert f"red curve: {view.law}" in panel.label.text()
        assert ("% of the singular values at exactly 0" in panel.label.text()) == (activation == "relu")
