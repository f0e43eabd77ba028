"""Your own data: a CSV file of numbers, the last column the label or target.

    data = load_csv("measurements.csv", val_fraction=0.2, seed=0)
    trainer = Trainer(config, data=data)

- An optional header row (its first line has a cell that is not a number) names the columns.
- Blank lines are skipped; anything else that is not a finite number is refused with a
  ConfigError naming the line and the column. Nothing is returned half-loaded.
- The label column decides the task: 2 distinct values make a binary classification (the
  smaller value is class 0), 3 to MAX_CLASSES distinct integer values a multi-class one
  (classes in increasing order of value), anything else a regression on the raw target.
- The rows are shuffled with the config's seed and split like the built-in data sets; each
  feature is standardised with the mean and standard deviation of the training split only
  (a constant feature becomes 0).
- The file is read in blocks of CHUNK_BYTES, parsed by NumPy's C parser, and hashed
  (SHA-256) on the way: ``Dataset.source`` is {"path", "sha256"}, which an experiment file
  keeps so that opening it again can check the data is the same (``load_source``).
"""
from __future__ import annotations

import codecs
import hashlib
import io
import os
import stat

import numpy as np

from core.config import ConfigError
from core.data.datasets import Dataset
from core.data.units import feature_units
from core.io.fileio import shorten

MAX_CLASSES = 20
CHUNK_BYTES = 8 << 20
MAX_LINE_BYTES = 8 << 20   # a row of a million features; a longer "line" is not a table (e.g. a file of NULs)
MEMORY_PER_BYTE = 2        # memory per byte of file while parsing, at most (a number takes 8 bytes and 4 or more
                           # characters with its comma); the file is refused when the memory available is short


def _error(message: str) -> ConfigError:
    return ConfigError("data", f"data: {message}")


def _blocks(fh, sha):
    """(first line number, text of whole lines) for each block of the file; hashes every byte."""
    line_no, rest, first = 1, b"", True
    while True:
        raw = fh.read(CHUNK_BYTES)
        sha.update(raw)
        buf = rest + raw
        if first and buf.startswith(codecs.BOM_UTF8):  # a byte-order mark (Excel's "CSV UTF-8") is no data
            buf = buf[len(codecs.BOM_UTF8):]
        first = False
        cut = len(buf) if not raw else buf.rfind(b"\n") + 1
        if cut == 0 and raw:  # no line end yet: a very long line, keep reading
            if len(buf) > MAX_LINE_BYTES:
                raise _error(f"line {line_no} is longer than {MAX_LINE_BYTES >> 20} MiB: not a table of numbers")
            rest = buf
            continue
        whole, rest = buf[:cut], buf[cut:]
        if whole:
            try:
                text = whole.decode("utf-8")
            except UnicodeDecodeError as e:
                bad_line = line_no + whole.count(b"\n", 0, e.start)
                raise _error(f"line {bad_line}: not UTF-8 text") from None
            yield line_no, text.replace("\r", "") if "\r" in text else text
            line_no += whole.count(b"\n")
        if not raw:
            return


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _split_header(first_line: int, text: str, names: list):
    """Take a header row off the first block, if it has one; returns (first data line, rest of text)."""
    first, sep, rest = text.partition("\n")
    while not first.strip() and sep:  # leading blank lines
        first_line += 1
        first, sep, rest = rest.partition("\n")
    cells = first.split(",")
    if all(_is_number(c) for c in cells):
        return first_line, text[text.index(first):]
    names.extend(c.strip() for c in cells)
    return first_line + 1, rest


def _column_name(col: int, names: list) -> str:
    return f"column {col + 1}" + (f" ({names[col]!r})" if col < len(names) and names[col] else "")


def _locate(first_line: int, text: str, n_cols: int, names: list) -> ConfigError:
    """The first bad line and cell of a block NumPy refused, as a ConfigError."""
    for i, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != n_cols:
            found = f"{len(cells)} column" + ("s" if len(cells) != 1 else "")
            return _error(f"line {first_line + i}: {found}, expected {n_cols} like the first row")
        for col, cell in enumerate(cells):
            try:
                value = float(cell)
            except ValueError:
                return _error(f"line {first_line + i}, {_column_name(col, names)}: {cell.strip()[:40]!r} "
                              f"is not a number")
            if not np.isfinite(value):
                return _error(f"line {first_line + i}, {_column_name(col, names)}: {shorten(cell.strip(), 40)!r} "
                              f"is not a finite number")
    return _error(f"lines {first_line} to {first_line + text.count(chr(10))}: not a table of numbers")


def _loadtxt(text: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2, comments=None)


def _parse_block(first_line: int, text: str, n_cols: int | None, names: list) -> np.ndarray:
    if not text.strip():
        return np.empty((0, n_cols or 0))
    try:
        block = _loadtxt(text)
    except ValueError:
        try:  # NumPy skips empty lines, not lines of spaces: skip those too
            block = _loadtxt("\n".join(line for line in text.split("\n") if line.strip()))
        except ValueError:
            raise _locate(first_line, text, n_cols or len(text.split("\n", 1)[0].split(",")), names) from None
    if block.size and ((n_cols is not None and block.shape[1] != n_cols) or not np.isfinite(block).all()):
        raise _locate(first_line, text, n_cols or block.shape[1], names)
    return block


def _open_regular(path: str):
    """The file opened for reading, refused unless it is a regular file: /dev/zero would be read forever, and
    opening a FIFO would wait for a writer (O_NONBLOCK)."""
    if not isinstance(path, str) or not path:
        raise _error("the file name is empty")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _error(f"{shorten(repr(path))} is " + ("a folder" if stat.S_ISDIR(mode) else
                                                     "not a regular file (a device, pipe or socket)"))
    return os.fdopen(fd, "rb")


def _check_memory(path: str, size: int) -> None:
    from core.runtime.resources import available_memory
    available = available_memory() if size > CHUNK_BYTES else None
    if available is not None and size * MEMORY_PER_BYTE > available:
        raise _error(f"{shorten(repr(path))} is {size:,} bytes; reading it needs about {MEMORY_PER_BYTE} bytes "
                     f"of memory per byte and {available:,} are available")


class Cancelled(Exception):
    """Reading was cancelled (``cancel`` was set): nothing was loaded."""


def read_table(path: str, progress=None, cancel=None) -> tuple[np.ndarray, list, str]:
    """Every row of the CSV file as one float64 array, the header's names (or []), and its SHA-256.
    ``progress(bytes read, file size)`` is called after each block; Cancelled is raised once the
    ``cancel`` event (a threading.Event) is set, between blocks."""
    sha, names, parts, n_cols = hashlib.sha256(), [], [], None
    try:
        with _open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            _check_memory(path, size)
            for i, (first_line, text) in enumerate(_blocks(fh, sha)):
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if progress is not None:
                    progress(min(fh.tell(), size), size)
                if i == 0:
                    first_line, text = _split_header(first_line, text, names)
                    n_cols = len(names) or None
                block = _parse_block(first_line, text, n_cols, names)
                if block.size:
                    n_cols = block.shape[1]
                    parts.append(block)
    except OSError as e:
        raise _error(f"cannot read {shorten(repr(path))}: {e.strerror or e}") from None
    if not parts:
        raise _error(f"{shorten(repr(path))} has no rows of numbers")
    table = parts[0] if len(parts) == 1 else np.concatenate(parts)
    if table.shape[1] < 2:
        raise _error(f"{shorten(repr(path))} needs at least 2 columns (features, then the label), got 1")
    return table, names, sha.hexdigest()


def _task_of(labels: np.ndarray):
    """(task, class values) from the label column; see the module's docstring."""
    values = np.unique(labels)
    if len(values) < 2:
        raise _error(f"the label column (the last) has one value, {values[0]:g}: nothing to learn")
    if len(values) == 2:
        return "classification", values
    if len(values) <= MAX_CLASSES and np.all(values == np.round(values)):
        return "multiclass", values
    return "regression", values[:0]


def standardise(X: np.ndarray, train: np.ndarray, scaled: bool = False) -> np.ndarray:
    """(X - mean) / std with the training rows' statistics (a constant feature becomes 0). Features near the
    float64 limit (1e308) would overflow the sums, and features near 1e-300 underflow the variance to 0: each
    column is then first divided by its largest value."""
    with np.errstate(all="ignore"):
        mean, std = train.mean(axis=0), train.std(axis=0)
    constant = train.min(axis=0) == train.max(axis=0)
    if scaled or (np.isfinite(mean).all() and np.isfinite(std).all() and not np.any((std == 0) & ~constant)):
        return (X - np.where(constant, train[0], mean)) / np.where(std > 0, std, 1.0)
    scale = np.abs(train).max(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return standardise(X / scale, train / scale, scaled=True)


def dataset_from_table(table: np.ndarray, names: list, source: dict, val_fraction: float, seed: int,
                       dtype=np.float64) -> Dataset:
    """Shuffle, split, encode the labels and standardise the features with the training split's statistics."""
    task, classes = _task_of(table[:, -1])
    n = len(table)
    n_val = int(round(n * val_fraction))
    if n_val < 1 or n - n_val < 1:
        raise _error(f"{n} rows leave no training or no validation row at val_fraction {val_fraction:g}")
    data_seed = np.random.SeedSequence(seed).spawn(3)[0]  # the same stream the built-in data sets use
    order = np.random.default_rng(data_seed).permutation(n)
    X, y = table[order, :-1], table[order, -1]
    if task != "regression":
        y = np.searchsorted(classes, y).astype(np.float64)  # class index 0..k-1
    units = feature_units(X[n_val:], names)   # the inverse of the next line, for the window's axes
    with np.errstate(over="ignore", invalid="ignore"):
        X = standardise(X, X[n_val:])
    overflowed = np.flatnonzero(~np.isfinite(X).all(axis=0))
    if overflowed.size:  # a validation value 1e300 times the training rows' spread
        raise _error(f"{_column_name(int(overflowed[0]), names)}: a value is beyond a float's range once "
                     f"standardised with the training rows' mean and spread: rescale the column")
    X, y = X.astype(dtype), y.astype(dtype)
    if not np.isfinite(y).all():
        raise _error(f"the label column holds values beyond the range of {np.dtype(dtype).name} "
                     f"(up to {np.finfo(dtype).max:.3g}): rescale it, or use dtype float64")
    feature_names = tuple(names[:-1]) if names else ()
    return Dataset(os.path.basename(source["path"]), task, np.ascontiguousarray(X[n_val:]), y[n_val:],
                   np.ascontiguousarray(X[:n_val]), y[:n_val], len(classes) if task != "regression" else 0,
                   tuple(f"{c:g}" for c in classes), feature_names, dict(source), units)


def load_csv(path: str, val_fraction: float = 0.2, seed: int = 0, dtype=np.float64, progress=None,
             cancel=None) -> Dataset:
    """``progress`` and ``cancel``: see read_table."""
    table, names, digest = read_table(path, progress, cancel)
    return dataset_from_table(table, names, {"path": os.path.abspath(path), "sha256": digest},
                              val_fraction, seed, dtype)


def load_for(config, path: str, progress=None, cancel=None) -> Dataset:
    """The data file ``path`` split and typed as ``config`` asks (``progress``, ``cancel``: see read_table)."""
    return load_csv(path, config.val_fraction, config.seed, np.dtype(config.dtype), progress, cancel)


def load_source(source, config, since: str = "the experiment was saved") -> Dataset:
    """The data an experiment file names ({"path", "sha256"}), refused unless its checksum still matches."""
    if not isinstance(source, dict) or not isinstance(source.get("path"), str) \
            or not isinstance(source.get("sha256"), str):
        raise _error(f"the experiment's data must be an object with a path and a sha256, got "
                     f"{shorten(repr(source), 80)}")
    data = load_for(config, source["path"])
    if data.source["sha256"] != source["sha256"].lower():
        raise _error(f"{shorten(repr(source['path']))} has changed since {since} (SHA-256 now "
                     f"{data.source['sha256'][:12]}..., then {source['sha256'][:12]}...)")
    return data


def source_of_experiment(path: str):
    """The "data" entry of an experiment file ({"path", "sha256"}), or None when it names none."""
    from core.io.records import read_document_json
    try:
        doc = read_document_json(path, "config")
    except ConfigError:
        return None  # the experiment reader reports what is wrong with the file itself
    return doc.get("data") if isinstance(doc, dict) else None


def data_from_args(args, config) -> Dataset | None:
    """The command line's data: --data FILE.csv, else the data file an experiment given as --config names."""
    if getattr(args, "data", None):
        given = [f for f in ("dataset", "samples", "noise") if getattr(args, f, None) is not None]
        if given:
            raise _error(f"--{given[0]} does not apply with --data: the file is the data set")
        return load_for(config, args.data)
    source = source_of_experiment(args.config) if getattr(args, "config", None) else None
    return load_source(source, config) if source is not None else None
