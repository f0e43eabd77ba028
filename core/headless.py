"""The headless run: train through a ``Session`` and stream one record (JSON line or CSV row) per epoch as it
completes, to a file through core.io.fileio's appending path or to stdout (``python main.py --headless``)."""
from __future__ import annotations

import csv
import io
import signal
import sys
import time

import numpy as np

from core.config import ConfigError, ExperimentConfig
from core.io.fileio import AppendingFile, shorten
from core.io.formats import CSV, OUT, record_line
from core.io.records import csv_header, csv_row
from core.nn.kinds import kind_of
from core.runtime.exits import RunFailed, raise_if_signalled
from core.runtime.resources import check_disk_space
from core.training.precision_step import precision_columns, widest_precision
from core.training.statistics import LAYER_FIELDS, EpochStats
from core.training.transformer_stats import widest_transformer


def _csv_line(cells) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def output_bound(cfg: ExperimentConfig, runs: dict, as_csv: bool) -> int:
    """The most bytes ``--out`` can take: every epoch's record at its longest (17-digit negative numbers
    with three-digit exponents, the largest epoch and step numbers), for every run, and the CSV header."""
    tagged = len(runs) > 1
    n_layers = max(t.network.n_layers for t in runs.values())
    n_steps = max(_time_steps(t) for t in runs.values())
    tf = _transformer_columns(runs)
    widest = -1.2345678901234567e-300
    per_epoch = 0
    for name, trainer in runs.items():
        n = trainer.network.n_layers
        T = _time_steps(trainer)
        recurrent = dict(time_grad_norm=np.full(T, widest), spectral_norm=np.full(cfg.depth, widest),
                         vanishing_bound=widest, gate_saturation={g: np.full(cfg.depth, widest) for g in "ifo"}) \
            if T else {}
        stats = EpochStats(**{k: np.full(n, widest) for k in LAYER_FIELDS}, **recurrent, epoch=cfg.epochs,
                           step=cfg.epochs * cfg.samples, train_loss=widest, val_loss=widest, val_accuracy=widest,
                           transformer=widest_transformer(trainer.config, widest),
                           **widest_precision(trainer, widest))   # issue 24
        line = (_csv_line([name] * tagged + csv_row(stats, n_layers, n_steps, tf, _precision(runs))) if as_csv
                else record_line(stats, name if tagged else None))
        per_epoch += len(line.encode()) + 1
    header = (len(_csv_line(["run"] * tagged + csv_header(n_layers, n_steps, tf, _precision(runs)))) + 1
              if as_csv else 0)
    return header + per_epoch * cfg.epochs


class _Stdout:
    """stdout as a sink of records (the file sink is fileio.AppendingFile)."""

    def __init__(self, stream):
        self.stream, self.records = stream, 0

    def append(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
        self.records += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _precision(runs) -> bool:
    """Issue 24: the CSV carries the precision columns when any run is not float64 or scales its loss."""
    return any(precision_columns(t.config) for t in runs.values())


def _time_steps(trainer) -> int:
    """Time steps a run's records carry (seq_len for a recurrent model, 0 for an MLP)."""
    return trainer.config.seq_len if kind_of(trainer.config).sequences else 0


def _transformer_columns(runs: dict) -> tuple | None:
    """(depth, heads) the CSV's transformer columns cover (the largest of the runs'), None without a transformer."""
    shapes = [(t.config.depth, t.config.heads) for t in runs.values() if kind_of(t.config).uses("heads")]
    return (max(d for d, _ in shapes), max(h for _, h in shapes)) if shapes else None


def _epoch_lines(session, n_layers: int, n_steps: int, as_csv: bool, stderr, tf: tuple | None = None) -> str:
    """Train one more epoch of every run still going; its records, one line each."""
    runs = session.runs
    tagged = len(runs) > 1
    lines = []
    for name, stats in session.step_each_epoch().items():
        trainer = runs[name]
        if as_csv:
            row = csv_row(stats, n_layers, n_steps, tf, _precision(runs))
            lines.append(_csv_line([name] + row if tagged else row))
        else:
            lines.append(record_line(stats, run=name if tagged else None))
        if stats.diverged:
            print(f"{'run ' + name + ': ' if tagged else ''}{trainer.divergence}; training stopped",
                  file=stderr, flush=True)
    return "".join(line + "\n" for line in lines)


def run_headless(cfg: ExperimentConfig, out_path: str | None, quiet: bool,
                 stdout=None, stderr=None, compare: tuple[str, object] | None = None, data=None) -> int:
    """Train for cfg.epochs and write one record per epoch as it completes; with ``compare``, runs A and B
    in lockstep and each record (or CSV row) starts with its run's name. ``data``: a data set from a file."""
    from core.training.session import Session

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    session = Session(cfg, compare, data)
    if session.notice:  # B was refused: parse_compare checks it first, so this is only a safety net
        raise ConfigError("compare", session.notice)
    runs = session.runs
    as_csv = out_path is not None and OUT.choose(out_path) is CSV
    n_layers = max(t.network.n_layers for t in runs.values())
    n_steps = max(_time_steps(t) for t in runs.values())  # CSV columns time_grad_norm_1..T
    tf = _transformer_columns(runs)
    if out_path is not None:
        check_disk_space(out_path, output_bound(cfg, runs, as_csv), "out",
                         "reduce epochs or depth, or write it elsewhere")
    header = _csv_line((["run"] if compare else []) + csv_header(n_layers, n_steps, tf, _precision(runs))) + "\n" \
        if as_csv else ""
    sink = AppendingFile(out_path) if out_path is not None else _Stdout(stdout)
    try:
        with sink:
            _train_epochs(session, sink, header, lambda: _epoch_lines(session, n_layers, n_steps, as_csv, stderr, tf),
                          None if quiet else stderr)
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        name = shorten(repr(out_path))
        kept = (f"; {name} holds the {sink.records} completed epochs" if sink.records else
                f"; {name} is unchanged") if out_path is not None else ""
        print(f"main.py: interrupted by {signal.Signals(signum).name} after epoch {sink.records} of "
              f"{cfg.epochs}{kept}", file=stderr, flush=True)
        return 128 + signum
    except OSError as e:  # the run started: a failed run (exit status 1), not bad usage
        held = f" (it holds the first {sink.records} epochs)" if out_path is not None and sink.records else ""
        raise RunFailed(f"cannot write {shorten(repr(e.filename or out_path))}: {e.strerror or e}{held}") from e
    except MemoryError:
        raise RunFailed("memory ran out during the run: reduce batch_size, width or depth") from None
    return 0


def _train_epochs(session, sink, header: str, epoch_lines, progress) -> None:
    """Every epoch's lines into ``sink`` as it completes (``header`` first), until cfg.epochs or every run
    diverged; a progress line on ``progress`` (a stream, None: quiet) at most once a second and at the end."""
    cfg, runs = session.config, session.runs
    started = last_report = time.monotonic()
    a = runs["A"]
    for _ in range(cfg.epochs):
        raise_if_signalled()   # a signal whose exception was lost (core.runtime.exits) still stops the run
        if all(t.diverged for t in runs.values()):
            break
        sink.append(header + epoch_lines())
        header = ""
        now = time.monotonic()
        if progress is not None and (now - last_report > 1.0 or a.epoch == cfg.epochs):
            last_report, e = now, a.last_epoch
            steps = sum(t.step for t in runs.values())
            print(f"epoch {e.epoch}/{cfg.epochs}  train loss {e.train_loss:.4g}  val loss {e.val_loss:.4g}  "
                  f"{steps / (now - started):.0f} steps/s", file=progress, flush=True)
