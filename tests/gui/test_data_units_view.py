"""A data file's prediction map in its own units and column names: the axes write the file's numbers (core's
inverse of the standardisation, core.data.units), the picture itself is what core drew; a built-in data set
afterwards gets x₁, x₂ back, nothing of the file left."""
import numpy as np
import pyqtgraph as pg
import pytest

from tests.gui.test_file_wiring import rebuilt_after


def write_air(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    temp, pressure = rng.uniform(250.0, 320.0, n), rng.uniform(9.0e4, 1.1e5, n)
    hot = (temp - 285.0 + (pressure - 1.0e5) / 1e3 > 0).astype(int)
    rows = "".join(f"{float(t)!r},{float(p)!r},{h}\n" for t, p, h in zip(temp, pressure, hot))
    path.write_text("temperature_K,pressure_Pa,hot\n" + rows)
    return temp, pressure


def drawn_ticks(axis):
    """(position, text) of the ticks the axis draws over its current range."""
    lo, hi = axis.range
    length = axis.height() if axis.orientation in ("left", "right") else axis.width()
    levels = axis.tickValues(lo, hi, max(length, 200))
    out = []
    for spacing, values in levels[:1]:   # the labelled level
        out += list(zip(values, axis.tickStrings(values, 1.0, spacing)))
    return out


def axis_text(widget, side):
    return widget.getAxis(side).labelText


def test_the_prediction_axes_read_the_files_columns_in_its_units(small_window, qtbot, tmp_path):
    w = small_window
    temp, pressure = write_air(tmp_path / "air.csv")
    snap = rebuilt_after(w, qtbot, lambda: w.open_data(str(tmp_path / "air.csv")))
    plot = w.findChild(type(w.dashboard.plot_widgets["boundaryPlot"]), "boundaryPlot")
    assert axis_text(plot, "bottom") == "temperature_K" and axis_text(plot, "left") == "pressure_Pa"
    units = snap.units
    for side, column, values in (("bottom", 0, temp), ("left", 1, pressure)):
        ticks = drawn_ticks(plot.getAxis(side))
        assert len(ticks) >= 2
        numbers = [float(text) for _, text in ticks]
        # round numbers in the file's units, each at the standardised position core drew it at
        spacing = np.diff(numbers)
        assert np.allclose(spacing, spacing[0]) and spacing[0] in (1, 2, 5, 10, 20, 25, 50, 1000, 2000, 5000, 10000)
        for z, text in ticks:
            assert float(text) == pytest.approx(units.original(column, z), rel=1e-9, abs=1e-6)
        # and the file's own values lie on the labelled scale: the drawn points' positions, read off the ticks by
        # interpolation, are the file's numbers
        zs = plot.getPlotItem().items[[isinstance(i, pg.ScatterPlotItem) for i in plot.getPlotItem().items].index(
            True)].getData()[column]   # the points as drawn (standardised: core's numbers)
        read_off = np.interp(zs, [z for z, _ in ticks], numbers, left=np.nan, right=np.nan)
        inside = np.isfinite(read_off)
        assert inside.sum() > len(zs) // 3
        nearest = np.abs(read_off[inside][:, None] - values[None, :]).min(axis=1)
        assert nearest.max() < 1e-6 * np.abs(values).max()   # each point reads as a value of the file


def test_a_built_in_data_set_after_the_file_gets_its_own_axes_back(small_window, qtbot, tmp_path):
    w = small_window
    write_air(tmp_path / "air.csv")
    rebuilt_after(w, qtbot, lambda: w.open_data(str(tmp_path / "air.csv")))
    snap = rebuilt_after(w, qtbot, lambda: w.set_config(w.config.replace(dataset="xor")))
    plot = w.dashboard.plot_widgets["boundaryPlot"]
    assert snap.units is None and axis_text(plot, "bottom") == "x₁" and axis_text(plot, "left") == "x₂"
    for side in ("bottom", "left"):
        for z, text in drawn_ticks(plot.getAxis(side)):
            assert float(text) == pytest.approx(z, abs=1e-9)   # standardised = the data set's own numbers


def test_a_regression_file_plots_its_feature_and_target_by_name(small_window, qtbot, tmp_path):
    w = small_window
    rng = np.random.default_rng(3)
    depth = rng.uniform(0.0, 4000.0, 150)
    (tmp_path / "sea.csv").write_text("depth_m,temperature_C\n" + "".join(
        f"{float(d)!r},{float(20.0 - d / 250.0 + rng.normal(0, 0.3))!r}\n" for d in depth))
    snap = rebuilt_after(w, qtbot, lambda: w.open_data(str(tmp_path / "sea.csv")))
    plot = w.dashboard.plot_widgets["boundaryPlot"]
    assert axis_text(plot, "bottom") == "depth_m" and axis_text(plot, "left") == "temperature_C"
    ticks = drawn_ticks(plot.getAxis("bottom"))
    assert min(float(t) for _, t in ticks) >= 0 and max(float(t) for _, t in ticks) <= 4000
    for z, text in ticks:
        assert float(text) == pytest.approx(snap.units.original(0, z), abs=1e-6)
    left = drawn_ticks(plot.getAxis("left"))   # the target is the file's own: no mapping
    assert all(float(t) == pytest.approx(z, abs=1e-9) for z, t in left)


def test_a_column_name_is_shown_as_text_not_markup(small_window, qtbot, tmp_path):
    w = small_window
    rows = "".join(f"{i * 0.5},{(i * 7) % 11},{i % 2}\n" for i in range(60))
    (tmp_path / "m.csv").write_text("<b>bold</b>,b & c,label\n" + rows)
    rebuilt_after(w, qtbot, lambda: w.open_data(str(tmp_path / "m.csv")))
    plot = w.dashboard.plot_widgets["boundaryPlot"]
    assert axis_text(plot, "bottom") == "&lt;b&gt;bold&lt;/b&gt;" and axis_text(plot, "left") == "b &amp; c"
    assert plot.getAxis("bottom").label.toPlainText().strip() == "<b>bold</b>"


def test_a_regression_map_colours_its_target_in_the_files_units(small_window, qtbot, tmp_path):
    """Two features and a target of thousands: the map's colour spans the targets (not a probability clipped to
    0..1, all one red), the points wear their own target's colour, and the legend says what the colour is."""
    from PySide6.QtWidgets import QLabel
    w = small_window
    rng = np.random.default_rng(5)
    area, rooms = rng.uniform(30.0, 200.0, 150), rng.integers(1, 6, 150).astype(float)
    price = 2000.0 * area + 10000.0 * rooms + rng.normal(0, 500.0, 150)
    (tmp_path / "flats.csv").write_text("area_m2,rooms,price\n" + "".join(
        f"{float(a)!r},{float(r)!r},{float(p)!r}\n" for a, r, p in zip(area, rooms, price)))
    snap = rebuilt_after(w, qtbot, lambda: w.open_data(str(tmp_path / "flats.csv")))
    w.step_epoch()
    qtbot.waitUntil(lambda: len(w.history) == 1, timeout=10000)
    w.dashboard.draw_shown(everything=True)
    panel_plot = w.dashboard.plot_widgets["boundaryPlot"]
    image = [i for i in panel_plot.getPlotItem().items if isinstance(i, pg.ImageItem)][0]
    y = snap.data[1]
    assert image.getLevels() == pytest.approx((y.min(), y.max()))
    shown = image.image
    assert shown.min() >= y.min() - 1e-6 and shown.max() <= y.max() + 1e-6
    assert "Colour: the predicted price, from " in w.findChild(QLabel, "boundaryLabel").text()
    scatter = [i for i in panel_plot.getPlotItem().items if isinstance(i, pg.ScatterPlotItem)][0]
    brushes = [p.brush().color().getRgb()[:3] for p in scatter.points()]
    order = np.argsort(y[:len(brushes)])
    cheap, dear = brushes[order[0]], brushes[order[-1]]
    assert cheap[2] > cheap[0] and dear[0] > dear[2]   # the cheapest blue, the dearest red, as on the map
