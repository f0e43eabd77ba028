"""Issue 12 in the window: the distribution plot, the forward signal, the network picture and the rewind
slider, read back from their items after driving the window."""
import json

import numpy as np

from core import ExperimentConfig
from core.measure.distributions import QUANTILES

from .conftest import epochs_stepped, rebuilt_with_config

TANH = ExperimentConfig(depth=3, width=12, samples=1000, batch_size=10, epochs=5, activation="tanh",
                        init="normal", lr=0.01)


def _n(item) -> int:
    x = item.getData()[0]
    return 0 if x is None else len(x)




def test_views_show_what_core_recorded_and_rewind(window, qtbot, tmp_path):
    w, d = window, window.dashboard
    w.plotPages.setCurrentIndex(1)   # the inside page in front: its views draw every frame
    rebuilt_with_config(w, qtbot, TANH)
    assert d.inside.widget.slider.isEnabled() is False and "nothing" in d.inside.widget.label.text()
    epochs_stepped(w, qtbot, 3)
    view = w.last_snapshot.inside
    n = len(view)
    assert n >= 3 and d.inside.widget.slider.maximum() == n - 1 and d.inside.widget.slider.value() == n - 1
    rec, what = view.point(n - 1)
    assert d.inside.widget.label.text() == "live: " + what

    # forward signal: bar tops are log10 of the recorded std, markers the saturated shares (makemore's rule)
    act = d.activation
    opts = act.bars.opts
    np.testing.assert_allclose(np.asarray(opts["y0"]) + np.asarray(opts["height"]), np.log10(rec["act_std"]),
                               rtol=1e-6)
    np.testing.assert_allclose(act.sat.data["y"], rec["saturation"], rtol=1e-6)
    assert rec["saturation"].max() > 0 and "0.97" in act.caption.text()

    # ridge plot: one outline per layer, baselines at the layer numbers; the widest x span is min..max bands
    dist = d.distribution
    assert dist.ridge_mode and dist.kind == "gradients"
    x, y = dist.ridge.getData()
    finite = np.isfinite(x)
    lo, hi = np.log10(rec["grad"][:, 0].min()), np.log10(rec["grad"][:, 6].max())
    assert np.isclose(x[finite].min(), lo, atol=1e-6) and np.isclose(x[finite].max(), hi, atol=1e-6)
    assert int(np.nansum(np.isnan(x))) == rec["grad"].shape[0]   # one break per layer
    # over time: the 7 band curves of layer 2 at every recorded step
    dist.modeCombo.setCurrentIndex(0)
    dist.layerSpin.setValue(2)
    xs, ys = dist.curves[3].getData()
    np.testing.assert_array_equal(xs, view.series("step"))
    np.testing.assert_allclose(ys, np.log10(view.series("grad")[:, 1, 3]), rtol=1e-6)
    assert dist.cursor.value() == view.series("step")[-1]

    # network picture: every link drawn once, in the colour bin of its log10 RMS
    diag = d.diagram
    lay = view.layout
    n_links = sum(a * b for a, b in zip(lay.bands[:-1], lay.bands[1:]))
    drawn = sum(_n(c) for c in diag.links) // 2 + _n(diag.missing) // 2
    assert drawn == n_links and diag.drawn_nodes == sum(lay.bands)
    g = rec["g_blocks"]
    assert np.allclose(diag.drawn["log10_range"], (np.log10(np.nanmin(g)), np.log10(np.nanmax(g))), rtol=1e-5)
    diag.kindCombo.setCurrentText("weights")
    assert np.allclose(diag.drawn["values"], rec["w_blocks"], equal_nan=True)

    # rewind to the first recorded point: every inside view shows it, and it stays there while training goes on
    d.inside.widget.slider.setValue(0)
    first, what0 = view.point(0)
    assert d.inside.widget.label.text() == what0 and what0 in act.caption.text()
    np.testing.assert_allclose(act.sat.data["y"], first["saturation"], rtol=1e-6)
    epochs_stepped(w, qtbot, 1)
    assert d.inside.widget.label.text() == what0 and d.inside.widget.slider.value() == 0
    d.inside.widget.liveButton.click()
    assert d.inside.widget.slider.value() == len(w.last_snapshot.inside) - 1

    # exports: CSV of what the plots show, PNG, and the experiment file's "inside" section
    path = tmp_path / "dist.csv"
    dist.modeCombo.setCurrentIndex(1)
    assert w.export_plot("distributionPlot", str(path))
    lines = path.read_text().splitlines()
    v = w.last_snapshot.inside
    assert lines[0].startswith("step,epoch,layer,gradients |value| 0%") and len(lines) == 1 + len(v) * lay.n_layers
    assert w.export_plot("activationPlot", str(tmp_path / "act.png")) and (tmp_path / "act.png").stat().st_size > 0
    assert w.export_plot("networkDiagram", str(tmp_path / "net.csv"))
    assert w.save_experiment(str(tmp_path / "e.json"))
    doc = json.loads((tmp_path / "e.json").read_text())
    assert doc["inside"]["version"] == 1 and doc["inside"]["quantiles"] == list(QUANTILES)
    assert len(doc["inside"]["grad"]) == len(v.epochs["step"]) + 1 and "0.97" in doc["inside"]["saturation_rule"]
    assert (tmp_path / "e.json").stat().st_size < 100_000


def test_rebuild_clears_the_views_and_compare_overlays_b(window, qtbot):
    w, d = window, window.dashboard
    w.plotPages.setCurrentIndex(1)
    rebuilt_with_config(w, qtbot, TANH)
    epochs_stepped(w, qtbot, 1)
    gen = w.last_snapshot.generation
    assert w.start_compare("activation", "relu")
    qtbot.waitUntil(lambda: w.last_snapshot.generation > gen, timeout=5000)
    assert d.diagram.state is None and d.activation.values is None and _n(d.distribution.ridge) == 0
    epochs_stepped(w, qtbot, 1)
    snap = w.last_snapshot
    assert snap.b is not None and snap.b.inside is not None
    assert _n(d.distribution.ridge_b) > 0                       # B's ridge overlaid
    std_b = d.activation.values[2][0]
    j = snap.b.inside.find(int(snap.inside.series("step")[-1]))
    np.testing.assert_allclose(std_b, snap.b.inside.point(j)[0]["act_std"], rtol=1e-6)
    assert "run B" in d.diagram.caption.text() and d.diagram.drawn_nodes == 2 * sum(snap.inside.layout.bands)


def test_network_diagram_stays_few_items_and_readable_from_2_to_1024_units_and_100_layers(qtbot):
    from core.measure.distributions import make_layout
    from gui.panels.inside.network_diagram import NetworkDiagram
    diag = NetworkDiagram()
    qtbot.addWidget(diag.box)
    counts = []
    for sizes in ([2, 2, 1], [2] + [1024] * 100 + [1], [3] + [5] * 4 + [4]):
        lay = make_layout(sizes)
        n_blocks = int(lay.block_offsets[-1] + lay.bands[-2] * lay.bands[-1])
        rng = np.random.default_rng(0)
        rec = {k: 10.0 ** rng.uniform(-6, 0, n_blocks) for k in ("w_blocks", "g_blocks", "u_blocks")}
        rec["node_saturation"] = rng.random(sum(lay.bands[1:-1]))
        diag.show(lay, rec, "a test")
        counts.append(len(diag.plot.items))
        assert max(lay.bands) <= 8 and diag.drawn_nodes == sum(lay.bands)
        drawn = sum(_n(c) for c in diag.links) // 2
        assert drawn == sum(a * b for a, b in zip(lay.bands[:-1], lay.bands[1:]))
        # each link sits in the colour bin of its log10 value on the picture's range
        lo, hi = diag.drawn["log10_range"]
        bins = np.clip(((np.log10(diag.drawn["values"]) - lo) / (hi - lo) * 8).astype(int), 0, 7)
        np.testing.assert_array_equal(bins, diag.drawn["bins"])
        ringed = int((rec["node_saturation"] >= 0.5).sum())
        assert _n(diag.rings) == ringed
        assert ("a node stands for up to 128 units" in diag.caption.text()) == (max(sizes) == 1024)
    assert counts[0] == counts[1] == counts[2]   # the same few items whatever the size
