"""What a snapshot costs the trainer, and what sending it to the window costs, by network size.

With the trainer in a process of its own (``--trainer process``) every snapshot is pickled, written
to a pipe, read and unpickled. This measures, for the snapshots a running trainer sends (PROGRESS,
with and without the spaced extras: prediction picture, chain rule), and the REBUILT one:

- build: the trainer's time to make the snapshot (``Runner._emit``, both modes pay it);
- pickle / unpickle: per snapshot (protocol 5), and its size;
- pipe: one snapshot through a real ``multiprocessing`` pipe to another process and an
  acknowledgement back (round trip, so both copies and both wake-ups are in it);

then, at 20/64/64, a real trainer process (``core.runtime.runner_process.TrainerProcess``) running with its
snapshots acknowledged as soon as they arrive, at 30 a second and at none: its steps per second of
its own CPU time against a bare ``Trainer`` loop's in this process (what sending snapshots costs a step).

No Qt. Medians of ``--rounds`` snapshots:

    .venv/bin/python benchmarks/bench_snapshots.py [--sizes 8/32/32,100/1024/1] [--rounds 30]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import statistics
import sys
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from core.runtime.setup import configure_process  # noqa: E402

configure_process()   # before NumPy loads: one BLAS thread (2 shared cores), the allocator tuned

from core import ExperimentConfig  # noqa: E402
from core.runtime.runner import Kind, Run, Runner, ThreadChannel  # noqa: E402


def echo(conn) -> None:
    """The other process: answer each snapshot with its step once it is unpickled."""
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        conn.send(message.step)


def snapshots(cfg: ExperimentConfig, rounds: int):
    """(seconds to build, snapshot) for the REBUILT snapshot and ``rounds`` PROGRESS ones while running."""
    sent = []
    channel = ThreadChannel(sent.append, lambda message, config: None)
    runner = Runner(channel, cfg)
    t0 = time.perf_counter()
    runner._start()
    built = [(time.perf_counter() - t0, sent[-1])]
    assert sent[-1].config == cfg, sent[-1].message   # not the defaults after a refusal
    runner._handle(Run(None))
    for _ in range(rounds):
        runner._train_one_batch()
        channel.drawn.set()
        runner._last_emit = 0.0
        t0 = time.perf_counter()
        runner._emit(Kind.PROGRESS)
        built.append((time.perf_counter() - t0, sent[-1]))
    return built


def measure(cfg: ExperimentConfig, rounds: int, conn) -> dict:
    built = snapshots(cfg, rounds)
    rows = {"rebuilt": built[:1], "progress": [b for b in built[1:] if b[1].boundary is None],
            "progress + picture": [b for b in built[1:] if b[1].boundary is not None]}
    out = {}
    for name, items in rows.items():
        if not items:
            continue
        build, dump, load, size, trip = [], [], [], [], []
        for seconds, snap in items:
            t0 = time.perf_counter()
            blob = pickle.dumps(snap, protocol=5)
            t1 = time.perf_counter()
            pickle.loads(blob)
            t2 = time.perf_counter()
            conn.send(snap)
            conn.recv()
            t3 = time.perf_counter()
            build.append(seconds)
            dump.append(t1 - t0)
            load.append(t2 - t1)
            trip.append(t3 - t2)
            size.append(len(blob))
        out[name] = (len(items), *(statistics.median(v) for v in (build, dump, load, trip, size)))
    return out


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_per_cpu_second(cfg: ExperimentConfig, seconds: float) -> float:
    from core import Trainer
    t = Trainer(cfg)
    t.step_batch()
    cpu, steps = time.thread_time(), 0
    while time.thread_time() - cpu < seconds:
        t.step_batch()
        steps += 1
    return steps / (time.thread_time() - cpu)


def process_per_cpu_second(cfg: ExperimentConfig, rate: float, seconds: float) -> tuple[float, float]:
    """Steps per CPU-second of a trainer process whose snapshots are acknowledged at once, and snapshots/s."""
    from core.runtime.runner_process import TrainerProcess
    proc = TrainerProcess(cfg)
    try:
        while (m := proc.receive(5.0)) is None or m[0] != "snapshot":
            pass
        proc.min_interval = 1.0 / rate if rate > 0 else 1e9
        proc.put(Run(None))
        deadline = time.perf_counter() + 1.0 + seconds
        start = None
        while time.perf_counter() < deadline:
            if start is None and time.perf_counter() > deadline - seconds:   # after a second's warm-up
                start, steps0, cpu0, snaps = time.perf_counter(), proc.step, cpu_seconds(proc.process.pid), 0
            m = proc.receive(0.05)
            if m is not None and m[0] == "snapshot":
                proc.drawn.set()
                snaps = snaps + 1 if start is not None else 0
        steps, cpu = proc.step - steps0, cpu_seconds(proc.process.pid) - cpu0
        return steps / cpu, snaps / (time.perf_counter() - start)
    finally:
        proc.shutdown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8/32/32,20/64/64,50/256/64,100/1024/1")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    other = ctx.Process(target=echo, args=(there,), daemon=True)
    other.start()
    here.send(types.SimpleNamespace(step=0))   # wait for it to start: not part of a round trip
    here.recv()
    print(f"load average {os.getloadavg()[0]:.2f}; medians over the snapshots of each kind")
    print(f"{'depth/width/batch':>18} {'snapshot':>20} {'n':>4} {'build':>9} {'pickle':>9} {'unpickle':>9} "
          f"{'pipe trip':>10} {'size':>10}")
    for size in args.sizes.split(","):
        depth, width, batch = (int(v) for v in size.split("/"))
        cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, epochs=1_000 if width >= 1024 else 1_000_000,
                               lr=10.0 if width >= 1024 else 0.1)
        for name, (n, build, dump, load, trip, nbytes) in measure(cfg, args.rounds, here).items():
            print(f"{size:>18} {name:>20} {n:>4} {1e3 * build:>7.2f}ms {1e3 * dump:>7.3f}ms {1e3 * load:>7.3f}ms "
                  f"{1e3 * trip:>8.3f}ms {nbytes / 1024:>8.1f}kB", flush=True)
    here.close()
    other.join(5)
    cfg = ExperimentConfig(depth=20, width=64, batch_size=64, epochs=1_000_000)
    for rate in (30.0, 0.0):
        bare = bare_per_cpu_second(cfg, 4.0)
        per_cpu, snaps = process_per_cpu_second(cfg, rate, 4.0)
        print(f"20/64/64 trainer process, {snaps:4.1f} snapshots/s: {per_cpu:.0f} steps per CPU-s, "
              f"a bare loop {bare:.0f}: {per_cpu / bare:.0%}", flush=True)


if __name__ == "__main__":
    main()
