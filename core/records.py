"""Experiments and statistics on disk: experiment JSON, CSV, atomic writes.

An experiment file holds the config and, optionally, the recorded history:

    {"format": "gradient-flow-experiment", "version": 1, "config": {...},
     "history": {"epoch": [...], "train_loss": [...], ..., "layers": {"grad_norm": [[...], ...], ...}}}

Non-finite numbers are written as null. Every file is written to a temporary file
beside its target and renamed over it, so a failed save never truncates a good file.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile

import numpy as np

from .config import ConfigError, ExperimentConfig
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


def write_atomically(path: str, data: str | bytes) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before the rename: a crash never leaves an empty file in its place
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


def experiment_json(config: ExperimentConfig, history: EpochHistory | None = None) -> str:
    doc = {"format": FORMAT, "version": VERSION, "config": config.to_dict()}
    if history is not None:
        doc["history"] = history_to_dict(history)
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def save_experiment(path: str, config: ExperimentConfig, history: EpochHistory | None = None) -> None:
    write_atomically(path, experiment_json(config, history))


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
