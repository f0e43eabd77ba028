"""Sweep throughput: cells per second in this process and through the local executor, at initialisation
(--epochs 0) for the default network and for deep ones, and for short training runs. Prints one run's figures.

    python benchmarks/bench_sweep.py [WORKERS]
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

from core.config import ExperimentConfig  # noqa: E402
from core.sweep import LocalExecutor, SerialExecutor, make_plan, run_sweep  # noqa: E402


def rate(plan, executor) -> float:
    with tempfile.TemporaryDirectory() as d:
        started = time.perf_counter()
        try:
            run_sweep(plan, os.path.join(d, "s.csv"), executor, quiet=True)
        finally:
            executor.close()
        return plan.size / (time.perf_counter() - started)


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, OPENBLAS_CORETYPE "
          f"{os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
    for name, base, axes, init_only in [
            ("at initialisation, default network (depth 8, width 32)", ExperimentConfig(),
             ["init_gain=0.5:3:40", "seed=0:49:50"], True),
            ("at initialisation, depth 1..40, width 32", ExperimentConfig(), ["init_gain=0.5:3:50", "depth=1:40:40"], True),
            ("5 epochs of training, depth 8, width 32", ExperimentConfig(epochs=5), ["seed=0:39:40"], False)]:
        plan = make_plan(base, axes, init_only=init_only)
        serial = rate(plan, SerialExecutor())
        local = rate(plan, LocalExecutor(workers))
        print(f"{name}: {plan.size} cells; in-process {serial:.0f} cells/s, {workers} local workers "
              f"{local:.0f} cells/s ({local / serial:.2f}x, process start-up included)")


if __name__ == "__main__":
    main()
