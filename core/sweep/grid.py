"""Sweeps: one short run per cell of a grid of configs, streamed into a CSV that survives being killed.

    python main.py --sweep init_gain=1:2:7 --sweep depth=10:100:10 --epochs 5 --out map.csv

Each cell is a config (the fixed flags plus one value per swept field) and is seeded from that config
alone, so its numbers do not depend on where or with what it ran: in this process, in local worker
processes, or on a Dask cluster. Cells are grouped into tasks of about a second; finished rows are
appended to the CSV with flush and fsync as they arrive, so a killed sweep loses only the cells in
flight, and running the same command again runs only the missing cells. At the end the file is
rewritten, atomically, in the grid's order.

Columns: the swept fields, the metrics (``METRICS``), then every other config field, so a file
says what produced it and a resumed sweep refuses a file made with other settings.
"""
from __future__ import annotations

import csv
import io
import itertools
import math
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from typing import Any, Iterable, Iterator

import numpy as np

from core.config import FIELD_SPECS, ConfigError, ExperimentConfig, allowed, parse_field
from core.runtime.resources import available_memory, check_fits

METRICS = ("train_loss", "val_loss", "val_accuracy", "diverged", "epoch_reached", "grad_gain")
GAIN_SAMPLES = 1024       # training samples (at most) in the backward pass that measures grad_gain
TASK_SECONDS = 1.0        # the work put into one task
MAX_CELLS = 1_000_000


# -- the grid ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    field: str
    values: tuple


def parse_axis(spec: str) -> Axis:
    """'FIELD=V1,V2,...' or 'FIELD=START:STOP:COUNT' (COUNT points, both ends included; numbers only)."""
    name, sep, text = spec.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name or not text.strip():
        raise ConfigError("sweep", f"sweep: expected FIELD=V1,V2,... or FIELD=START:STOP:COUNT, got {spec!r}")
    if name not in FIELD_SPECS:
        raise ConfigError(name, f"sweep: unknown config field {name!r}; known fields: {', '.join(FIELD_SPECS)}")
    parts = text.split(":")
    if len(parts) == 1:
        values = [_value(name, t) for t in text.split(",")]
    elif len(parts) == 3:
        values = _range(name, *parts)
    else:
        raise ConfigError(name, f"sweep: {name} expects V1,V2,... or START:STOP:COUNT, got {text!r}")
    unique = list(dict.fromkeys(values))
    if len(unique) < len(values):
        raise ConfigError(name, f"sweep: {name} lists a value twice in {text!r}")
    return Axis(name, tuple(unique))


def _value(name: str, text: str):
    try:
        return parse_field(name, text)
    except ConfigError:
        raise ConfigError(name, f"sweep: {name} must be {allowed(name)}, got {text.strip()!r}") from None


def _range(name: str, start: str, stop: str, count: str) -> list:
    kind = FIELD_SPECS[name].kind
    if kind not in ("int", "float", "optional_float"):
        raise ConfigError(name, f"sweep: {name} is {allowed(name)}: list its values as V1,V2,..., "
                                f"START:STOP:COUNT is for numbers")
    try:
        n = int(count)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_CELLS:
        raise ConfigError(name, f"sweep: {name}'s COUNT must be an integer from 1 to {MAX_CELLS}, got {count!r}")
    lo, hi = _value(name, start), _value(name, stop)
    if lo is None or hi is None:
        raise ConfigError(name, f"sweep: {name}'s START and STOP must be numbers, got {start!r}:{stop!r}")
    points = np.linspace(lo, hi, n)
    if kind == "int":
        values = [int(round(p)) for p in points]
        if len(set(values)) < n:
            raise ConfigError(name, f"sweep: {name} takes integers: {n} points from {lo} to {hi} repeat some; "
                                    f"use a COUNT of at most {abs(hi - lo) + 1}")
        return values
    return [_value(name, repr(float(p))) for p in points]


def cell_text(value: Any) -> str:
    """A config value as a CSV cell that parse_field reads back to the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _metric_text(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""  # no value: not finite, or no accuracy for regression
    return repr(float(value)) if isinstance(value, float) else str(int(value))


@dataclass(frozen=True)
class Plan:
    """What a sweep computes: a base config, the axes, and whether to train or only measure at initialisation."""
    base: ExperimentConfig
    axes: tuple
    init_only: bool = False

    @property
    def swept(self) -> tuple:
        return tuple(a.field for a in self.axes)

    @property
    def fixed(self) -> tuple:
        return tuple(f.name for f in fields(ExperimentConfig) if f.name not in self.swept)

    @property
    def header(self) -> list:
        return [*self.swept, *METRICS, *self.fixed]

    @property
    def size(self) -> int:
        return math.prod(len(a.values) for a in self.axes)

    def cells(self) -> Iterator[tuple]:
        return itertools.product(*(a.values for a in self.axes))

    def config(self, values: tuple) -> ExperimentConfig:
        return self.base.replace(**dict(zip(self.swept, values)))

    def fixed_text(self) -> list:
        """The non-swept fields as cells; epochs is 0 when only the initialisation is measured."""
        return ["0" if self.init_only and f == "epochs" else cell_text(getattr(self.base, f)) for f in self.fixed]

    def check(self) -> None:
        """Every cell must be a valid config that fits in memory: refuse the sweep before it starts."""
        if self.size > MAX_CELLS:
            raise ConfigError("sweep", f"sweep: {self.size} cells; at most {MAX_CELLS} are allowed")
        available = available_memory()  # read once: a grid can have a million cells
        for values in self.cells():
            try:
                check_fits(self.config(values), available=available)
            except ConfigError as e:
                cell = ", ".join(f"{f}={cell_text(v)}" for f, v in zip(self.swept, values))
                raise ConfigError(e.field, f"sweep: the cell {cell}: {e}") from None


def make_plan(base: ExperimentConfig, specs: Iterable[str], init_only: bool = False) -> Plan:
    axes = tuple(parse_axis(s) for s in specs)
    if not axes:
        raise ConfigError("sweep", "sweep: give at least one --sweep FIELD=VALUES")
    names = [a.field for a in axes]
    for n in names:
        if names.count(n) > 1:
            raise ConfigError(n, f"sweep: {n} is swept twice; give each field one --sweep")
    if init_only and "epochs" in names:
        raise ConfigError("epochs", "sweep: epochs cannot be swept when --epochs 0 measures at initialisation only")
    plan = Plan(base, axes, init_only)
    plan.check()
    return plan


# -- one cell ---------------------------------------------------------------------------
def grad_gain(delta_norms: np.ndarray, depth: int) -> float:
    """Geometric mean over hidden layers l of ||dL/dz_l|| / ||dL/dz_{l+1}||: (||dL/dz_1|| / ||dL/dz_out||)^(1/depth).

    Mean-field theory predicts sqrt(chi_1) for it. 0 when the gradient vanishes to nothing at layer 1;
    NaN when it overflows."""
    first, last = float(delta_norms[0]), float(delta_norms[depth])
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0.0:
        return math.nan
    if first == 0.0:
        return 0.0
    return math.exp((math.log(first) - math.log(last)) / depth)


def measure(config: ExperimentConfig, init_only: bool = False) -> dict:
    """One cell's metrics: grad_gain at initialisation, then (unless init_only) config.epochs of training."""
    from core.training.trainer import Trainer
    t = Trainer(config)
    d = t.data
    n = min(len(d.y_train), GAIN_SAMPLES)
    with np.errstate(all="ignore"):
        r = t.network.backward(d.X_train[:n], d.y_train[:n])
        gain = grad_gain(r.delta_norms, config.depth)
        if init_only:  # the backward pass saw every training sample when there are few: its loss is theirs
            train_loss = r.loss if n == len(d.y_train) else t.network.loss(d.X_train, d.y_train)
            val_loss, val_acc = t.evaluate(d.X_val, d.y_val)
            return dict(train_loss=train_loss, val_loss=val_loss, val_accuracy=val_acc,
                        diverged=not math.isfinite(train_loss), epoch_reached=0, grad_gain=gain)
    t.run()
    e = t.last_epoch
    return dict(train_loss=e.train_loss, val_loss=e.val_loss, val_accuracy=e.val_accuracy,
                diverged=t.diverged, epoch_reached=t.epoch, grad_gain=gain)


def run_group(plan: Plan, cells: list) -> list:
    """The rows (lists of CSV cells) of some cells of a plan."""
    rows = []
    for values in cells:
        m = measure(plan.config(values), plan.init_only)
        rows.append([cell_text(v) for v in values] + [_metric_text(m[k]) for k in METRICS] + plan.fixed_text())
    return rows


def _ignore_interrupt() -> None:
    """Ctrl-C reaches every process of the terminal: the parent stops the sweep, workers just finish."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_group(plan: Plan, cells: list) -> list:
    """run_group in a worker process: the unit of work sent to local workers and to a Dask cluster."""
    _one_blas_thread()
    return run_group(plan, cells)


_BLAS_LIMITED = []


def _one_blas_thread() -> None:
    """Cells run side by side, one per core: a second BLAS thread each would only oversubscribe the cores."""
    if not _BLAS_LIMITED:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"   # for anything this worker starts
        from threadpoolctl import threadpool_limits
        _BLAS_LIMITED.append(threadpool_limits(limits=1))  # numpy's BLAS is already loaded here


# -- grouping ---------------------------------------------------------------------------
def cost(config: ExperimentConfig, init_only: bool) -> float:
    """Relative work of a cell: per layer, a fixed overhead plus the matrix products, per batch."""
    n_train = config.samples - int(round(config.samples * config.val_fraction))
    batches = 1 if init_only else 1 + config.epochs * -(-n_train // config.batch_size)
    per_pass = min(n_train, GAIN_SAMPLES) if init_only else config.batch_size
    return 2e5 + batches * (config.depth + 1) * (2e4 + 6.0 * per_pass * config.width ** 2)


def make_groups(plan: Plan, cells: list, seconds_per_unit: float, workers: int) -> list:
    """Consecutive cells in groups of about TASK_SECONDS of work, and at least two groups per worker."""
    costs = [cost(plan.config(v), plan.init_only) * seconds_per_unit for v in cells]
    target = min(TASK_SECONDS, sum(costs) / (2 * max(workers, 1)))
    groups, current, acc = [], [], 0.0
    for values, c in zip(cells, costs):
        current.append(values)
        acc += c
        if acc >= target:
            groups.append(current)
            current, acc = [], 0.0
    if current:
        groups.append(current)
    return groups


def calibrate(plan: Plan, cells: list, seconds: float = 0.2, most: int = 50) -> tuple[float, list]:
    """Seconds per unit of cost, timed here on the cheapest cells after one to warm up, and their rows
    (kept, not wasted): up to ``most`` cells or ``seconds`` of work."""
    by_cost = sorted(cells, key=lambda v: cost(plan.config(v), plan.init_only))
    rows = run_group(plan, by_cost[:1])  # the first cell in a process also pays for imports and caches
    timed, units, started = 0, 0.0, time.perf_counter()
    for values in by_cost[1:most]:
        rows += run_group(plan, [values])
        timed += 1
        units += cost(plan.config(values), plan.init_only)
        if time.perf_counter() - started >= seconds:
            break
    if timed == 0:
        return TASK_SECONDS / cost(plan.config(by_cost[0]), plan.init_only), rows  # nothing left to group
    return (time.perf_counter() - started) / units, rows


# -- executors: each maps groups to their rows, yielding them as they finish ---------------
class SerialExecutor:
    """In this process, one group after another (for the window's tests and one-core machines)."""
    workers = 1

    def run(self, plan: Plan, groups: list, stop=None) -> Iterator[list]:
        for g in groups:
            if stop is not None and stop.is_set():
                return
            yield run_group(plan, g)

    def close(self, wait: bool = True) -> None:
        pass


class LocalExecutor:
    """Worker processes on this machine (started fresh, never forked from a process with threads)."""

    def __init__(self, workers: int | None = None):
        import multiprocessing
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_ignore_interrupt)

    def run(self, plan: Plan, groups: list, stop=None) -> Iterator[list]:
        pending = {self._pool.submit(worker_group, plan, g) for g in groups}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in done:
                    try:
                        rows = f.result()
                    except BrokenProcessPool as e:
                        raise ConfigError("workers", f"workers: a worker process died ({_first_line(e)}); "
                                                     f"if memory ran out, try fewer --workers") from None
                    yield rows
                if stop is not None and stop.is_set():
                    return
        finally:
            for f in pending:
                f.cancel()

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


class DaskExecutor:
    """The same groups as tasks on an existing dask.distributed cluster (or a given Client)."""

    def __init__(self, address_or_client):
        from distributed import Client
        if isinstance(address_or_client, str):
            try:
                self._client, self._own = Client(address_or_client, timeout="10s"), True
            except (OSError, TimeoutError) as e:
                raise ConfigError("scheduler", f"scheduler: cannot connect to {address_or_client!r}: {e}") from None
        else:
            self._client, self._own = address_or_client, False
        self.workers = sum(self._client.nthreads().values())
        if self.workers == 0:
            self.close()
            raise ConfigError("scheduler", f"scheduler: the cluster at {address_or_client!r} has no workers; "
                                           f"start some with: dask worker --nthreads 1 ADDRESS")

    def run(self, plan: Plan, groups: list, stop=None) -> Iterator[list]:
        from distributed import as_completed
        futures = [self._client.submit(worker_group, plan, g, pure=False) for g in groups]
        try:
            for f in as_completed(futures):
                try:
                    rows = f.result()
                except Exception as e:  # raised on the cluster: its environment, not this process
                    raise ConfigError("scheduler", f"scheduler: a task failed on the cluster ({_first_line(e)}); "
                                                   f"the scheduler and every worker need this project "
                                                   f"installed") from None
                yield rows
                if stop is not None and stop.is_set():
                    return
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def close(self, wait: bool = True) -> None:
        if self._own:
            self._client.close()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def make_executor(workers: int | None = None, scheduler: str | None = None):
    if scheduler:
        return DaskExecutor(scheduler)
    if workers == 1:
        return SerialExecutor()
    return LocalExecutor(workers)


def stream_rows(plan: Plan, executor, skip=frozenset(), stop=None) -> Iterator[list]:
    """The rows of every cell not in ``skip`` (keys as from ``key_of``), a group's rows at a time as they finish."""
    cells = [v for v in plan.cells() if v not in skip]
    if not cells:
        return
    seconds_per_unit, first = calibrate(plan, cells)
    yield first
    done = {key_of(plan, r) for r in first}
    rest = [v for v in cells if v not in done]
    yield from executor.run(plan, make_groups(plan, rest, seconds_per_unit, executor.workers), stop)


def key_of(plan: Plan, row: list) -> tuple:
    """A row's cell: its swept values, parsed back."""
    return tuple(parse_field(f, t) for f, t in zip(plan.swept, row))


# -- the CSV file -----------------------------------------------------------------------
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


class Progress:
    """'sweep: 120/400 cells, 35.2 cells/s, 8 s left' on stderr, at most once a second. The time left is
    the time so far scaled by the work left over the work done (cells differ: a deep one costs more)."""

    def __init__(self, total: int, done: int, work_left: float, stream, quiet: bool):
        self.total, self.done, self.stream, self.quiet = total, done, stream, quiet
        self._work_left, self._work_done = work_left, 0.0
        self._new, self._started, self._last = 0, time.monotonic(), 0.0

    def add(self, n: int, work: float) -> None:
        self.done += n
        self._new += n
        self._work_done += work
        self._work_left -= work
        now = time.monotonic()
        if not self.quiet and (now - self._last >= 1.0 or self.done == self.total):
            self._last = now
            elapsed = max(now - self._started, 1e-9)
            left = elapsed * max(self._work_left, 0.0) / self._work_done if self._work_done > 0 else math.inf
            print(f"sweep: {self.done}/{self.total} cells, {self._new / elapsed:.1f} cells/s, {_duration(left)} left",
                  file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown time"
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s} s"


def run_sweep(plan: Plan, out_path: str | None, executor, quiet: bool = False, stdout=None, stderr=None) -> int:
    """Run the cells missing from ``out_path`` (all of them without a file: rows go to stdout then)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    existing, complete = read_existing(out_path, plan) if out_path else ({}, None)
    missing = sum(1 for v in plan.cells() if v not in existing)
    if existing and not quiet:
        print(f"sweep: {out_path} has {len(existing)} cells; running the {missing} missing", file=stderr, flush=True)
    work = lambda values: cost(plan.config(values), plan.init_only)
    progress = Progress(plan.size, plan.size - missing, sum(work(v) for v in plan.cells() if v not in existing),
                        stderr, quiet)
    appender = RowAppender(out_path, plan.header, complete) if out_path else None
    if appender is None:
        print(csv_line(plan.header), end="", file=stdout, flush=True)
    rows = dict(existing)
    try:
        for batch in stream_rows(plan, executor, skip=existing):
            if appender is None:
                print("".join(csv_line(r) for r in batch), end="", file=stdout, flush=True)
            else:
                appender.append(batch)
            keys = [key_of(plan, r) for r in batch]
            rows.update(zip(keys, batch))
            progress.add(len(batch), sum(work(k) for k in keys))
    finally:
        if appender is not None:
            appender.close()
    if out_path:
        from core.io.records import write_atomically
        write_atomically(out_path, sorted_csv(plan, rows))
    return 0


# -- presets and the command line --------------------------------------------------------
@dataclass(frozen=True)
class SweepPreset:
    name: str
    summary: str
    fields: dict
    axes: tuple

    def plan(self, **overrides) -> Plan:
        return make_plan(ExperimentConfig.from_dict({**self.fields, **overrides}), self.axes)


SWEEP_PRESETS = {p.name: p for p in [
    SweepPreset(
        "deep-information-propagation",
        "Schoenholz et al. 2017: tanh, sigma_b^2 = 0.05, sigma_w^2 1 to 4 (init_gain = sigma_w, LeCun), depth 10 to 150",
        dict(activation="tanh", init="lecun", bias_std=math.sqrt(0.05), width=64, dataset="circles", samples=512,
             optimizer="sgd", lr=0.01, batch_size=32, epochs=10, seed=0),
        ("init_gain=" + ",".join(repr(math.sqrt(s)) for s in np.linspace(1.0, 4.0, 13)), "depth=10:150:15")),
]}


def _positive_int(field: str, text: str, hi: int = 1024) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= hi:
        raise ConfigError(field, f"{field} must be an integer from 1 to {hi}, got {text!r}")
    return n


def plan_from_args(args, config_from_args) -> Plan:
    """--sweep-preset (flags override its fields), then --sweep axes (replacing the preset's for a field)."""
    init_only = args.epochs is not None and args.epochs.strip() == "0"
    if init_only:
        args.epochs = None  # not a config value: it means "measure at initialisation, do not train"
    specs = list(args.sweep or [])
    if args.sweep_preset:
        if args.sweep_preset not in SWEEP_PRESETS:
            raise ConfigError("sweep_preset", f"sweep-preset must be one of {', '.join(SWEEP_PRESETS)}, "
                                              f"got {args.sweep_preset!r}")
        if args.preset or args.config:
            raise ConfigError("sweep_preset", "sweep-preset: give it alone, not with --preset or --config")
        preset = SWEEP_PRESETS[args.sweep_preset]
        flags = {f.name: v for f in fields(ExperimentConfig) if (v := getattr(args, f.name)) is not None}
        base = ExperimentConfig.from_dict({**preset.fields, **{k: v if isinstance(v, bool) else parse_field(k, v)
                                                               for k, v in flags.items()}})
        mine = {parse_axis(s).field for s in specs}
        specs = [s for s in preset.axes if parse_axis(s).field not in mine] + specs
    else:
        base = config_from_args(args)
    return make_plan(base, specs, init_only)


def run_from_args(args, config_from_args, stdout=None, stderr=None) -> int:
    """``main.py --sweep ...``: the plan, the executor, and the run; ConfigError for bad input."""
    plan = plan_from_args(args, config_from_args)
    if args.scheduler and args.workers:
        raise ConfigError("workers", "workers: --workers is for local processes; with --scheduler the cluster's "
                                     "workers run the cells")
    if args.scheduler and "://" not in args.scheduler:
        raise ConfigError("scheduler", f"scheduler must be an address like tcp://HOST:8786, got {args.scheduler!r}")
    workers = _positive_int("workers", args.workers) if args.workers else None
    if args.out:
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder):
            raise ConfigError("out", f"out: folder {folder!r} does not exist")
    executor = make_executor(workers, args.scheduler)
    finished = False
    try:
        code = run_sweep(plan, args.out, executor, args.quiet, stdout, stderr)
        finished = True
        return code
    finally:
        executor.close(wait=finished)


# -- reading a sweep back, for pictures -------------------------------------------------
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
