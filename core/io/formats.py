"""The file formats, by extension, and which of them each input or output takes: one table that the command line,
the window's file dialogs, the recorder and the phase diagram read.

A ``Format`` is an extension with its description (a file dialog's filter) and how a complete file of it ends
(Qt's image writers can report success on a file cut short). A ``FileRole`` is one thing the program reads or
writes (``--out``, ``--record``, File > Export plot ...): the formats it takes, the one it uses for any other name
(``fallback``) or else the one-line refusal naming the field. Writers and readers that are pure Python live
here (statistics as CSV or JSON lines, experiments as JSON, animations as GIF or MP4); PNG and SVG are drawn by
Qt, in gui/files/export.py.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass

import numpy as np

from core.io.fileio import shorten


@dataclass(frozen=True)
class Format:
    ext: str
    description: str
    ending: bytes | None = None   # how a complete file ends, where the format says

    @property
    def filter(self) -> str:
        """The file dialog's filter, e.g. ``PNG image (*.png)``."""
        return f"{self.description} (*{self.ext})"


CSV = Format(".csv", "CSV")
JSONL = Format(".jsonl", "JSON lines")
JSON = Format(".json", "JSON")
PNG = Format(".png", "PNG image", b"IEND\xaeB`\x82")
SVG = Format(".svg", "SVG drawing", b"</svg>")
GIF = Format(".gif", "GIF animation")
MP4 = Format(".mp4", "MP4 video")
FORMATS: dict[str, Format] = {f.ext: f for f in (CSV, JSONL, JSON, PNG, SVG, GIF, MP4)}


def extension(path: str) -> str:
    """The name's extension, lower case, with its dot ('' when there is none)."""
    return os.path.splitext(str(path))[1].lower()


class FormatError(ValueError):
    """A file name whose extension the role does not take; the message names the field and what is allowed."""


def _either(exts) -> str:
    return exts[0] if len(exts) == 1 else f"{', '.join(exts[:-1])} or {exts[-1]}"


@dataclass(frozen=True)
class FileRole:
    field: str
    formats: tuple[Format, ...]
    fallback: Format | None = None   # any other name is written in this format; None: refused

    @property
    def default(self) -> Format:
        """The format a name without an extension gets (the file dialogs add its suffix)."""
        return self.formats[0]

    def choose(self, path: str) -> Format:
        """The format for ``path`` by its extension; FormatError when the role does not take it."""
        fmt = next((f for f in self.formats if f.ext == extension(path)), self.fallback)
        if fmt is None:
            raise FormatError(f"{self.field}: the file name must end in {_either([f.ext for f in self.formats])}, "
                              f"got {shorten(repr(path))}")
        return fmt

    def filters(self, any_file: bool = False) -> str:
        """The file dialog's filters, one per format (``any_file``: and All files, for opening)."""
        return ";;".join([f.filter for f in self.formats] + (["All files (*)"] if any_file else []))


OUT = FileRole("out", (JSONL, CSV), fallback=JSONL)            # --out: statistics, one record per epoch
SWEEP_OUT = FileRole("out", (CSV,), fallback=CSV)              # --sweep ... --out: one row per cell
CONFIG = FileRole("save_config", (JSON,), fallback=JSON)       # --save-config, --config, Save/Open experiment
DATA = FileRole("data", (CSV,), fallback=CSV)                  # --data, Open data
SCREENSHOT = FileRole("screenshot", (PNG,))                    # --screenshot, Save screenshot
RECORD = FileRole("record", (GIF, MP4))                        # --record, File > Record
PLOT = FileRole("export", (PNG, SVG), fallback=PNG)            # File > Export plot
TABLE_PLOT = FileRole("export", (PNG, SVG, CSV), fallback=PNG)  # the inside views (issue 12)
PHASE = FileRole("export", (PNG, SVG, CSV))                    # the phase diagram's Export buttons
STATS_CSV = FileRole("export", (CSV,), fallback=CSV)           # File > Export statistics as CSV
PLOT_SCREENSHOT = FileRole("screenshot", (PNG, SVG))           # --screenshot with --export-plot (issue 21)


def ending(path: str) -> bytes | None:
    """How a complete file of ``path``'s format ends, when the format says."""
    fmt = FORMATS.get(extension(path))
    return fmt.ending if fmt is not None else None


# -- statistics: one record per epoch ------------------------------------------------------------
def record_line(stats, run: str | None = None) -> str:
    """One epoch as a JSON line; with ``run``, the record starts with its run's name."""
    record = stats.to_record() if run is None else {"run": run, **stats.to_record()}
    return json.dumps(record, allow_nan=False, separators=(", ", ": "))


def write_statistics(history, fmt: Format) -> str:
    """A whole EpochHistory in ``fmt`` (CSV: one row per epoch; JSON lines: one record per epoch)."""
    from core.io.records import history_csv
    if fmt is CSV:
        return history_csv(history)
    return "".join(record_line(s) + "\n" for s in history)


def read_statistics(text: str, fmt: Format) -> list[dict]:
    """The records of a statistics file: CSV rows as {column: float or None}, JSON lines as their objects."""
    if fmt is CSV:
        return [{k: (float(v) if v != "" else None) for k, v in row.items()} for row in csv.DictReader(io.StringIO(text))]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- animations ------------------------------------------------------------------------------------
def write_animation(frames: list, fmt: Format, frame_ms: int) -> bytes:
    """(height, width, 3) uint8 frames as a looping GIF (Pillow) or an MP4 (imageio-ffmpeg)."""
    if fmt is MP4:
        import imageio.v3 as iio
        # the encoder wants sides divisible by 16 and would stretch the picture to get them:
        # repeat the edge pixels instead, so the plots keep their proportions
        h, w = frames[0].shape[:2]
        pad = ((0, -h % 16), (0, -w % 16), (0, 0))
        return iio.imwrite("<bytes>", np.stack([np.pad(f, pad, mode="edge") for f in frames]),
                           extension=".mp4", fps=1000.0 / frame_ms)
    from PIL import Image
    images = [Image.fromarray(f).quantize(colors=255, method=Image.Quantize.MEDIANCUT) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=frame_ms, loop=0,
                   optimize=True)
    return buf.getvalue()


def read_animation(data: bytes) -> list:
    """A GIF's frames as (height, width, 3) uint8 arrays."""
    from PIL import Image, ImageSequence
    with Image.open(io.BytesIO(data)) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
