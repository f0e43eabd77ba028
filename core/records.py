"""Experiments and statistics on disk: experiment JSON, CSV, atomic writes.

An experiment file holds the config and, optionally, the recorded history:

    {"format": "gradient-flow-experiment", "version": 1, "config": {...},
     "data": {"path": ..., "sha256": ...},   (only for a data file: core.userdata checks it on opening)
     "history": {"epoch": [...], "train_loss": [...], ..., "layers": {"grad_norm": [[...], ...], ...}},
     "inside": {"version": 1, "quantiles": [...], "step": [...], "grad": [[[7 bands] per layer] per record], ...}}

"inside" (issue 12, written when the window has recorded distributions) holds the recorded epochs' records
of core.distributions (percentile bands of gradients, activations and pre-activations, activation std,
saturated share), 6 significant digits; opening a file ignores it (the replay records them again).

Non-finite numbers are written as null. Every file is written to a temporary file
beside its target and renamed over it, so a failed save never truncates a good file.
"""
from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import tempfile

import numpy as np

from .config import ConfigError, ExperimentConfig
from .distributions import QUANTILES
from .history import SCALARS, EpochHistory
from .statistics import LAYER_FIELDS, EpochStats

FORMAT = "gradient-flow-experiment"
VERSION = 1


def file_mode(path: str) -> int:
    """The mode a new file at ``path`` should get: the existing file's, else 0o666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_atomically(path: str, data, suffix: str = "") -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``; on any failure the old
    file is untouched and the error (OSError naming ``path``, or ValueError) is raised.

    ``data``: str or bytes to write, or an exporter ``write(tmp_path)`` that writes the temporary file
    itself (``suffix`` gives that file the extension the exporter expects). An exporter that returns
    False or leaves an empty file has failed even when it raised nothing."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(errno.ENOENT, f"folder {folder!r} does not exist", path)
    if os.path.isdir(path):
        raise OSError(errno.EISDIR, "is a folder", path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    try:
        if callable(data):
            os.close(fd)
            result = data(tmp)
            if result is False or os.path.getsize(tmp) == 0:
                raise ValueError(f"nothing was written to {path}: the exporter failed")
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, file_mode(path))  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):  # name the file the user asked for, not the temporary one
            raise OSError(e.errno, e.strerror or str(e), path) from None
        raise


def _clean(values) -> list:
    return [None if v is None or not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float).ravel()]


def history_to_dict(h: EpochHistory) -> dict:
    d = {k: _clean(h.scalar(k)) for k in SCALARS}
    d["epoch"] = [int(x) for x in h.scalar("epoch")]
    d["step"] = [int(x) for x in h.scalar("step")]
    d["layers"] = {k: [_clean(row) for row in h.layer(k)] for k in LAYER_FIELDS}
    return d


def history_from_dict(d, n_layers: int) -> EpochHistory:
    def bad(what):
        return ConfigError("history", f"history: {what}")
    if not isinstance(d, dict):
        raise bad(f"must be an object, got {type(d).__name__}")
    n = len(d.get("epoch", []))
    h = EpochHistory(n_layers)
    try:
        layers = d["layers"]
        for i in range(n):
            row = {k: d[k][i] for k in SCALARS}
            arrays = {}
            for k in LAYER_FIELDS:
                values = layers[k][i]
                if len(values) != n_layers:
                    raise bad(f"{k} of epoch {i + 1} has {len(values)} layers, the config has {n_layers}")
                arrays[k] = np.array([np.nan if v is None else v for v in values], dtype=float)
            num = lambda v: math.nan if v is None else float(v)
            h.append(EpochStats(**arrays, epoch=int(row["epoch"]), step=int(row["step"]),
                                train_loss=num(row["train_loss"]), val_loss=num(row["val_loss"]),
                                val_accuracy=None if row["val_accuracy"] is None else float(row["val_accuracy"])))
    except ConfigError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise bad(f"malformed ({type(e).__name__}: {e})") from None
    return h


INSIDE_VERSION = 1
INSIDE_FIELDS = ("grad", "act", "pre", "act_std", "saturation")


def inside_to_dict(view) -> dict:
    """The epoch records of a core.distributions.InsideView (and the latest epoch's last recorded step)."""
    def short(a):
        return [[None if not math.isfinite(v) else float(f"{v:.6g}") for v in row]
                for row in np.asarray(a, dtype=float).reshape(len(a), -1)] if np.ndim(a) > 1 else \
            [None if not math.isfinite(v) else float(f"{v:.6g}") for v in np.asarray(a, dtype=float)]
    n = len(view.epochs["step"])
    pick = {k: np.concatenate([view.epochs[k], view.steps[k][-1:]]) for k in INSIDE_FIELDS + ("step", "epoch")} \
        if len(view.steps["step"]) else {k: view.epochs[k] for k in INSIDE_FIELDS + ("step", "epoch")}
    lay = view.layout
    d = {"version": INSIDE_VERSION, "quantiles": [float(q) for q in QUANTILES], "samples": lay.samples,
         "saturation_rule": lay.saturation_rule, "pre_activation": lay.pre_label,
         "step": [int(v) for v in pick["step"]], "epoch": [int(v) for v in pick["epoch"]],
         "completed_epoch_records": n}
    for k in INSIDE_FIELDS:
        a = pick[k]
        d[k] = [short(r) for r in a]
    return d


def table_csv(header: list, rows: list) -> str:
    """A plot's table as CSV: non-finite numbers as empty cells."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if isinstance(v, float) and not math.isfinite(v) else v for v in row])
    return buf.getvalue()


def experiment_json(config: ExperimentConfig, history: EpochHistory | None = None,
                    data_source: dict | None = None, inside=None) -> str:
    doc = {"format": FORMAT, "version": VERSION, "config": config.to_dict()}
    if data_source is not None:
        doc["data"] = {"path": data_source["path"], "sha256": data_source["sha256"]}
    if history is not None:
        doc["history"] = history_to_dict(history)
    if inside is not None and len(inside):
        doc["inside"] = inside_to_dict(inside)
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def save_experiment(path: str, config: ExperimentConfig, history: EpochHistory | None = None,
                    data_source: dict | None = None, inside=None) -> None:
    write_atomically(path, experiment_json(config, history, data_source, inside))


def load_experiment(path: str) -> tuple[ExperimentConfig, EpochHistory | None]:
    """Read an experiment file, or a plain config file (a JSON object of config fields)."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as e:
        raise ConfigError("file", f"file: cannot read {path!r}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError("file", f"file: {path!r} is not valid JSON: {e}") from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        config = ExperimentConfig.from_dict(doc.get("config"))
        history = history_from_dict(doc["history"], config.n_weight_layers) if doc.get("history") else None
        return config, history
    return ExperimentConfig.from_dict(doc), None


def csv_header(n_layers: int) -> list[str]:
    return (["epoch", "step", "train_loss", "val_loss", "val_accuracy"]
            + [f"grad_norm_{i}" for i in range(1, n_layers + 1)]
            + [f"update_ratio_{i}" for i in range(1, n_layers + 1)])


def csv_row(stats: EpochStats, n_layers: int | None = None) -> list:
    """One epoch's row; with ``n_layers`` larger than the run's, the missing layers are empty cells."""
    def cell(v):
        return "" if v is None or not math.isfinite(v) else repr(float(v))
    pad = [""] * ((n_layers or stats.n_layers) - stats.n_layers)
    return ([stats.epoch, stats.step, cell(stats.train_loss), cell(stats.val_loss), cell(stats.val_accuracy)]
            + [cell(v) for v in stats.grad_norm] + pad + [cell(v) for v in stats.update_ratio] + pad)


def history_csv(history: EpochHistory) -> str:
    """One row per epoch; empty cells for non-finite values and for accuracy in regression."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(csv_header(history.n_layers))
    for stats in history:
        w.writerow(csv_row(stats))
    return buf.getvalue()
