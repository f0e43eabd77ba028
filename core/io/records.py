"""Experiments and statistics on disk: experiment JSON, CSV, and the check of a replay.

An experiment file holds the config and, optionally, the recorded history:

    {"format": "gradient-flow-experiment", "version": 1, "config": {...},
     "data": {"path": ..., "sha256": ...},   (only for a data file: core.data.userdata checks it on opening)
     "history": {"epoch": [...], "train_loss": [...], ..., "layers": {"grad_norm": [[...], ...], ...}},
     "inside": {"version": 1, "quantiles": [...], "step": [...], "grad": [[[7 bands] per layer] per record], ...}}

"inside" (issue 12, written when the window has recorded distributions) holds the recorded epochs' records
of core.measure.distributions (percentile bands of gradients, activations and pre-activations, activation std,
saturated share), 6 significant digits; opening a file ignores it (the replay records them again).

The window's "Save config only" and ``--save-config`` write it without a history. A plain object of config
fields (what ``--save-config`` wrote before) is read too. Another format or version is refused, by name.
Non-finite numbers are written as null. Files are read by ``read_document_json`` (``reader.read_json``: limits,
every failure a ConfigError; a large file that is no experiment refused from its first bytes) and written by
``fileio`` (checked target, temporary file, fsync, rename).
"""
from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from core.config import ConfigError, ExperimentConfig
from core.nn.kinds import kind_of
from core.measure.distributions import QUANTILES
from core.io.fileio import file_mode, shorten, write_atomically, write_with  # noqa: F401  (one write path, re-exported)
from core.training.history import SCALARS, SERIES, EpochHistory
from core.io.reader import opening, read_json
from core.training.statistics import LAYER_FIELDS, PRECISION_FIELDS, EpochStats
from core.training.transformer_stats import csv_columns

FORMAT = "gradient-flow-experiment"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
KEYS = ("format", "version", "config", "data", "history", "inside")   # inside: issue 12, written, not read back
# A plain config is a few kB of field: value pairs (every field at once, indented: under 4 kB); only an experiment,
# whose history grows with its epochs, is larger. A larger file that is no experiment is refused before parsing.
CONFIG_MAX_BYTES = 1 << 20
MAX_COUNT = 2**53  # epoch and step numbers: whole numbers a float holds exactly


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


def _clean(values) -> list:
    return [None if v is None or not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float).ravel()]


def history_to_dict(h: EpochHistory) -> dict:
    d = {k: _clean(h.scalar(k)) for k in SCALARS}
    d["epoch"] = [int(x) for x in h.scalar("epoch")]
    d["step"] = [int(x) for x in h.scalar("step")]
    d["layers"] = {k: [_clean(row) for row in h.layer(k)] for k in LAYER_FIELDS}
    for k in SERIES:  # recurrent runs only
        if h.series(k).shape[1]:
            d[k] = [_clean(row) for row in h.series(k)]
    return d


def _bad(what: str) -> ConfigError:
    return ConfigError("history", f"history: malformed: {what}")


def _numbers(values, what: str, n: int) -> list:
    """``values`` if it is a list of ``n`` numbers or nulls, else ConfigError naming ``what``."""
    if type(values) is not list:
        raise _bad(f"{what} must be a list, got {_kind(values)}")
    if len(values) != n:
        raise _bad(f"{what} has {len(values)} entries, expected {n}")
    for v in values:
        if v is not None and type(v) not in (int, float):
            raise _bad(f"{what} holds {shorten(repr(v), 40)}, not a number or null")
    return values


def _scalar_columns(d: dict) -> dict:
    epochs = d.get("epoch")
    if type(epochs) is not list:
        raise _bad(f"epoch must be a list of epoch numbers, got {_kind(epochs)}")
    cols = {k: _numbers(d.get(k), k, len(epochs)) for k in SCALARS}
    for k in ("epoch", "step"):
        if not all(type(v) is int and 0 <= v <= MAX_COUNT for v in cols[k]):
            raise _bad(f"{k} must hold whole numbers from 0 to 2**53")
    if any(b <= a for a, b in zip(epochs, epochs[1:])):
        raise _bad("epoch numbers must increase")
    if any(b < a for a, b in zip(cols["step"], cols["step"][1:])):
        raise _bad("step numbers must not decrease")
    return cols


def _layer_arrays(layers, n: int, n_layers: int) -> dict:
    if type(layers) is not dict:
        raise _bad(f"layers must be an object of {', '.join(LAYER_FIELDS)}, got {_kind(layers)}")
    odd = sorted(set(layers) ^ set(LAYER_FIELDS), key=str)
    if odd:
        what = "unknown" if odd[0] in layers else "missing"
        raise _bad(f"layers: {what} statistic {shorten(odd[0], 60)!r}; expected {', '.join(LAYER_FIELDS)}")
    arrays = {}
    for k in LAYER_FIELDS:
        rows = layers[k]
        if type(rows) is not list or len(rows) != n:
            raise _bad(f"layers.{k} must be a list of {n} rows, one per epoch")
        for i, row in enumerate(rows):
            if type(row) is list and len(row) != n_layers:
                raise _bad(f"{k} of epoch {i + 1} has {len(row)} layers, the config has {n_layers}")
            _numbers(row, f"{k} of epoch {i + 1}", n_layers)
        arrays[k] = np.array(rows, dtype=float).reshape(n, n_layers)  # null -> NaN
    return arrays


def _series_arrays(d: dict, n: int, n_steps: int | None) -> dict:
    """A recurrent run's per-epoch series (time_grad_norm: n_steps entries; spectral_norm: one per layer)."""
    arrays = {}
    for k in SERIES:
        if k not in d:
            continue
        rows = d[k]
        if type(rows) is not list or len(rows) != n:
            raise _bad(f"{k} must be a list of {n} rows, one per epoch")
        width = len(rows[0]) if n and type(rows[0]) is list else 0
        if k == "time_grad_norm" and n_steps is not None and width != n_steps:
            raise ConfigError("history", f"history: time_grad_norm of epoch 1 has {width} time steps, "
                                         f"the config has {n_steps}")
        for i, row in enumerate(rows):
            _numbers(row, f"{k} of epoch {i + 1}", width)
        arrays[k] = np.array(rows, dtype=float).reshape(n, width)
    if n_steps and "time_grad_norm" not in arrays and n:
        raise ConfigError("history", f"history: time_grad_norm is missing; the config has {n_steps} time steps")
    return arrays


def history_from_dict(d, n_layers: int, n_steps: int | None = None) -> EpochHistory:
    """The recorded history in ``d``, checked against the config's ``n_layers`` (and, when given, its time
    steps ``n_steps``: seq_len for a recurrent model, 0 for an MLP); ConfigError('history', ...) for anything
    malformed (a field that is not a list, a string among numbers, epochs out of order...)."""
    if type(d) is not dict:
        raise _bad(f"must be an object, got {_kind(d)}")
    unknown = [k for k in d if k not in SCALARS and k not in SERIES and k != "layers"]
    if unknown:
        raise _bad(f"unknown key {shorten(unknown[0], 60)!r}; expected {', '.join(SCALARS + SERIES)}, layers")
    cols = _scalar_columns(d)
    n = len(cols["epoch"])
    arrays = _layer_arrays(d.get("layers"), n, n_layers)
    series = _series_arrays(d, n, n_steps)
    num = lambda v: math.nan if v is None else float(v)
    h = EpochHistory(n_layers)
    for i in range(n):
        acc = cols["val_accuracy"][i]
        h.append(EpochStats(**{k: arrays[k][i] for k in LAYER_FIELDS}, **{k: v[i] for k, v in series.items()},
                            epoch=cols["epoch"][i],
                            step=cols["step"][i], train_loss=num(cols["train_loss"][i]),
                            val_loss=num(cols["val_loss"][i]), val_accuracy=None if acc is None else float(acc)))
    return h


INSIDE_VERSION = 1
INSIDE_FIELDS = ("grad", "act", "pre", "act_std", "saturation")


def inside_to_dict(view) -> dict:
    """The epoch records of a core.measure.distributions.InsideView (and the latest epoch's last recorded step)."""
    def short(a):
        return [[None if not math.isfinite(v) else float(f"{v:.6g}") for v in row]
                for row in np.asarray(a, dtype=float).reshape(len(a), -1)] if np.ndim(a) > 1 else \
            [None if not math.isfinite(v) else float(f"{v:.6g}") for v in np.asarray(a, dtype=float)]
    n = len(view.epochs["step"])
    lay = view.layout
    fields = lay.fields if getattr(lay, "sequence", False) else INSIDE_FIELDS   # issue 21: a sequence model's
    pick = {k: np.concatenate([view.epochs[k], view.steps[k][-1:]]) for k in fields + ("step", "epoch")} \
        if len(view.steps["step"]) else {k: view.epochs[k] for k in fields + ("step", "epoch")}
    d = {"version": INSIDE_VERSION, "quantiles": [float(q) for q in QUANTILES], "samples": lay.samples,
         "saturation_rule": lay.saturation_rule, "step": [int(v) for v in pick["step"]],
         "epoch": [int(v) for v in pick["epoch"]], "completed_epoch_records": n}
    if getattr(lay, "sequence", False):
        d.update(model=lay.model, layer=lay.layer_name, time=lay.time_name,
                 labels={f: lay.label(f) for f in fields})
    else:
        d["pre_activation"] = lay.pre_label
    for k in fields:
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


def history_differences(expected: EpochHistory, actual: EpochHistory, rtol: float = 1e-9) -> list[str]:
    """What differs between a recorded and a replayed history, every recorded field compared; [] if nothing.

    Epoch and step numbers must be equal; every other number equal within ``rtol`` with no absolute
    tolerance (a vanishing gradient of 1e-12 is a value like any other); NaN (null) matches only NaN."""
    diffs = []
    if len(expected) != len(actual):
        diffs.append(f"{len(expected)} epochs recorded, {len(actual)} replayed")
    if expected.n_layers != actual.n_layers:
        return diffs + [f"{expected.n_layers} layers recorded, {actual.n_layers} replayed"]
    n = min(len(expected), len(actual))
    epochs = actual.scalar("epoch")[:n]
    columns = [(k, expected.scalar(k)[:n], actual.scalar(k)[:n]) for k in SCALARS]
    columns += [(k, expected.layer(k)[:n], actual.layer(k)[:n]) for k in LAYER_FIELDS]
    for k in SERIES:  # recurrent runs: time_grad_norm, spectral_norm
        want, got = expected.series(k), actual.series(k)
        if want.shape[1] != got.shape[1]:
            diffs.append(f"{k} ({want.shape[1]} entries recorded, {got.shape[1]} replayed)")
        elif want.shape[1]:
            columns.append((k, want[:n], got[:n]))
    for k, want, got in columns:
        tol = 0.0 if k in ("epoch", "step") else rtol
        same = np.isclose(got, want, rtol=tol, atol=0.0, equal_nan=True)
        same = same.all(axis=1) if same.ndim == 2 else same
        if not same.all():
            diffs.append(f"{k} (from epoch {int(epochs[np.argmin(same)])})")
    return diffs


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


def read_document(path: str, field: str = "file") -> tuple[dict, object]:
    """(config fields, recorded history or None) of a config or experiment file, not yet validated;
    ConfigError(field, ...) for a file that is neither, another format, or an unsupported version."""
    doc = read_document_json(path, field)
    where = f"{field}: {shorten(repr(path))}"
    if type(doc) is not dict:
        raise ConfigError(field, f"{where}: config must be a JSON object of field: value pairs (or an "
                                 f"experiment), got {_kind(doc)}")
    if "format" not in doc and "version" not in doc:
        return doc, None
    fmt, version = doc.get("format"), doc.get("version", 1)  # version 1 files all said so; hand-made ones may not
    if fmt != FORMAT:
        raise ConfigError(field, f"{where} has format {shorten(repr(fmt), 60)}; this program reads "
                                 f"{FORMAT!r} files and plain objects of config fields")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise ConfigError(field, f"{where} is {FORMAT} version {shorten(repr(version), 40)}; this program "
                                 f"reads version {', '.join(map(str, SUPPORTED_VERSIONS))} (a newer program "
                                 "may have written it)")
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise ConfigError(field, f"{where} has the unknown key {shorten(unknown[0], 60)!r}; an experiment "
                                 f"holds {', '.join(KEYS)}")
    if type(doc.get("config")) is not dict:
        raise ConfigError(field, f"{where} has no config object (got {_kind(doc.get('config'))})")
    return doc["config"], doc.get("history")


def read_document_json(path: str, field: str = "file"):
    """``read_json`` of a config or experiment file; a file over CONFIG_MAX_BYTES that does not open as an
    experiment (an object whose first key is one of KEYS, or anything but a list) is refused from its first bytes,
    before it is read: a config that large is padding, and parsing 200 MB of numbers took 100 s (issue 25). An
    experiment, whatever its size, is parsed."""
    where = f"{field}: {shorten(repr(path))}"

    def check_head(head: bytes, size: int) -> None:
        if size <= CONFIG_MAX_BYTES:
            return
        first, key = opening(head)
        if first == "[":
            raise ConfigError(field, f"{where}: config must be a JSON object of field: value pairs (or an "
                                     "experiment), got a list")
        if first == "{" and key is not None and key not in KEYS:
            raise ConfigError(field, f"{where} is {size:,} bytes, too large for a config file (a JSON object of "
                                     f"field: value pairs, at most {CONFIG_MAX_BYTES:,} bytes); only an experiment "
                                     f"file, which opens with {json.dumps(KEYS[0])}, may be larger")
    return read_json(path, field, check_head=check_head)


def load_experiment(path: str, field: str = "file") -> tuple[ExperimentConfig, EpochHistory | None]:
    """Read an experiment file, or a plain config file; every failure is a ConfigError."""
    fields, history = read_document(path, field)
    config = ExperimentConfig.from_dict(fields)
    steps = config.seq_len if kind_of(config).sequences else 0
    return config, None if history is None else history_from_dict(history, config.n_weight_layers, steps)


def csv_header(n_layers: int, n_steps: int = 0, tf: tuple | None = None, precision: bool = False) -> list[str]:
    """Columns; with ``precision`` (issue 24: a run not in float64, or with loss scaling) underflow_i,
    overflow_i, lost_updates_i per layer, the loss scale at the epoch's end and the steps it skipped; a recurrent
    run's ``n_steps`` = seq_len adds time_grad_norm_1..T (a transformer's: ||dL/dx_0|| per position); ``tf`` =
    (depth, heads) of a transformer run adds its columns after them (core.training.transformer_stats.csv_columns:
    tf_grad_norm_<sub-layer>_<block>, tf_update_ratio_..., tf_residual_grad_norm_<l>, tf_token_similarity_<block>,
    tf_attention_entropy_<block>_<head>)."""
    return (["epoch", "step", "train_loss", "val_loss", "val_accuracy"]
            + [f"grad_norm_{i}" for i in range(1, n_layers + 1)]
            + [f"update_ratio_{i}" for i in range(1, n_layers + 1)]
            + ([f"{f}_{i}" for f in PRECISION_FIELDS for i in range(1, n_layers + 1)] + ["loss_scale", "skipped_steps"]
               if precision else [])
            + [f"time_grad_norm_{t}" for t in range(1, n_steps + 1)]
            + (csv_columns(*tf) if tf else []))


def transformer_shape(stats) -> tuple | None:
    """(depth, heads) of a transformer run's statistics (an EpochStats), None for another kind's."""
    tf = getattr(stats, "transformer", None)
    return None if tf is None else (tf.depth, tf.heads)


def _transformer_cells(stats: EpochStats, tf: tuple | None, cell) -> list:
    """The cells under ``csv_columns(*tf)``: this run's values by column name, empty where it has none."""
    if not tf:
        return []
    own = stats.transformer
    named = dict(zip(csv_columns(own.depth, own.heads), own.csv_cells())) if own is not None else {}
    return [cell(named[c]) if c in named else "" for c in csv_columns(*tf)]


def csv_row(stats: EpochStats, n_layers: int | None = None, n_steps: int | None = None,
            tf: tuple | None = None, precision: bool = False) -> list:
    """One epoch's row; with ``n_layers`` or ``n_steps`` larger than the run's, the missing ones are empty cells;
    ``tf``: the transformer columns' (depth, heads), by default the run's own."""
    def cell(v):
        return "" if v is None or not math.isfinite(v) else repr(float(v))
    pad = [""] * ((n_layers or stats.n_layers) - stats.n_layers)
    T = len(stats.time_grad_norm)
    pad_t = [""] * ((n_steps if n_steps is not None else T) - T)
    cells = [cell(v) for f in PRECISION_FIELDS for v in
             list(getattr(stats, f)) + [math.nan] * ((n_layers or stats.n_layers) - len(getattr(stats, f)))]
    precision = cells + [cell(stats.loss_scale), stats.skipped_steps] if precision else []
    return ([stats.epoch, stats.step, cell(stats.train_loss), cell(stats.val_loss), cell(stats.val_accuracy)]
            + [cell(v) for v in stats.grad_norm] + pad + [cell(v) for v in stats.update_ratio] + pad
            + precision + [cell(v) for v in stats.time_grad_norm] + pad_t
            + _transformer_cells(stats, tf if tf is not None else transformer_shape(stats), cell))


def history_csv(history: EpochHistory, precision: bool = False) -> str:
    """One row per epoch; empty cells for non-finite values and for accuracy in regression. ``precision``: add
    issue 24's columns (``core.training.precision_step.precision_columns(config)``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    tf = transformer_shape(history[0]) if len(history) else None
    w.writerow(csv_header(history.n_layers, history.series("time_grad_norm").shape[1], tf, precision=precision))
    for stats in history:
        w.writerow(csv_row(stats, precision=precision))
    return buf.getvalue()
