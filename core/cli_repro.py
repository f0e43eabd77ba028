"""The command line's gallery and seeds modes (core/cli.py parses the flags and calls these):

    python main.py --list-reproductions
    python main.py --reproduce NAMES|all [--out FILE.csv] [--workers N] [--scheduler tcp://HOST:PORT]
    python main.py --headless --seeds N [config flags] [--out FILE.csv] [--workers N] [--scheduler ...]

Bad input raises ConfigError (the CLI prints one line and exits 2)."""
from __future__ import annotations

import os
import sys
import time

from core.config import ConfigError


def _executor(args, default_workers=None):
    from core.sweep.executors import make_executor
    from core.sweep.run import _positive_int
    if args.scheduler and args.workers:
        raise ConfigError("workers", "workers: --workers is for local processes; with --scheduler the cluster's "
                                     "workers run the tasks")
    if args.scheduler and "://" not in args.scheduler:
        raise ConfigError("scheduler", f"scheduler must be an address like tcp://HOST:8786, got {args.scheduler!r}")
    workers = _positive_int("workers", args.workers) if args.workers else default_workers
    return make_executor(workers, args.scheduler)


def _check_out(args, check_writable) -> None:
    if args.out:
        if not args.out.lower().endswith(".csv"):
            raise ConfigError("out", f"out: the table is CSV; give a name ending in .csv, got {args.out!r}")
        check_writable("out", args.out)


def list_reproductions(stdout=None) -> int:
    from core.stories.reproductions.gallery import list_lines
    print("\n".join(list_lines()), file=stdout or sys.stdout)
    return 0


def reproduce(args, check_writable) -> int:
    from core.stories.reproductions import get_reproductions
    from core.stories.reproductions.gallery import run_gallery
    try:
        reps = get_reproductions(args.reproduce)
    except ValueError as e:
        raise ConfigError("reproduce", str(e)) from None
    _check_out(args, check_writable)
    executor = _executor(args, default_workers=min(len(reps), os.cpu_count() or 1))
    finished = False
    try:
        code = run_gallery(reps, executor, args.out, args.quiet)
        finished = True
        return code
    finally:
        executor.close(wait=finished)


def seeds(args, config, check_writable, stderr=None) -> int:
    """N seeds of ``config`` at initialisation: the CSV of log10 ||dL/dz_l|| per seed (stdout or --out) and the band
    with Hanin & Rolnick's fan on stderr."""
    from core.measure.seeds import band, hanin_fan, seed_delta_norms, seeds_csv
    from core.nn.kinds import kind_of
    from core.sweep.run import _positive_int
    stderr = stderr or sys.stderr
    n = _positive_int("seeds", args.seeds, hi=10_000)
    if kind_of(config).sequences:
        raise ConfigError("seeds", f"seeds: the per-layer band is for MLPs, got model {config.model!r}")
    _check_out(args, check_writable)
    executor = _executor(args, default_workers=1 if n < 8 else None)
    started, last = time.monotonic(), [0.0]

    def progress(done, total):
        now = time.monotonic()
        if not args.quiet and (now - last[0] >= 1.0 or done == total):
            last[0] = now
            print(f"seeds: {done}/{total}, {now - started:.0f} s", file=stderr, flush=True)
    finished = False
    try:
        logs = seed_delta_norms(config, n, executor, progress=progress)
        finished = True
    finally:
        executor.close(wait=finished)
    text = seeds_csv(logs, config.seed)
    if args.out:
        from core.io.fileio import write_atomically
        write_atomically(args.out, text)
    else:
        sys.stdout.write(text)
    if not args.quiet:
        lo, med, hi = band(logs)
        fan = hanin_fan(config, med)
        print("layer  median  10%..90% of log10 ||dL/dz_l||" + ("  Hanin & Rolnick's 10%..90%" if fan else ""),
              file=stderr)
        for l in range(len(med)):
            extra = f"  {fan[0][l]:.3f}..{fan[1][l]:.3f}" if fan else ""
            print(f"{l + 1:>5}  {med[l]:.3f}  {lo[l]:.3f}..{hi[l]:.3f}{extra}", file=stderr)
    return 0
