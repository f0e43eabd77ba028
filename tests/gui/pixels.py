"""Reading what a plot drew, on its rendered pixels: where its texts are, and their contrast with what is under them.

A text's contrast is WCAG's, between the background of the text's rectangle (its most common colour) and the
pixel there that stands out from it most: the core of an antialiased glyph has the text's full colour, so black
text on a black colour bar measures 1:1, grey on white its grey.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsTextItem


def rendered(widget) -> np.ndarray:
    """(height, width, 3) uint8 RGB of ``widget`` as drawn now."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    return np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride).reshape(h, stride)[:, :w * 3] \
        .reshape(h, w, 3).copy()


def luminance(rgb: np.ndarray) -> np.ndarray:
    c = np.asarray(rgb, dtype=float) / 255.0
    lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast_in(pixels: np.ndarray) -> float:
    """WCAG contrast of the most distinct pixel in ``pixels`` (h, w, 3) against their most common colour."""
    flat = pixels.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = luminance(colours[np.argmax(counts)])
    lum = luminance(colours)
    hi, lo = np.maximum(lum, background), np.minimum(lum, background)
    return float(((hi + 0.05) / (lo + 0.05)).max())


def text_rects(plot: pg.PlotWidget) -> list[tuple[str, QRectF]]:
    """(text, rectangle in the widget's pixels) of every text the plot shows: tick labels of every axis (the colour
    bars' too), axis labels, titles, legend rows and text items."""
    found = []
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        for item in plot.scene().items():
            if not item.isVisible():
                continue
            if isinstance(item, pg.AxisItem) and item.style["showValues"]:
                specs = item.generateDrawSpecs(painter)
                for rect, _, text in (specs[2] if specs else []):
                    if text.strip():
                        found.append((text, item.mapRectToScene(rect)))
            elif isinstance(item, QGraphicsTextItem) and item.toPlainText().strip():
                # inside its document margin (4 px): a filled text item's box edge, or what lies beside, is not it
                found.append((item.toPlainText(), item.sceneBoundingRect().adjusted(2, 2, -2, -2)))
    finally:
        painter.end()
    out = []
    for text, rect in found:
        r = plot.mapFromScene(rect).boundingRect().intersected(plot.rect())
        if r.width() >= 3 and r.height() >= 3:
            out.append((text, r))
    return out


def low_contrast_texts(plot: pg.PlotWidget, least: float = 4.5) -> list[tuple[str, str, float]]:
    """(plot, text, contrast) of each text of ``plot`` drawn at less than ``least``:1, read from its pixels."""
    pixels = rendered(plot)
    bad = []
    for text, r in text_rects(plot):
        c = contrast_in(pixels[r.top():r.bottom() + 1, r.left():r.right() + 1])
        if c < least:
            bad.append((plot.objectName(), text, round(c, 2)))
    return bad
