"""PNG and SVG of a widget, and a frame of it as an array: the one export module of the window, the phase diagram
and the recorder.

Every file goes through core's one write path, ``core.io.fileio.write_with``, which checks the result: a writer
that returns False, leaves an empty file or a PNG/SVG that does not end as the format must (pyqtgraph's and Qt's
writers can fail without raising) leaves the old file in place and raises OSError naming the path.
"""
from __future__ import annotations

import errno

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator

from core.io.fileio import write_with
from core.io.formats import PNG, SVG, Format


def png_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG in memory: a file written by libpng itself would print libpng's own line
    ("libpng error: Write Error") on a full disk; Python's write raises OSError instead, said once, by us."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError(errno.EIO, "the PNG encoder failed")
    buffer.close()
    return bytes(data)


def _write_bytes(tmp: str, data: bytes) -> None:
    with open(tmp, "wb") as fh:
        fh.write(data)


def plot_png(widget, tmp: str):
    """A pyqtgraph plot through pyqtgraph's ImageExporter (its PlotItem, at the widget's size)."""
    import pyqtgraph.exporters as exporters
    image = exporters.ImageExporter(widget.getPlotItem()).export(toBytes=True)
    if image is None or image.isNull():
        return False
    _write_bytes(tmp, png_bytes(image))


def widget_png(widget, tmp: str) -> bool:
    """Any widget as it is drawn on screen (a window, the phase diagram's plot with its axes)."""
    _write_bytes(tmp, png_bytes(widget.grab().toImage()))


def widget_svg(widget, tmp: str, title: str = "") -> bool:
    """pyqtgraph's SVGExporter fails on this Qt's path syntax (pyqtgraph #3485): Qt's own SVG generator renders
    the widget as vectors instead."""
    gen = QSvgGenerator()
    gen.setFileName(tmp)
    gen.setSize(widget.size())
    gen.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    gen.setTitle(title or _title(widget))
    painter = QPainter(gen)
    ok = painter.isActive()
    widget.render(painter)
    return painter.end() and ok


def _title(widget) -> str:
    return widget.getPlotItem().titleLabel.text if hasattr(widget, "getPlotItem") else widget.objectName()


def write_image(path: str, widget, fmt: Format, render=None, title: str = "") -> None:
    """``widget`` as PNG or SVG at ``path`` (``render(widget, tmp)``: how, else a plot's exporter or a grab for
    PNG, Qt's generator for SVG). Raises OSError (nothing written) or ValueError for another format."""
    if render is None:
        if fmt is SVG:
            def render(w, tmp):
                return widget_svg(w, tmp, title)
        elif fmt is PNG:
            render = plot_png if hasattr(widget, "getPlotItem") else widget_png
        else:
            raise ValueError(f"{fmt.ext} is not an image format")
    write_with(path, lambda tmp: render(widget, tmp))


def frame_of(widget) -> np.ndarray:
    """The widget as it is on screen now: an (height, width, 3) uint8 RGB array (the recorder's frames)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride).reshape(h, stride)
    return rows[:, :w * 3].reshape(h, w, 3).copy()  # rows are padded to 4 bytes: drop the padding
