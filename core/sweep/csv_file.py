"""The sweep's CSV file: appended to as rows arrive (flushed and fsynced), read back to resume a killed sweep,
rewritten in the grid's order at the end, and read back for pictures."""
from __future__ import annotations

import csv
import io
import math
import os

import numpy as np

from core.config import ConfigError, ExperimentConfig, parse_field
from core.io.fileio import shorten
from core.sweep.plan import METRICS, Axis, Plan, key_of


def csv_line(cells) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()

def _bounded_bytes(path: str, field: str) -> bytes:
    """The bytes of a sweep CSV: a regular file (a FIFO or /dev/zero is refused before reading) within the
    reader's size limit (core.io.reader); ConfigError naming ``field`` otherwise."""
    from core.io.reader import read_bytes
    return read_bytes(path, field)


def bad_metrics(row: list, n_swept: int) -> str | None:
    """What is wrong with a row's metric cells (a torn or edited file), or None: the losses, the accuracy and
    the gain are finite numbers or empty (no value), diverged 0 or 1, epoch_reached a whole number."""
    for name, text in zip(METRICS, row[n_swept:n_swept + len(METRICS)]):
        if name in ("diverged", "epoch_reached"):
            ok = text in ("0", "1") if name == "diverged" else text.isdigit() and len(text) < 10
        else:
            try:
                ok = text == "" or math.isfinite(float(text))
            except ValueError:
                ok = False
        if not ok:
            return f"{name} is {text[:40]!r}"
    return None


def read_existing(path: str, plan: Plan, dropped: list | None = None) -> tuple[dict, int | None]:
    """The rows already in ``path`` by cell, and the length of its complete lines (a torn last line from a
    killed sweep is not counted, so it can be cut off); ({}, None) when there is no such file yet. A row whose
    metrics are corrupted is left out, so its cell runs again; ``dropped`` collects (line, what is wrong)."""
    if not os.path.exists(path):  # nothing there yet (a link to nothing: the sweep writes through it)
        return {}, None
    data = _bounded_bytes(path, "out")
    complete = data.rfind(b"\n") + 1
    if complete == 0 and data and not csv_line(plan.header).encode().startswith(data):
        raise ConfigError("out", f"out: {path!r} is not a sweep CSV file: choose another --out")
    try:
        lines = list(csv.reader(io.StringIO(data[:complete].decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError("out", f"out: {path!r} is not a sweep CSV file ({e})") from None
    if not lines:
        return {}, 0
    header = plan.header
    if lines[0] != header:
        raise ConfigError("out", f"out: {path!r} has the columns {','.join(lines[0])}; this sweep writes "
                                 f"{','.join(header)}: choose another --out")
    rows, fixed, n = {}, plan.fixed_text(), len(plan.swept) + len(METRICS)
    for i, row in enumerate(lines[1:], start=2):
        if len(row) != len(header):
            raise ConfigError("out", f"out: line {i} of {path!r} has {len(row)} cells, the header {len(header)}")
        if row[n:] != fixed:
            f, old, new = next((f, a, b) for f, a, b in zip(plan.fixed, row[n:], fixed) if a != b)
            raise ConfigError("out", f"out: {path!r} was made with {f}={old}, this sweep has {f}={new}: "
                                     f"choose another --out")
        try:
            key = key_of(plan, row)
        except ConfigError as e:
            raise ConfigError("out", f"out: line {i} of {path!r}: {e}") from None
        problem = bad_metrics(row, len(plan.swept))
        if problem is None:
            rows[key] = row
        elif dropped is not None:
            dropped.append((i, problem))
    return rows, complete

class RowAppender:
    """Appends rows to the sweep's CSV: each batch written whole, flushed and fsynced before the next."""

    def __init__(self, path: str, header: list, complete: int | None):
        from core.io.records import write_atomically
        if complete is None or complete == 0:
            write_atomically(path, csv_line(header))
        elif os.path.getsize(path) != complete:
            os.truncate(path, complete)  # the torn last line of a killed sweep
        self._fh = open(path, "a", encoding="utf-8", newline="")
        os.fsync(self._fh.fileno())

    def append(self, rows: list) -> None:
        self._fh.write("".join(csv_line(r) for r in rows))
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

def sorted_csv(plan: Plan, rows: dict) -> str:
    """The whole file: the grid's cells in order, then any other cells the file held."""
    order = {v: i for i, v in enumerate(plan.cells())}
    keys = sorted(rows, key=lambda k: (0, order[k]) if k in order else (1, 0))
    return csv_line(plan.header) + "".join(csv_line(rows[k]) for k in keys)

def plan_from_csv(path: str, dropped: list | None = None) -> tuple[Plan, dict]:
    """The plan a sweep CSV was made with (its axes as the values present, sorted) and its rows by cell. The
    file is read bounded (see read_existing); a row cut short or with corrupted metrics is left out (``dropped``
    collects (line, what is wrong)), and a file with no whole row is refused."""
    data = _bounded_bytes(path, "file")
    try:
        text = data.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text[:text.rfind("\n") + 1])))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError("file", f"file: {path!r} is not a sweep CSV file ({shorten(e)})") from None
    header = lines[0] if lines else []
    if METRICS[0] not in header:
        raise ConfigError("file", f"file: {path!r} is not a sweep CSV file (no {METRICS[0]} column)")
    n = header.index(METRICS[0])
    swept, fixed = header[:n], header[n + len(METRICS):]
    body = []
    for i, row in enumerate(lines[1:], start=2):
        problem = (f"{len(row)} cells, the header {len(header)}" if len(row) != len(header)
                   else bad_metrics(row, n))
        if problem is None:
            body.append(row)
        elif dropped is not None:
            dropped.append((i, problem))
    if not body:
        raise ConfigError("file", f"file: {path!r} has no complete rows")
    first = dict(zip(fixed, body[0][n + len(METRICS):]))
    init_only = first.get("epochs") == "0"
    values = {f: parse_field(f, "1" if init_only and f == "epochs" else t) for f, t in first.items()}
    base = ExperimentConfig.from_dict({**values, **{f: parse_field(f, body[0][i]) for i, f in enumerate(swept)}})
    axes = []
    for i, f in enumerate(swept):
        found = {parse_field(f, r[i]) for r in body}
        axes.append(Axis(f, tuple(sorted(found, key=lambda v: (v is None, v)))))
    plan = Plan(base, tuple(axes), init_only)
    return plan, {key_of(plan, r): r for r in body}

def metric_grid(plan: Plan, rows: dict, metric: str) -> np.ndarray:
    """A two-axis sweep's metric as a row-major float32 array: [j, i] is the cell (x_i, y_j); NaN where no value."""
    x, y = plan.axes
    xi = {v: i for i, v in enumerate(x.values)}
    yi = {v: j for j, v in enumerate(y.values)}
    col = plan.header.index(metric)
    grid = np.full((len(y.values), len(x.values)), np.nan, dtype=np.float32)
    for key, row in rows.items():
        if key[0] in xi and key[1] in yi and row[col] != "":
            grid[yi[key[1]], xi[key[0]]] = float(row[col])
    return grid
