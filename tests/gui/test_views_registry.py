"""The view registry (gui/panels/views.py) drives the dashboard, the File > Export plot menu, the recorder and the
command line's --record-plot help: checked against the table itself, and with a row added to it."""
import subprocess
import sys
from pathlib import Path

import pyqtgraph as pg
import pytest
from PIL import Image

from gui.files.recorder import check_target
from gui.panels import views
from gui.panels.panel import Panel
from tests.gui.conftest import SMALL, SMALL_RNN, epochs_stepped, rebuilt_with_config

ROOT = Path(__file__).resolve().parents[2]


def export_menu(w):
    file_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&File")
    return next(a.menu() for a in file_menu.actions() if a.menu() is not None and a.text() == "Export &plot")


def test_the_table_has_one_row_per_name_and_object_name():
    assert len(set(views.NAMES)) == len(views.VIEWS) == len({v.object_name for v in views.VIEWS})
    assert views.names() == views.NAMES and all(views.by_name(v.name) is v for v in views.VIEWS)
    assert {"gradients", "loss", "heatmap", "updates", "boundary"} <= set(views.NAMES)   # the flag's old names


def test_the_registry_imports_without_qt():
    code = ("import sys, gui.panels.views as v; assert not [m for m in sys.modules if m.startswith('PySide6')]; "
            "print(len(v.VIEWS))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == len(views.VIEWS)


def test_every_view_is_a_widget_of_the_window_by_its_object_name(window):
    for v in views.VIEWS:
        widget = getattr(window, v.object_name)
        assert widget.objectName() == v.object_name and window.findChild(type(widget), v.object_name) is widget
        assert window.dashboard.plot_widgets[v.object_name] is widget


def test_the_export_menu_lists_the_registry(window):
    texts = [a.text() for a in export_menu(window).actions()]
    assert texts == [f"{v.label}…" for v in views.VIEWS]


def test_the_help_of_record_plot_lists_the_registry():
    r = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    text = "".join(r.stdout.split())   # argparse wraps the list anywhere, even after a hyphen
    assert f"onlythisplot({','.join(views.NAMES)})" in text


def test_the_recorder_takes_every_name_and_refuses_others(tmp_path):
    gif = str(tmp_path / "a.gif")
    for name in views.NAMES:
        assert check_target(gif, name, None) is None, name
    assert check_target(gif, "bars", None) == f"record_plot must be one of {', '.join(views.NAMES)}, got 'bars'"
    assert check_target(gif, "time-gradients", None, "mlp") == \
        "record_plot: time-gradients is shown for rnn, lstm, gru, transformer only, got model 'mlp'"
    assert check_target(gif, "time-gradients", None, "lstm") is None


class ExtraPanel(Panel):
    """A view added in a test: a plot of its own."""

    def __init__(self):
        self.plot = type("Plot", (), {})()
        self.plot.widget = self.widget = pg.PlotWidget()
        self.widget.setObjectName("extraPlot")


def make_extra(dashboard):
    return ExtraPanel()


def test_a_row_added_to_the_table_is_built_listed_and_recordable(monkeypatch, qtbot, tmp_path):
    extra = views.View("extra", "Extra plot", "extraPlot", "gradients/bottom", views.ALL,
                       "tests.gui.test_views_registry:make_extra")
    monkeypatch.setattr(views, "VIEWS", views.VIEWS + (extra,))
    from gui.app.main_window import MainWindow
    w = MainWindow()
    qtbot.addWidget(w)
    try:
        qtbot.waitUntil(lambda: w.last_snapshot is not None, timeout=5000)
        assert w.extraPlot.objectName() == "extraPlot" and w.bottomSplitter.indexOf(w.extraPlot) == 2
        assert [a.text() for a in export_menu(w).actions()][-1] == "Extra plot…"
        assert check_target(str(tmp_path / "a.gif"), "extra", None, "mlp") is None
        assert w.export_plot("extra", str(tmp_path / "extra.png"))
    finally:
        assert w.shutdown()


def _exported_size(w, name, path):
    assert w.export_plot(name, str(path)), w.messageLabel.text()
    assert path.stat().st_size > 0
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


@pytest.mark.parametrize("model", ["mlp", "rnn"])
def test_every_view_exports_a_png_the_size_of_its_widget(window, qtbot, tmp_path, model):
    w = window
    w.show()   # laid out as a user sees it
    qtbot.waitExposed(w)
    rebuilt_with_config(w, qtbot, SMALL if model == "mlp" else SMALL_RNN)
    epochs_stepped(w, qtbot, 1)
    shown = [v for v in views.VIEWS if v.supports(model) and (model == "mlp" or v.kinds != views.ALL)]
    assert shown
    for v in shown:
        widget = w.dashboard.plot_widgets[v.object_name]
        size = _exported_size(w, v.name, tmp_path / f"{v.name}.png")
        assert size == (2 * widget.width(), 2 * widget.height()), v.name   # issue 21: twice the screen
