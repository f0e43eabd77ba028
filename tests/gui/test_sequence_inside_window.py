"""Issue 21 in the window: the Inside page of an RNN, an LSTM, a GRU and a Transformer draws what core recorded
(read back from the plot items), the rewind slider moves it, run B is drawn beside A, and the MLP page is as it was."""
import numpy as np
import pytest

from core import ExperimentConfig

from .conftest import epochs_stepped, rebuilt_with_config

CONFIGS = {
    "rnn": ExperimentConfig(model="rnn", activation="tanh", dataset="recall", seq_len=8, width=8, depth=2,
                            samples=96, batch_size=32, epochs=5),
    "lstm": ExperimentConfig(model="lstm", dataset="recall", seq_len=8, width=8, depth=2, samples=96, batch_size=32,
                             epochs=5),
    "gru": ExperimentConfig(model="gru", dataset="recall", seq_len=8, width=8, depth=1, samples=96, batch_size=32,
                            epochs=5),
    "transformer": ExperimentConfig(model="transformer", dataset="recall", seq_len=6, width=8, heads=2, depth=2,
                                    samples=96, batch_size=32, epochs=5, activation="tanh"),
}


def _plots(w):
    p = w.dashboard.inside_plots
    return p["timeSignalPlot"], p["sequenceDistributionPlot"], p["unrolledNetwork"]


def _drawn_signal(signal) -> np.ndarray:
    """The y data of each layer's curve: log10 of the quantity for norms and stds."""
    return np.array([c.getData()[1] for c in signal.curves])


def _check_point(w, i):
    """The three plots show record i of run A's InsideView."""
    signal, dist, unrolled = _plots(w)
    view = w.last_snapshot.inside
    rec, what = view.point(i)
    np.testing.assert_allclose(_drawn_signal(signal), np.log10(rec["signal"]), rtol=1e-5)
    assert what in signal.caption.text() and what in unrolled.caption.text() and what in dist.caption.text()
    median = rec["grad"][:, 3].astype(float)   # the distribution plot's default: the gradient
    assert dist.fieldCombo.currentData() == "grad" and (median > 0).any()
    np.testing.assert_allclose(dist.medians.getData()[0][median > 0], np.log10(median[median > 0]), rtol=1e-5)
    assert unrolled.field() == "grad_t"
    np.testing.assert_array_equal(unrolled.image_values, rec["grad_t"].astype(float))
    image = unrolled.image.image
    finite = rec["grad_t"] > 0
    np.testing.assert_allclose(image[finite], np.log10(rec["grad_t"][finite]), rtol=1e-5)
    return rec


@pytest.mark.parametrize("model", list(CONFIGS))
def test_inside_page_draws_the_records_and_rewind_moves_it(shared_window, qtbot, model):
    """The four models in turn in one window (conftest.shared_window): each a new network of its own."""
    w = shared_window
    w.plotPages.setCurrentIndex(1)   # the inside page in front
    rebuilt_with_config(w, qtbot, CONFIGS[model])
    signal, dist, unrolled = _plots(w)
    assert not signal.box.isHidden() and w.dashboard.activation.box.isHidden()   # the sequence plots in front
    epochs_stepped(w, qtbot, 3)
    view = w.last_snapshot.inside
    n = len(view)
    assert view.layout.sequence and n >= 3 and w.dashboard.inside.widget.slider.maximum() == n - 1
    T = view.layout.steps
    assert _drawn_signal(signal).shape == (view.layout.n_layers, T)
    assert unrolled.image.image.shape == (view.layout.n_layers, T)
    last = _check_point(w, n - 1)
    w.dashboard.inside.widget.slider.setValue(0)   # rewind to the first recorded point
    first = _check_point(w, 0)
    assert not np.allclose(first["signal"], last["signal"])   # the plots really moved
    assert "live" not in w.dashboard.inside.widget.label.text()
    w.dashboard.inside.widget.liveButton.click()
    _check_point(w, n - 1)
    head, rows = unrolled.table()
    assert len(rows) == view.layout.n_layers * T and head[:2] == [view.layout.layer_name, "t"]


def test_quantity_combos_redraw_from_the_same_record(window, qtbot):
    w = window
    w.plotPages.setCurrentIndex(1)
    rebuilt_with_config(w, qtbot, CONFIGS["lstm"])
    epochs_stepped(w, qtbot, 1)
    signal, dist, unrolled = _plots(w)
    rec, _ = w.last_snapshot.inside.point(-1)
    signal.quantityCombo.setCurrentIndex(signal.quantityCombo.findData("gate_saturation"))
    np.testing.assert_allclose(_drawn_signal(signal), rec["gate_saturation"], rtol=1e-6)
    assert signal.widget.getPlotItem().vb.viewRange()[1][0] <= 0 and signal.widget.getPlotItem().vb.viewRange()[1][1] >= 1
    unrolled.quantityCombo.setCurrentIndex(unrolled.quantityCombo.findData("saturation"))
    np.testing.assert_allclose(unrolled.image.image, rec["saturation"], rtol=1e-6)
    assert unrolled.levels == (0.0, 1.0)
    dist.fieldCombo.setCurrentIndex(dist.fieldCombo.findData("act"))
    np.testing.assert_allclose(dist.bands, rec["act"], rtol=1e-6)


def test_run_b_is_drawn_beside_a_and_the_mlp_page_comes_back(window, qtbot):
    w = window
    w.plotPages.setCurrentIndex(1)
    rebuilt_with_config(w, qtbot, CONFIGS["rnn"])
    epochs_stepped(w, qtbot, 1)
    gen = w.last_snapshot.generation
    assert w.start_compare("lr", 0.5)
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=5000)
    epochs_stepped(w, qtbot, 1)
    snap = w.last_snapshot
    signal, dist, unrolled = _plots(w)
    j = snap.b.inside.find(int(snap.inside.series("step")[-1]))
    rec_b = snap.b.inside.point(j)[0]
    L, T = snap.inside.layout.n_layers, snap.inside.layout.steps
    np.testing.assert_allclose(np.array([c.getData()[1] for c in signal.curves_b]), np.log10(rec_b["signal"]),
                               rtol=1e-5)
    assert unrolled.image.image.shape == (2 * L + 1, T) and "run B" in unrolled.caption.text()
    np.testing.assert_array_equal(unrolled.image_values[L + 1:], rec_b["grad_t"].astype(float))
    w.stop_compare()
    gen = w.last_snapshot.generation
    rebuilt_with_config(w, qtbot, ExperimentConfig(depth=3, width=12, samples=1000, batch_size=10, epochs=5,
                                                   activation="tanh"))
    epochs_stepped(w, qtbot, 1)
    assert not w.dashboard.activation.box.isHidden() and signal.box.isHidden()
    assert w.dashboard.activation.values is not None   # the MLP's forward signal drew
