"""View > Many seeds: the band and the fan drawn are core.measure.seeds' numbers for the window's config."""
import numpy as np

from core import ExperimentConfig
from core.measure.seeds import band, hanin_fan, seed_delta_norms
from gui.app.seeds_view import SeedsDialog

CFG = ExperimentConfig(depth=4, width=8, activation="relu", init="he", samples=100)


def test_band_and_fan_are_cores(qtbot):
    d = SeedsDialog(CFG, workers=1)
    qtbot.addWidget(d)
    d.seedsSpin.setValue(5)
    assert d.start()
    qtbot.waitUntil(lambda: not d.running, timeout=30000)
    lo, med, hi = band(seed_delta_norms(CFG, 5))
    np.testing.assert_allclose(d.median.getData()[1], med)
    np.testing.assert_allclose(d.lo.getData()[1], lo)
    np.testing.assert_allclose(d.hi.getData()[1], hi)
    fan = hanin_fan(CFG, med)
    np.testing.assert_allclose(d.fan_lo.getData()[1], fan[0])
    assert d.status.text().startswith("5 seeds: ")


def test_no_fan_outside_the_theorem_and_refusal_for_rnn(qtbot):
    d = SeedsDialog(CFG.replace(activation="tanh"), workers=1)
    qtbot.addWidget(d)
    d.seedsSpin.setValue(3)
    d.start()
    qtbot.waitUntil(lambda: not d.running, timeout=30000)
    assert len(d.fan_lo.getData()[0] if d.fan_lo.getData()[0] is not None else []) == 0
    assert "No fan" in d.status.text()
    r = SeedsDialog(ExperimentConfig(model="rnn", dataset="recall", seq_len=3, width=4), workers=1)
    qtbot.addWidget(r)
    assert not r.start() and "recurrent" in r.status.text()
