"""Peak memory of ``--out`` against the size of the file it writes.

``--out`` is written as epochs complete, so the output text is never held in memory. Runs the
command line at two lengths (the second 4x the first) and prints each run's file size, peak RSS,
and how much the peak grew per MiB of output. What still grows is the trainer's recorded history
(7 float64 numbers per layer per epoch, about a fifth of the text's size). ``--root`` measures
another checkout of the project (e.g. one that held the whole output in memory) the same way.

    .venv/bin/python benchmarks/bench_out_memory.py [--epochs 800] [--root /path/to/checkout]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def peak_of_run(root: str, epochs: int, out: str) -> int:
    """Peak RSS (bytes) of one headless run in a child process; each child is measured alone."""
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    cmd = [sys.executable, "main.py", "--headless", "--quiet", "--depth", "100", "--width", "1", "--samples", "10",
           "--epochs", str(epochs), "--out", out]
    p = subprocess.run([sys.executable, "-c", code, *cmd], cwd=root, check=True, capture_output=True, text=True)
    return int(p.stdout) * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=800)
    ap.add_argument("--root", default=ROOT)
    args = ap.parse_args()
    n = args.epochs
    peaks, sizes = [], []
    with tempfile.TemporaryDirectory() as folder:
        for epochs in (n, 4 * n):
            out = os.path.join(folder, f"run{epochs}.jsonl")
            peaks.append(peak_of_run(args.root, epochs, out))
            sizes.append(os.path.getsize(out))
            print(f"{epochs:>7} epochs: file {os.path.getsize(out) / 2**20:7.1f} MiB, "
                  f"peak RSS {peaks[-1] / 2**20:6.1f} MiB")
    print(f"{os.path.abspath(args.root)}: peak grew {(peaks[1] - peaks[0]) / (sizes[1] - sizes[0]):.2f} MiB "
          "per MiB of output")


if __name__ == "__main__":
    main()
