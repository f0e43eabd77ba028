"""Running a sweep: the cells missing from the file, calibrated and grouped, streamed into the CSV with a
progress line; and ``main.py --sweep ...`` (its flags to a plan and an executor)."""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import fields
from typing import Iterator

from core.config import ConfigError, ExperimentConfig, parse_field
from core.io.fileio import shorten
from core.runtime.exits import exit_status
from core.sweep.cells import calibrate, cost, make_groups
from core.sweep.csv_file import RowAppender, csv_line, read_existing, sorted_csv
from core.sweep.executors import make_executor
from core.sweep.plan import Plan, key_of, make_plan, parse_axis
from core.sweep.presets import SWEEP_PRESETS


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
    dropped = []
    existing, complete = read_existing(out_path, plan, dropped) if out_path else ({}, None)
    for line, problem in dropped:  # said even with --quiet: the file was damaged
        print(f"sweep: line {line} of {out_path} is corrupted ({problem}); its cell runs again", file=stderr,
              flush=True)
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
    except KeyboardInterrupt as e:  # Ctrl+C or SIGTERM (core.runtime.exits): every finished cell is in the file
        kept = f"; {out_path} keeps {_cells_in(out_path, plan)} of {plan.size} cells: the same command resumes" \
            if out_path else ""
        print(f"sweep: interrupted by {signal.Signals(exit_status(e) - 128).name}{kept}", file=stderr, flush=True)
        return exit_status(e)
    finally:
        if appender is not None:
            appender.close()
    if out_path:
        from core.io.records import write_atomically
        write_atomically(out_path, sorted_csv(plan, rows))
    return 0

def _cells_in(path: str, plan: Plan) -> int:
    """The cells the file holds now, as a resume would read them (the signal may have come mid-write)."""
    return len(read_existing(path, plan)[0]) if os.path.isfile(path) else 0

def _positive_int(field: str, text: str, hi: int = 1024) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= hi:
        raise ConfigError(field, f"{field} must be an integer from 1 to {hi}, got {text!r}")
    return n

SCHEMES = ("tcp", "ws", "wss", "ucx")   # dask.distributed's, but tls (it needs certificates given in code)


def check_scheduler(address: str) -> None:
    """A Dask scheduler address: SCHEME://HOST:PORT with a known scheme and a port from 1 to 65535."""
    bad = ConfigError("scheduler", f"scheduler must be an address like tcp://HOST:8786, got "
                                   f"{shorten(repr(address))} (SCHEME://HOST:PORT, schemes {', '.join(SCHEMES)})")
    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in SCHEMES:
        raise bad
    host, colon, port = rest.rpartition(":")
    if not colon or not host.strip("[]") or "/" in host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise bad


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
    if args.scheduler:
        check_scheduler(args.scheduler)
    workers = _positive_int("workers", args.workers) if args.workers else None
    if args.out:
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder):
            raise ConfigError("out", f"out: folder {folder!r} does not exist")
    executor = make_executor(workers, args.scheduler)
    finished = False
    try:
        code = run_sweep(plan, args.out, executor, args.quiet, stdout, stderr)
        finished = code == 0
        return code
    finally:
        executor.close(wait=finished)
