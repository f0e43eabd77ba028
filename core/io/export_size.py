"""How large an exported picture is: a scale of the on-screen size, or a DPI (``--export-scale``, ``--export-dpi``,
File > Export plot…). Pure: the window's exporters (gui/files/export.py) draw at the scale this module allows.

A scale of s draws every on-screen pixel as s x s pixels (text and lines redrawn, not enlarged); a DPI of d is the
scale d / SCREEN_DPI, so the picture prints at its on-screen size. The PNG records the DPI (its pHYs chunk).

    scale = export_scale(scale=None, dpi=300)   # 3.125
    check_pixels(350, 317, scale)              # ValueError when the picture would be too large
"""
from __future__ import annotations

import math

from core.config import ConfigError, shown

SCREEN_DPI = 96.0                  # what one on-screen pixel is taken to be (Qt's logical DPI)
PLOT_SCALE = 2.0                   # a plot's export by default: twice the on-screen size (192 DPI)
WINDOW_SCALE = 1.0                 # the whole window (--screenshot, --record): as on screen unless asked
SCALE_RANGE = (0.25, 8.0)
DPI_RANGE = (SCREEN_DPI * SCALE_RANGE[0], SCREEN_DPI * SCALE_RANGE[1])   # 24 to 768
MAX_SIDE = 16384                   # pixels on a side: Qt's image writers and most viewers stop near here


def _number(field: str, value, low: float, high: float) -> float:
    """``value`` (a number or the command line's text) as a float in [low, high], else ConfigError naming it."""
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or isinstance(value, bool) or not low <= number <= high:
        raise ConfigError(field, f"{field} must be a number from {low:g} to {high:g}, got {shown(value)}")
    return number


def export_scale(scale=None, dpi=None, default: float = PLOT_SCALE) -> float:
    """The scale asked for: ``scale`` (× the on-screen size), else ``dpi`` / SCREEN_DPI, else ``default``."""
    if scale is not None and dpi is not None:
        raise ConfigError("export_scale", f"export_scale and export_dpi: give one of them, got scale {shown(scale)} "
                                          f"and dpi {shown(dpi)}")
    if dpi is not None:
        return _number("export_dpi", dpi, *DPI_RANGE) / SCREEN_DPI
    if scale is not None:
        return _number("export_scale", scale, *SCALE_RANGE)
    return default


def dpi_of(scale: float) -> float:
    """The DPI a picture drawn at ``scale`` prints at its on-screen size with (written to the PNG)."""
    return SCREEN_DPI * scale


def dots_per_metre(scale: float) -> int:
    """The PNG pHYs chunk's unit: pixels per metre."""
    return round(dpi_of(scale) / 0.0254)


def pixels(width: int, height: int, scale: float) -> tuple[int, int]:
    """The picture's size in pixels for an on-screen ``width`` x ``height`` at ``scale``."""
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_pixels(width: int, height: int, scale: float, field: str = "export_scale") -> tuple[int, int]:
    """``pixels(...)``, or ConfigError when a side would pass MAX_SIDE (naming the size and the largest scale)."""
    w, h = pixels(width, height, scale)
    if max(w, h) > MAX_SIDE:
        largest = MAX_SIDE / max(width, height)
        raise ConfigError(field, f"{field}: {width}x{height} at scale {scale:g} would be {w}x{h} pixels; at most "
                                 f"{MAX_SIDE} on a side (a scale up to {largest:.2f} here)")
    return w, h
