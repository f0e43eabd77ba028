"""What a snapshot costs the trainer, and what sending it to the window costs, by network size.

With the trainer in a process of its own (``--trainer process``) every snapshot is pickled, written
to a pipe, read and unpickled. This measures, for the snapshots a running trainer sends (PROGRESS,
with and without the spaced extras: prediction picture, chain rule), and the REBUILT one:

- build: the trainer's time to make the snapshot (``Runner._emit``, both modes pay it);
- pickle / unpickle: per snapshot (protocol 5), and its size;
- pipe: one snapshot through a real ``multiprocessing`` pipe to another process and an
  acknowledgement back (round trip, so both copies and both wake-ups are in it);

then, per size of issue 25 (``--process-sizes``), a real trainer process (``core.runtime.runner_process.TrainerProcess``)
running with its snapshots acknowledged as soon as they arrive, at 30 a second and at none: its steps per second
of its own CPU time against a bare ``Trainer`` loop's in this process (what making and sending snapshots costs a
step, without any drawing), the three alternating in rounds.

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


def echo_drawn(snapshots, values) -> None:
    """The window's side of a trainer process, drawing in no time: read each snapshot, set the shared "drawn" flag."""
    from core.runtime.runner_process import DRAWN
    while True:
        try:
            snapshots.recv()
        except EOFError:
            return
        values[DRAWN] = 1.0


def step_shares(sizes: list, seconds: float, rate: float = 30.0) -> None:
    """Of a trainer's own time, the share its steps take, measured step by step in the loop of a trainer process
    (``Runner.run``'s body with a ``PipeChannel``: commands looked for, snapshots made, pickled and sent through a
    one-way pipe to another process, which sets the shared "drawn" flag as a window does once it has drawn): a
    busy machine slows steps and the rest alike, so this share is what the loop leaves to training. CPU: this
    thread's CPU time; wall: including any wait (a pipe full until the reader runs, preemption)."""
    from core.runtime import runner_process as rp
    widened = hasattr(rp, "widen_pipe")   # (a checkout from before issue 25 has neither)
    ctx = multiprocessing.get_context("spawn")
    print(f"the trainer process's loop: its time in steps, at most {rate:g} snapshots/s; {seconds:g} s per size")
    for size in sizes:
        depth, width, batch = (int(v) for v in size.split("/"))
        cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, epochs=1_000_000)
        values = rp.shared_block(ctx) if hasattr(rp, "shared_block") else ctx.RawArray("d", 8)   # (older checkouts)
        values[rp.MIN_INTERVAL], values[rp.DRAWN] = 1.0 / rate, 1.0
        cmd_r, cmd_w = ctx.Pipe(duplex=False)
        snap_r, snap_w = ctx.Pipe(duplex=False)
        if widened:
            rp.widen_pipe(snap_w)
        other = ctx.Process(target=echo_drawn, args=(snap_r, values), daemon=True)
        other.start()
        channel = rp.PipeChannel(cmd_r, snap_w, values)
        runner = Runner(channel, cfg)
        runner._start()
        runner._handle(Run(None))
        spent = {"cpu": 0.0, "wall": 0.0, "snaps": 0}
        session_step, send = runner.session.train_one_batch, channel.emit

        def timed_step(interrupt=None):
            c, w = time.thread_time(), time.perf_counter()
            try:
                return session_step(interrupt)
            finally:
                spent["cpu"] += time.thread_time() - c
                spent["wall"] += time.perf_counter() - w

        def counted(snap):
            spent["snaps"] += 1
            send(snap)
        runner.session.train_one_batch, channel.emit = timed_step, counted
        start, deadline = None, time.perf_counter() + 0.5 + seconds
        while time.perf_counter() < deadline:
            if start is None and time.perf_counter() > deadline - seconds:   # after a warm-up
                start, cpu0 = time.perf_counter(), time.thread_time()
                spent.update(cpu=0.0, wall=0.0, snaps=0)
            runner._once()
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - start
        snap_w.close()
        other.join(5)
        for conn in (cmd_r, cmd_w, snap_r):
            conn.close()
        print(f"{size:>18} {spent['snaps'] / wall:5.1f} snapshots/s: steps take {spent['cpu'] / cpu:.1%} of its CPU "
              f"time, {spent['wall'] / wall:.1%} of its wall time (pipe {'widened' if widened else 'default'})",
              flush=True)


class Bare:
    """A bare Trainer loop, kept warm between rounds."""

    def __init__(self, cfg: ExperimentConfig):
        from core import Trainer
        self.t = Trainer(cfg)
        self.t.step_batch()

    def per_cpu_second(self, seconds: float) -> float:
        cpu, steps = time.thread_time(), 0
        while time.thread_time() - cpu < seconds:
            self.t.step_batch()
            steps += 1
        return steps / (time.thread_time() - cpu)


class Child:
    """A trainer process whose snapshots are acknowledged as soon as they arrive (a window that draws in no time),
    at ``rate`` a second (0: none while running), run in segments."""

    def __init__(self, cfg: ExperimentConfig, rate: float):
        from core.runtime.runner_process import TrainerProcess
        self.proc = TrainerProcess(cfg)
        while (m := self.proc.receive(10.0)) is None or m[0] != "snapshot":
            pass
        self.proc.min_interval = 1.0 / rate if rate > 0 else 1e9

    def segment(self, seconds: float) -> tuple[float, float]:
        """Steps per CPU-second and snapshots per second over ``seconds`` of running (after a warm-up), then paused."""
        from core.runtime.messages import _Paused
        proc = self.proc
        proc.put(Run(None))
        deadline, start = time.perf_counter() + 0.5 + seconds, None
        while time.perf_counter() < deadline:
            if start is None and time.perf_counter() > deadline - seconds:   # after the warm-up
                start, steps0, cpu0, snaps = time.perf_counter(), proc.step, cpu_seconds(proc.process.pid), 0
            m = proc.receive(0.05)
            if m is not None and m[0] == "snapshot":
                proc.drawn.set()
                snaps = snaps + 1 if start is not None else 0
        steps, cpu, wall = proc.step - steps0, cpu_seconds(proc.process.pid) - cpu0, time.perf_counter() - start
        proc.running.clear()
        proc.put(_Paused())
        while (m := proc.receive(2.0)) is not None and not (m[0] == "snapshot" and m[1].kind == Kind.PAUSED):
            proc.drawn.set()
        proc.drawn.set()
        return steps / max(cpu, 1e-9), snaps / wall

    def close(self) -> None:
        self.proc.shutdown()


def process_costs(sizes: list, seconds: float, rounds: int) -> None:
    """What sending snapshots costs a trainer process's step, per size: its steps per CPU-second at 30 snapshots a
    second and at none, against a bare loop's in this process; the three alternate in ``rounds`` rounds."""
    print(f"trainer process, snapshots acknowledged at once, against a bare loop (steps per CPU-s); {rounds} rounds of "
          f"{seconds:g} s alternating; median (range)")
    for size in sizes:
        depth, width, batch = (int(v) for v in size.split("/"))
        cfg = ExperimentConfig(depth=depth, width=width, batch_size=batch, epochs=1_000_000)
        bare, at30, at0 = Bare(cfg), Child(cfg, 30.0), Child(cfg, 0.0)
        r30, r0, fps = [], [], []
        try:
            for _ in range(rounds):
                b1 = bare.per_cpu_second(seconds / 2)
                c30, f30 = at30.segment(seconds)
                c0, _ = at0.segment(seconds)
                b = (b1 + bare.per_cpu_second(seconds / 2)) / 2
                r30.append(c30 / b)
                r0.append(c0 / b)
                fps.append(f30)
        finally:
            at30.close()
            at0.close()
        med = statistics.median
        print(f"{size:>18} {med(fps):5.1f} snapshots/s: {med(r30):.0%} ({min(r30):.0%} – {max(r30):.0%});  "
              f"none: {med(r0):.0%} ({min(r0):.0%} – {max(r0):.0%})", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8/32/32,20/64/64,50/256/64,100/1024/1")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--process-sizes", default="8/32/32,20/32/32,20/64/64,50/256/64",
                    help="sizes whose trainer process is timed against a bare loop (last section)")
    ap.add_argument("--process-rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0, help="of each segment of the last section")
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
    step_shares(args.process_sizes.split(","), 2 * args.seconds)
    if args.process_rounds > 0:
        process_costs(args.process_sizes.split(","), args.seconds, args.process_rounds)

if __name__ == "__main__":
    main()
