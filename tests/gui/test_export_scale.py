"""File > Export plot at a chosen size: twice the on-screen size by default, the DPI in the PNG's pHYs chunk,
text redrawn at the larger size (not enlarged pixels), and the dialog's choices reach the file."""
import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QInputDialog

import gui.files.actions
from gui.files.actions import export_choices


def epochs(qtbot, w, n):
    for _ in range(n):
        k = len(w.history)
        w.step_epoch()
        qtbot.waitUntil(lambda: len(w.history) == k + 1, timeout=5000)


def read_png(path):
    with Image.open(path) as im:
        return im.size, im.info.get("dpi"), np.asarray(im.convert("L"), dtype=float)


def test_an_exported_plot_is_twice_the_screen_by_default_and_3x_when_asked(small_window, qtbot, tmp_path):
    w = small_window
    epochs(qtbot, w, 2)
    widget = w.dashboard.plot_widgets["lossPlot"]
    assert w.export_plot("lossPlot", str(tmp_path / "default.png"))
    sw, sh = widget.width(), widget.height()   # as laid out when drawn
    assert f"({2 * sw}x{2 * sh} px, 192 DPI)" in w.messageLabel.text()
    assert w.export_plot("lossPlot", str(tmp_path / "three.png"), 3.0)
    assert w.export_plot("lossPlot", str(tmp_path / "one.png"), 1.0)
    (s2, dpi2, g2), (s3, dpi3, g3), (s1, dpi1, g1) = (read_png(tmp_path / f) for f in
                                                      ("default.png", "three.png", "one.png"))
    assert s1 == (sw, sh) and s2 == (2 * sw, 2 * sh) and s3 == (3 * sw, 3 * sh)
    assert dpi2 == pytest.approx((192, 192), abs=0.1) and dpi3 == pytest.approx((288, 288), abs=0.1)
    # redrawn, not enlarged: the 3x picture has more distinct edges than the 1x one blown up pixel by pixel
    blown_up = np.kron(g1, np.ones((3, 3)))
    assert blown_up.shape == g3.shape
    edges = lambda g: int((np.abs(np.diff(g, axis=1)) > 40).sum())
    assert edges(g3) != edges(blown_up) and np.abs(g3 - blown_up).mean() > 1.0
    # and it is the same picture: shrunk back, it is close to the 1x one
    shrunk = g3.reshape(sh, 3, sw, 3).mean(axis=(1, 3))
    assert np.abs(shrunk - g1).mean() < 25


def test_a_dpi_for_print_reaches_the_file(small_window, qtbot, tmp_path):
    w = small_window
    assert w.export_plot("gradients", str(tmp_path / "print.png"), 300 / 96)
    widget = w.dashboard.plot_widgets["gradientPlot"]
    size, dpi, _ = read_png(tmp_path / "print.png")
    assert size == (round(widget.width() * 300 / 96), round(widget.height() * 300 / 96))
    assert dpi == pytest.approx((300, 300), abs=0.1)


def test_too_large_a_picture_is_refused_with_the_size_and_nothing_written(small_window, qtbot, tmp_path,
                                                                          monkeypatch):
    import core.io.export_size
    monkeypatch.setattr(core.io.export_size, "MAX_SIDE", 1000)   # a plot a few hundred pixels wide at scale 8
    w = small_window
    path = tmp_path / "huge.png"
    assert not w.export_plot("lossPlot", str(path), 8.0)
    widget = w.dashboard.plot_widgets["lossPlot"]
    says = f"export_scale: {widget.width()}x{widget.height()} at scale 8 would be {8 * widget.width()}x"
    assert says in w.messageLabel.text() and "at most 1000 on a side" in w.messageLabel.text()
    assert not path.exists()


def test_the_menu_asks_the_size_and_uses_the_choice(small_window, qtbot, monkeypatch, tmp_path):
    w = small_window
    widget = w.dashboard.plot_widgets["lossPlot"]
    choices = export_choices(widget.width(), widget.height())
    asked = {}

    def pick(parent, title, label, items, current, editable):
        asked.update(items=items, current=current)
        return items[2], True   # 3x the screen
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(pick))
    path = tmp_path / "menu.png"
    w.files.ask_export("loss", str(path))
    assert asked["items"][asked["current"]].endswith("the default") and "2x the screen" in asked["items"][1]
    assert list(choices.values()) == [1, 2, 3, 4, 300 / 96, 600 / 96]
    size, dpi, _ = read_png(path)
    assert size == (3 * widget.width(), 3 * widget.height()) and dpi == pytest.approx((288, 288), abs=0.1)
    # cancelled: nothing written; an SVG is not asked (it has no pixels)
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a: ("", False)))
    w.files.ask_export("loss", str(tmp_path / "cancelled.png"))
    assert not (tmp_path / "cancelled.png").exists()
    w.files.ask_export("loss", str(tmp_path / "vector.svg"))
    assert "<svg" in (tmp_path / "vector.svg").read_text()


def test_a_dark_window_exports_a_light_plot_at_the_larger_size(small_window, qtbot, tmp_path):
    w = small_window
    w.set_theme("dark")
    assert w.export_plot("lossPlot", str(tmp_path / "dark.png"))
    _, _, g = read_png(tmp_path / "dark.png")
    assert np.median(g) > 200   # a light background, as exports are drawn unless the theme is kept
    assert gui.files.actions.PLOT_SCALE == 2.0


def test_axes_kept_as_screen_pixmaps_are_redrawn_at_the_larger_size(small_window, qtbot, tmp_path):
    """The gradient bars' axes are cached as pixmaps at screen resolution (plotting.cache_axes): blown up they
    would be 3x3 blocks of one colour; redrawn, the tick labels' edges fall inside the blocks."""
    from PySide6.QtWidgets import QGraphicsItem
    w = small_window
    epochs(qtbot, w, 1)
    widget = w.dashboard.plot_widgets["gradientPlot"]
    assert w.export_plot("gradients", str(tmp_path / "bars.png"), 3.0)
    _, _, g = read_png(tmp_path / "bars.png")
    strip = g[: g.shape[0] // 3 * 3, : g.shape[1] // 6 // 3 * 3]   # the left axis: tick labels and its title
    blocks = strip.reshape(strip.shape[0] // 3, 3, strip.shape[1] // 3, 3).transpose(0, 2, 1, 3).reshape(
        -1, 9)
    inked = blocks.min(axis=1) < 200
    uneven = blocks.max(axis=1) - blocks.min(axis=1) > 30
    assert inked.sum() > 50 and (uneven & inked).sum() > 0.5 * inked.sum()
    cached = [a["item"] for a in widget.getPlotItem().axes.values()
              if a["item"].cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache]
    assert cached   # and the cache is back for the screen


def test_curves_keep_their_weight_at_3x_and_the_window_keeps_its_pens(small_window, qtbot, tmp_path):
    """A curve's pen is a fixed number of device pixels (cosmetic): at 3x its length triples, and so must its
    width, else a slide shows hairlines. The pixels of the curves' colours grow ~9x, not ~3x."""
    import pyqtgraph as pg
    w = small_window
    epochs(qtbot, w, 3)
    widget = w.dashboard.plot_widgets["lossPlot"]
    curves = [i for i in widget.getPlotItem().items if isinstance(i, pg.PlotDataItem) and i.opts.get("pen")]
    before = [pg.mkPen(c.opts["pen"]) for c in curves]
    for scale in (1.0, 3.0):
        assert w.export_plot("lossPlot", str(tmp_path / f"{scale:g}.png"), scale)
    assert [pg.mkPen(c.opts["pen"]) for c in curves] == before   # the window's own pens are back
    colour = np.array(before[0].color().getRgb()[:3], dtype=float)   # the first curve's colour
    counts = []
    for scale in (1, 3):
        with Image.open(tmp_path / f"{scale}.png") as im:
            rgb = np.asarray(im.convert("RGB"), dtype=float)
        counts.append(int((np.abs(rgb - colour).max(axis=2) < 40).sum()))
    assert counts[0] > 20 and counts[1] > 6 * counts[0], counts


def test_a_plot_behind_another_page_or_tab_is_exported_as_it_is_drawn_in_front(small_window, qtbot, tmp_path):
    """A plot on the Inside page (the Gradients page in front) or on a lesson tab behind another was never laid
    out: it was exported at Qt's default 640 x 480. It is exported at the size it has in front, and the page and
    tab in front stay as they were."""
    from PySide6.QtGui import QImage
    w = small_window
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    d = w.dashboard
    d.pages.setCurrentIndex(0)
    d.lessonTabs.setCurrentWidget(d.boundary.widget)
    sizes = {}
    for name in ("distributions", "jacobian"):
        assert w.export_plot(name, str(tmp_path / f"{name}.png"), 1.0)
        image = QImage(str(tmp_path / f"{name}.png"))
        sizes[name] = (image.width(), image.height())
        assert (d.pages.currentIndex(), d.lessonTabs.currentWidget()) == (0, d.boundary.widget)
    from gui.panels import views
    plot = {name: d.plot_widgets[views.by_name(name).object_name] for name in sizes}
    d.pages.setCurrentIndex(1)
    qtbot.waitUntil(lambda: plot["distributions"].isVisible())
    assert sizes["distributions"] == plot["distributions"].size().toTuple() != (640, 480)
    d.pages.setCurrentIndex(0)
    d.lessonTabs.setCurrentWidget(d.jacobian.widget)
    qtbot.waitUntil(lambda: plot["jacobian"].isVisible())
    assert sizes["jacobian"] == plot["jacobian"].size().toTuple() != (640, 480)
