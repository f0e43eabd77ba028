"""The sweep's CSV file: appended to as rows arrive (flushed and fsynced), read back to resume a killed sweep,
rewritten in the grid's order at the end, and read back for pictures."""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from core.config import ConfigError, ExperimentConfig, parse_field
from core.sweep.plan import METRICS, Axis, Plan, key_of


def csv_line(cells) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()

def read_existing(path: str, plan: Plan) -> tuple[dict, int | None]:
    """The rows already in ``path`` by cell, and the length of its complete lines (a torn last line from a
    killed sweep is not counted, so it can be cut off); ({}, None) when there is no such file yet."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {}, None
    except OSError as e:
        raise ConfigError("out", f"out: cannot read {path!r}: {e.strerror or e}") from None
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
            rows[key_of(plan, row)] = row
        except ConfigError as e:
            raise ConfigError("out", f"out: line {i} of {path!r}: {e}") from None
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

def plan_from_csv(path: str) -> tuple[Plan, dict]:
    """The plan a sweep CSV was made with (its axes as the values present, sorted) and its rows by cell."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("file", f"file: cannot read {path!r}: {getattr(e, 'strerror', None) or e}") from None
    lines = list(csv.reader(io.StringIO(text[:text.rfind("\n") + 1])))
    header = lines[0] if lines else []
    if METRICS[0] not in header:
        raise ConfigError("file", f"file: {path!r} is not a sweep CSV file (no {METRICS[0]} column)")
    n = header.index(METRICS[0])
    swept, fixed = header[:n], header[n + len(METRICS):]
    if not lines[1:]:
        raise ConfigError("file", f"file: {path!r} has no rows")
    first = dict(zip(fixed, lines[1][n + len(METRICS):]))
    init_only = first.get("epochs") == "0"
    values = {f: parse_field(f, "1" if init_only and f == "epochs" else t) for f, t in first.items()}
    base = ExperimentConfig.from_dict({**values, **{f: parse_field(f, lines[1][i]) for i, f in enumerate(swept)}})
    axes = []
    for i, f in enumerate(swept):
        found = {parse_field(f, r[i]) for r in lines[1:]}
        axes.append(Axis(f, tuple(sorted(found, key=lambda v: (v is None, v)))))
    plan = Plan(base, tuple(axes), init_only)
    return plan, {key_of(plan, r): r for r in lines[1:] if len(r) == len(header)}

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
