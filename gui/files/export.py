"""PNG and SVG of a widget, and a frame of it as an array: the one export module of the window, the phase diagram
and the recorder. A PNG is drawn at a scale of the on-screen size (core.io.export_size checks it) and records its
DPI.

Every file goes through core's one write path, ``core.io.fileio.write_with``, which checks the result: a writer
that returns False, leaves an empty file or a PNG/SVG that does not end as the format must (pyqtgraph's and Qt's
writers can fail without raising) leaves the old file in place and raises OSError naming the path.
"""
from __future__ import annotations

import contextlib
import errno

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QEvent, QIODevice, QRect, Qt
from PySide6.QtGui import QImage, QPainter, QPen
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QStackedWidget, QTabWidget, QWidget

from core.io.export_size import check_pixels, dots_per_metre
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


def scaled_image(widget, scale: float = 1.0) -> QImage:
    """``widget`` drawn at ``scale`` times its on-screen size: Qt paints it again at that device-pixel ratio, so
    text and lines are redrawn sharp, not enlarged; the image records the DPI (a PNG's pHYs chunk). A size over
    export_size.MAX_SIDE is refused (ConfigError) before anything is drawn."""
    laid_out(widget)
    w, h = check_pixels(widget.width(), widget.height(), scale)
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    image.fill(widget.palette().window().color())
    with redrawn_at(widget, scale):
        QWidget.render(widget, image)   # QGraphicsView.render (a plot's) draws only the scene: the widget's own
    image.setDevicePixelRatio(1.0)  # a PNG reader sees pixels; the DPI says how large they print
    image.setDotsPerMeterX(dots_per_metre(scale))
    image.setDotsPerMeterY(dots_per_metre(scale))
    return image


@contextlib.contextmanager
def redrawn_at(widget, scale: float):
    """Prepare the widget's plots for a picture ``scale`` times larger, and put them back after: items Qt keeps
    as a pixmap at screen resolution (the axes with grid lines: plotting.cache_axes) are drawn afresh, not
    enlarged and blurred; curves and reference lines, drawn with pens a fixed number of device pixels wide
    (cosmetic), get pens ``scale`` times wider, so they keep their weight beside the larger text."""
    views = ([widget] if isinstance(widget, QGraphicsView) else []) + widget.findChildren(QGraphicsView)
    items = [item for view in views if view.scene() is not None for item in view.scene().items()]
    cached = [(item, item.cacheMode()) for item in items if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    pens = [(item, pen, _given_pen(item)) for item in items for pen in [_line_pen(item)] if pen is not None]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    for item, pen, _ in pens:
        wider = QPen(pen)
        wider.setWidthF(max(pen.widthF(), 1.0) * scale)
        item.setPen(wider)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)
        for item, _, given in pens:
            item.setPen(given)   # as the plot set it (a PlotDataItem keeps what it was given)


def _given_pen(item):
    return item.pen if isinstance(item, pg.InfiniteLine) else item.opts.get("pen")


def _line_pen(item) -> QPen | None:
    """The cosmetic pen of a curve (a PlotDataItem's: its legend sample follows) or a reference line, which a
    larger picture would draw too thin; else None."""
    if isinstance(item, pg.PlotDataItem) or (isinstance(item, pg.PlotCurveItem)
                                             and not isinstance(item.parentItem(), pg.PlotDataItem)):
        pen = item.opts.get("pen")
        pen = None if pen is None else pg.mkPen(pen)
    else:
        pen = item.pen if isinstance(item, pg.InfiniteLine) else None
    return QPen(pen) if isinstance(pen, QPen) and pen.isCosmetic() and pen.style() != Qt.NoPen else None


@contextlib.contextmanager
def in_sight(widget):
    """For the time of an export, the pages and tabs that hide ``widget`` are brought to the front (the window not
    repainted meanwhile) and put back after: a plot on a page never shown was never laid out, and exported at
    Qt's default 640 x 480 (an Inside-page plot that measures 559 x 312 in front), or at a size it never had."""
    switched, child = [], widget
    while child.parentWidget() is not None:
        stack = child.parentWidget()
        if isinstance(stack, QStackedWidget) and stack.currentWidget() is not child:
            tabs = stack.parentWidget()
            switcher = tabs if isinstance(tabs, QTabWidget) and tabs.indexOf(child) >= 0 else stack
            switched.append((switcher, switcher.currentIndex()))
            switcher.setCurrentIndex(switcher.indexOf(child))
        child = stack
    window = widget.window()
    updates = window.updatesEnabled()
    if switched:
        window.setUpdatesEnabled(False)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)   # the layouts of what came to the front
    try:
        yield
    finally:
        for switcher, index in reversed(switched):
            switcher.setCurrentIndex(index)
        if switched:
            window.setUpdatesEnabled(updates)


def laid_out(widget) -> None:
    """A window never shown lays out its widgets when it is first drawn (as a test's window, or a screenshot's
    before it shows): draw it once at its size, so the size read next is the size drawn."""
    if not widget.window().isVisible():
        widget.grab()


def plot_png(widget, tmp: str, scale: float = 1.0):
    """A plot (or any widget) as PNG at ``scale`` times its on-screen size."""
    image = scaled_image(widget, scale)
    if image.isNull():
        return False
    _write_bytes(tmp, png_bytes(image))


def widget_png(widget, tmp: str, scale: float = 1.0) -> bool:
    """Any widget as it is drawn on screen (a window, the phase diagram's plot with its axes); at ``scale`` 1
    exactly the pixels on screen."""
    image = widget.grab().toImage() if scale == 1.0 else scaled_image(widget, scale)
    _write_bytes(tmp, png_bytes(image))


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


def write_image(path: str, widget, fmt: Format, render=None, title: str = "", scale: float = 1.0) -> None:
    """``widget`` as PNG or SVG at ``path`` (``render(widget, tmp)``: how, else the widget drawn at ``scale`` for
    PNG, Qt's generator for SVG). Raises OSError (nothing written) or ValueError for another format."""
    if render is None:
        if fmt is SVG:
            def render(w, tmp):
                return widget_svg(w, tmp, title)
        elif fmt is PNG:
            def render(w, tmp):
                return plot_png(w, tmp, scale)
        else:
            raise ValueError(f"{fmt.ext} is not an image format")
    write_with(path, lambda tmp: render(widget, tmp))


def frame_of(widget, scale: float = 1.0) -> np.ndarray:
    """The widget as it is on screen now: an (height, width, 3) uint8 RGB array (the recorder's frames); at
    ``scale`` other than 1, drawn again at that size (scaled_image)."""
    image = widget.grab().toImage() if scale == 1.0 else scaled_image(widget, scale)
    return rgb_array(image)


def rgb_array(image: QImage) -> np.ndarray:
    """A QImage as an (height, width, 3) uint8 RGB array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride).reshape(h, stride)
    return rows[:, :w * 3].reshape(h, w, 3).copy()  # rows are padded to 4 bytes: drop the padding
