"""Time reading a large CSV data file with core.data.userdata (parse, hash, split, standardise).

Writes a ~100 MB file of random rows (5 features, a 3-class label) to a temporary folder,
then loads it and prints MB/s. The target: 100 MB within seconds.

    .venv/bin/python benchmarks/bench_userdata.py [--mb 100]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

import numpy as np  # noqa: E402

from core.data.userdata import load_csv  # noqa: E402


def write_file(path: str, megabytes: float) -> int:
    rng = np.random.default_rng(0)
    rows = 0
    with open(path, "w") as fh:
        fh.write("f1,f2,f3,f4,f5,label\n")
        while fh.tell() < megabytes * 1e6:
            block = np.column_stack([rng.standard_normal((100_000, 5)), rng.integers(0, 3, 100_000)])
            np.savetxt(fh, block, delimiter=",", fmt=["%.9g"] * 5 + ["%d"])
            rows += len(block)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.csv")
        rows = write_file(path, args.mb)
        size = os.path.getsize(path) / 1e6
        t0 = time.perf_counter()
        data = load_csv(path)
        elapsed = time.perf_counter() - t0
    print(f"{size:.0f} MB, {rows} rows x 6 columns: loaded in {elapsed:.2f} s ({size / elapsed:.0f} MB/s); "
          f"task {data.task}, {data.n_classes} classes, {len(data.y_train)} training rows")


if __name__ == "__main__":
    main()
