"""gui/files/export.py, the one PNG/SVG writer: what it writes reads back as the widget, and a writer that fails
quietly (as pyqtgraph's can, #3485) leaves the old file and raises."""
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PIL import Image

from core.io.formats import PNG, SVG
from gui.files.export import frame_of, write_image


@pytest.fixture
def plot(qtbot):
    w = pg.PlotWidget()
    w.setTitle("a plot")
    w.plot([0, 1, 2], [1, 3, 2])
    w.resize(300, 200)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_png_reads_back_at_the_widgets_size(plot, tmp_path):
    path = tmp_path / "p.png"
    write_image(str(path), plot, PNG)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (plot.width(), plot.height())
        assert np.asarray(im.convert("L")).std() > 0   # something is drawn, not a blank image


def test_svg_reads_back_as_a_drawing_of_the_widget(plot, tmp_path):
    path = tmp_path / "p.svg"
    write_image(str(path), plot, SVG)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == f"0 0 {plot.width()} {plot.height()}"
    assert any(e.tag.endswith("title") and e.text == "a plot" for e in root.iter())


def test_the_frame_is_the_widget_as_on_screen(plot, tmp_path):
    frame = frame_of(plot)
    assert frame.shape == (plot.height(), plot.width(), 3) and frame.dtype == np.uint8
    path = tmp_path / "g.png"
    write_image(str(path), plot, PNG, lambda w, tmp: w.grab().save(tmp, "PNG"))
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), frame)


def test_a_writer_that_fails_quietly_leaves_the_old_file(plot, tmp_path):
    path = tmp_path / "p.png"
    path.write_bytes(b"old")
    def cut_short(w, tmp):   # reports success, as Qt's writers do on a full disk
        with open(tmp, "wb") as fh:
            fh.write(b"\x89PNG cut short")

    for quiet_failure in (lambda w, tmp: False, cut_short):
        with pytest.raises(OSError):
            write_image(str(path), plot, PNG, quiet_failure)
        assert path.read_bytes() == b"old"
