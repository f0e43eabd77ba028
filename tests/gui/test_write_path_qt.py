"""Qt's own writers through the one write path, on a real full disk: each failure is caught, the old file
stays. (Qt reports success for a PNG or SVG cut short; core.io.fileio.write_with checks how the file ends.)"""
import os

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as exporters
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from core.io.fileio import write_with
from tests.mounts import small_disk  # noqa: F401  (fixture)


def make_plot(qtbot, size):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    w.resize(*size)  # a file that fits the 64 KiB disk twice (old file and temporary), larger than 8 KiB
    for i in range(3):
        w.plot(np.random.default_rng(i).standard_normal(100))
    w.show()
    qtbot.waitExposed(w)
    return w


def svg_of(widget):
    def write(tmp):
        gen = QSvgGenerator()
        gen.setFileName(tmp)
        gen.setSize(widget.size())
        gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
        painter = QPainter(gen)
        widget.render(painter)
        return painter.end()
    return write


WRITERS = {
    "ImageExporter": (".png", (240, 180), lambda w: exporters.ImageExporter(w.getPlotItem()).export),
    "grab().save": (".png", (640, 480), lambda w: (lambda tmp: w.grab().save(tmp, "PNG"))),
    "QSvgGenerator": (".svg", (240, 180), svg_of),
}


def fill(disk, leave: int) -> None:
    st = os.statvfs(disk)
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * (st.f_bavail * st.f_frsize - leave))


@pytest.mark.parametrize("name", WRITERS)
def test_qt_writers_on_a_full_disk_keep_the_old_file(qtbot, small_disk, name):
    ext, size, make = WRITERS[name]
    plot = make_plot(qtbot, size)
    writer = make(plot)
    target = small_disk / f"plot{ext}"
    write_with(str(target), writer)  # fits while the disk has room
    good = target.read_bytes()
    if ext == ".png":
        assert not QImage(str(target)).isNull()
    assert 8192 < len(good) < 28_000, len(good)
    for leave in (0, 4096, 8192):  # no room, room for part of the file (tmpfs allocates 4 KiB pages)
        fill(small_disk, leave)
        with pytest.raises(OSError) as info:
            write_with(str(target), writer)
        assert info.value.filename == str(target), info.value
        assert target.read_bytes() == good
        assert sorted(os.listdir(small_disk)) == sorted(["filler", target.name])
        os.unlink(small_disk / "filler")
