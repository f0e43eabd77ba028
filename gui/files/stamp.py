"""The band under each frame of a recording that says when it was taken: "epoch 3 · step 12".

Drawn with Qt as a strip below the frame (nothing of the plot is covered), in dark text on white whatever the
theme, so a frame read back can be compared with a band drawn here with the text expected (tests/gui/test_stamp.py).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

BAND_PX = 24            # the band's height at scale 1 (even, as an MP4 encoder likes)
TEXT_PX = 14            # the text's height in pixels at scale 1
BAND_COLOUR, TEXT_COLOUR = "#ffffff", "#1a1a1a"   # 17:1 contrast


def stamp_text(epoch: int, step: int, diverged: bool = False) -> str:
    """What a frame says: the epochs and optimiser steps the window's status line shows when it was grabbed
    (a divergence ends its epoch: the epoch is counted, and the frame says it diverged)."""
    return f"epoch {epoch} · step {step}" + (" · diverged" if diverged else "")


def band_height(scale: float = 1.0) -> int:
    return 2 * max(1, round(BAND_PX * scale / 2))


def stamped(frame: np.ndarray, text: str, scale: float = 1.0) -> np.ndarray:
    """``frame`` ((h, w, 3) uint8) with a band below it reading ``text``: (h + band_height(scale), w, 3)."""
    h, w = frame.shape[:2]
    band = band_height(scale)
    out = np.empty((h + band, w, 3), dtype=np.uint8)
    out[:h] = frame
    out[h:] = _band(w, band, text, scale)
    return out


def _band(width: int, height: int, text: str, scale: float) -> np.ndarray:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(QColor(BAND_COLOUR))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    font = QFont()
    font.setPixelSize(max(6, round(TEXT_PX * scale)))
    painter.setFont(font)
    painter.setPen(QColor(TEXT_COLOUR))
    margin = round(6 * scale)
    painter.drawText(QRect(margin, 0, width - 2 * margin, height), Qt.AlignVCenter | Qt.AlignLeft, text)
    painter.end()
    stride = image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=height * stride).reshape(height, stride)
    return rows[:, :width * 3].reshape(height, width, 3)
