"""Running the gallery: reproductions in parallel through the sweep executors (this process, local worker
processes, or a Dask cluster), a progress bar on stderr, the table on stdout and the CSV (``--out``).

    python main.py --list-reproductions
    python main.py --reproduce NAMES|all [--out FILE.csv] [--workers N] [--scheduler tcp://HOST:PORT]

Exit status 0 when every row passes, 1 when one fails (its numbers are printed and written all the same),
2 for bad input."""
from __future__ import annotations

import sys
import time
from typing import Iterator

from core.stories.reproductions import REPRODUCTIONS, CSV_COLUMNS, Reproduction, Row, run_reproduction

EXIT_FAIL = 1

_WORKER_SET_UP: list = []


def measure_in_worker(task: tuple) -> list:
    """(name, size) -> that reproduction's rows; one BLAS thread per worker (they run side by side)."""
    if not _WORKER_SET_UP:
        from core.runtime.setup import configure_process
        _WORKER_SET_UP.append(configure_process(blas_threads=1, force=True))
    name, size = task
    return run_reproduction(REPRODUCTIONS[name], size)


def run_all(reps: list[Reproduction], executor, size: str = "full", stop=None) -> Iterator[tuple]:
    """(index into ``reps``, its rows) as each reproduction finishes; the slowest are sent first."""
    order = sorted(range(len(reps)), key=lambda i: -COST.get(reps[i].name, 1.0))
    tasks = [(reps[i].name, size) for i in order]
    for j, rows in executor.map_unordered(measure_in_worker, tasks, stop):
        yield order[j], rows


# Seconds each took in the measured full run (docs/REPRODUCTIONS.md): the longest go first, so the workers
# finish together.
COST = {"sequence-length": 30.0, "schoenholz-2017": 80.0, "le-2015": 60.0, "pennington-2017": 15.0, "saxe-2014": 24.0,
        "he-2015": 33.0, "hanin-2018": 8.0, "glorot-2010": 6.0, "xiong-2020": 5.0, "noci-2022": 3.0}


def list_lines() -> list[str]:
    width = max(map(len, REPRODUCTIONS))
    return [f"{r.name:<{width}}  {r.paper}" for r in REPRODUCTIONS.values()]


def progress_bar(done: int, total: int, elapsed: float, width: int = 30) -> str:
    filled = int(round(width * done / total)) if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} reproductions, {elapsed:.0f} s"


def row_line(r: Row) -> str:
    verdict = "pass" if r.passed else "FAIL"
    published = "none (qualitative)" if r.published != r.published else f"{r.published:.4g}"
    return (f"{verdict}  {r.name:<16} {r.quantity}: published {published}, measured {r.measured:.4g}, "
            f"band [{r.low:.4g}, {r.high:.4g}]  ({r.paper})")


def csv_text(rows: list[Row]) -> str:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow(r.cells())
    return buf.getvalue()


def run_gallery(reps: list[Reproduction], executor, out_path: str | None, quiet: bool = False,
                stdout=None, stderr=None, size: str = "full") -> int:
    """Run ``reps``, print each row as its reproduction finishes, write the CSV in the gallery's order; 0 or 1."""
    from core.io.fileio import write_atomically
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    results: dict[int, list] = {}
    started = time.monotonic()
    if not quiet:
        print(progress_bar(0, len(reps), 0.0), file=stderr, flush=True)
    for i, rows in run_all(reps, executor, size):
        results[i] = rows
        for r in rows:
            print(row_line(r), file=stdout, flush=True)
        if not quiet:
            print(progress_bar(len(results), len(reps), time.monotonic() - started), file=stderr, flush=True)
    rows = [r for i in range(len(reps)) for r in results.get(i, [])]
    if out_path is not None:
        write_atomically(out_path, csv_text(rows))
    failed = [r for r in rows if not r.passed]
    if not quiet:
        print(f"{len(rows) - len(failed)}/{len(rows)} checks pass in {time.monotonic() - started:.0f} s"
              + (f"; failing: {', '.join(sorted({r.name for r in failed}))}" if failed else ""),
              file=stderr, flush=True)
    return EXIT_FAIL if failed else 0
