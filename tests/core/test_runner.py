"""The window's trainer loop without Qt (core.runtime.runner), and the same loop in a process of its own
(core.runtime.runner_process): what crosses the pipe pickles whole, the child imports no Qt, a dead or stuck
child is noticed and ended, never waited for, and no process is left behind."""
import os
import pickle
import signal
import time
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from core import ExperimentConfig
from core.training.history import EpochHistory
from core.stories.presets import PRESETS
from core.runtime.runner import Batch, Configure, Kind, Rebuild, Run, Runner, Snapshot, Step, ThreadChannel, _Paused
from core.runtime.runner_process import TrainerProcess, ended_message
from core.training.session import RunState

SMALL = ExperimentConfig(depth=3, width=8, samples=200, batch_size=32, epochs=3)


def same(a, b, path="") -> None:
    """Assert two objects equal field by field, arrays exactly (NaN equal to NaN)."""
    assert type(a) is type(b), f"{path}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), path
    elif is_dataclass(a):
        for f in fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        same(vars(a), vars(b), path)
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


class Recorder(ThreadChannel):
    """A channel that keeps what the runner sends and never waits for a window."""

    def __init__(self):
        self.snapshots, self.failures = [], []
        super().__init__(self.snapshots.append, lambda message, config: self.failures.append((message, config)))

    def step_aside(self) -> None:
        self.drawn.set()


def drive(runner: Runner, channel: Recorder, *commands, batches: int = 0) -> None:
    for command in commands:
        for c in runner._coalesced(command):   # as the loop does: a Batch is its commands
            runner._handle_safely(c)
    for _ in range(batches):
        channel.drawn.set()
        runner._train_one_batch()


def test_every_snapshot_and_command_pickles_whole(tmp_path):
    """MLP, recurrent, a comparison, a divergence, a replay and a data file: each snapshot the runner sends comes
    back from pickle equal field by field, and so does each kind of command."""
    csv = tmp_path / "three.csv"
    rng = np.random.default_rng(0)
    csv.write_text("a,b,label\n" + "".join(f"{x:.3f},{y:.3f},{i % 3}\n"
                                             for i, (x, y) in enumerate(rng.normal(size=(60, 2)))))
    from core.data.userdata import load_for
    data = load_for(SMALL, str(csv))
    channel = Recorder()
    runner = Runner(channel, SMALL)
    runner._start()
    recorded = EpochHistory(SMALL.n_weight_layers)
    commands = [Step(epoch=True), Run(None, recorded), Batch((Configure({"lr": 0.05}), _Paused())),
                Rebuild(SMALL.replace(model="lstm", dataset="recall", seq_len=4, depth=1), None),
                Rebuild(SMALL, ("activation", "relu")), Rebuild(SMALL, None, data),
                Rebuild(PRESETS["exploding"].config(epochs=5), None, None)]
    drive(runner, channel, commands[0])
    drive(runner, channel, commands[1], batches=8)
    drive(runner, channel, commands[2])
    for rebuild in commands[3:]:
        drive(runner, channel, rebuild, Step(epoch=True), Run(None), batches=20)
    kinds = {s.kind for s in channel.snapshots}
    assert {Kind.REBUILT, Kind.EPOCH, Kind.PROGRESS, Kind.APPLIED, Kind.PAUSED, Kind.DIVERGED} <= kinds, kinds
    assert any(s.b is not None for s in channel.snapshots) and any(s.through_time for s in channel.snapshots)
    assert any(s.data_source is not None for s in channel.snapshots) and not channel.failures
    for snap in channel.snapshots:
        same(snap, pickle.loads(pickle.dumps(snap, protocol=pickle.HIGHEST_PROTOCOL)))
    for command in commands:
        same(command, pickle.loads(pickle.dumps(command)))


def test_the_distributions_travel_as_what_is_new_and_arrive_whole():
    """Each snapshot carries only the rows the runs' distribution histories gained; the window's side puts them
    together into views equal to the recorders' own, run A's and B's, across epochs, rebuilds and comparisons."""
    from core.runtime.runner import InsideDelta, SnapshotAssembler
    assemble, checked, sent = SnapshotAssembler(), [], []
    runner = None

    def emit(snap):
        sent.append(snap.inside)
        whole = assemble(snap)
        for got, trainer in ((whole.inside, runner.session.a), (whole.b and whole.b.inside, runner.session.b)):
            if trainer is not None and trainer.inside is not None:
                same(got, trainer.inside.view())
                checked.append(len(got))
    channel = Recorder()
    channel.emit = lambda snap: (channel.snapshots.append(snap), emit(snap))
    config = SMALL.replace(epochs=1000, samples=100, batch_size=10)   # 10 batches an epoch, every 12th recorded
    runner = Runner(channel, config)
    runner._start()
    drive(runner, channel, Run(None), batches=400)
    drive(runner, channel, Rebuild(config, ("activation", "relu")), Run(None), batches=250)
    drive(runner, channel, Configure({"depth": 4}), Step(epoch=True), Run(None), batches=150)
    assert max(checked) >= 20 and len(checked) > 500
    sent = [d for d in sent if d is not None]
    assert all(isinstance(d, InsideDelta) for d in sent)
    assert max(len(d.epochs["step"]) + len(d.steps["step"]) for d in sent[1:]) < max(checked) / 2   # not all of it


def test_an_unexpected_error_is_said_and_the_network_rebuilt(monkeypatch):
    channel = Recorder()
    runner = Runner(channel, SMALL)
    runner._start()
    from core.training.session import Session

    def broken(self, interrupt=None):
        raise RuntimeError("a bug")
    monkeypatch.setattr(Session, "train_one_batch", broken)
    channel.put(Run(None))
    runner._once()                 # the Run command
    with pytest.raises(RuntimeError):
        runner._once()             # the batch: run() would catch this
    assert channel.running.is_set()
    try:
        raise RuntimeError("a bug")
    except RuntimeError as e:
        runner._recover(e)
    message, config = channel.failures[-1]
    assert message.startswith("The trainer stopped on an internal error, RuntimeError: a bug (at test_runner.py:")
    assert config == SMALL and not channel.running.is_set()
    last = channel.snapshots[-1]
    assert last.kind is Kind.REBUILT and last.generation == 2 and last.state is RunState.READY


# -- the trainer in a process of its own ------------------------------------------------------------
def gone(pid: int) -> bool:
    """Neither running nor a zombie: /proc no longer lists it."""
    return not os.path.exists(f"/proc/{pid}")


def until(proc: TrainerProcess, want, timeout: float = 30.0):
    """Messages from the child until one satisfies ``want`` (returned)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = proc.receive(0.1)
        if message is not None and want(message):
            return message
    raise AssertionError("no such message from the trainer process")


def is_snapshot(kind):
    return lambda m: m[0] == "snapshot" and m[1].kind is kind


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="checks processes through /proc")


def test_a_trainer_process_steps_runs_pauses_and_ends_without_qt():
    config = SMALL.replace(epochs=100000)
    proc = TrainerProcess(config, generation=4)
    pid = proc.process.pid
    try:
        rebuilt = until(proc, is_snapshot(Kind.REBUILT))[1]
        assert proc.started and proc.qt_modules == []     # the child imported no Qt
        assert rebuilt.generation == 5 and rebuilt.config == config and rebuilt.state is RunState.READY
        proc.put(Step())
        batch = until(proc, is_snapshot(Kind.BATCH))[1]
        assert batch.step == 1 == proc.step and batch.last_batch.grad_norm.shape == (SMALL.n_weight_layers,)
        proc.drawn.set()
        proc.min_interval = 0.0
        proc.put(Run(None))
        until(proc, is_snapshot(Kind.PROGRESS))
        time.sleep(0.3)   # not acknowledged: nothing more is sent while the window draws
        assert proc.receive(0.0) is None and proc.step > 1 and proc.running.is_set()
        proc.running.clear()
        proc.put(_Paused())
        proc.drawn.set()
        paused = until(proc, is_snapshot(Kind.PAUSED))[1]
        assert paused.state is RunState.PAUSED and paused.step == proc.step
        proc.put(Configure({"depth": 0}))
        assert until(proc, lambda m: m[0] == "failed")[1].startswith("depth must be an integer")
    finally:
        assert proc.shutdown() == 0
    assert gone(pid)


def test_a_killed_trainer_process_is_noticed_not_waited_for():
    proc = TrainerProcess(SMALL)
    pid = proc.process.pid
    until(proc, is_snapshot(Kind.REBUILT))
    os.kill(pid, signal.SIGKILL)
    assert until(proc, lambda m: m[0] == "ended", timeout=10) == ("ended", -signal.SIGKILL)
    assert "SIGKILL" in ended_message(-signal.SIGKILL)
    proc.shutdown()
    assert gone(pid)


def test_a_stuck_trainer_process_is_killed_by_shutdown():
    proc = TrainerProcess(SMALL)
    pid = proc.process.pid
    until(proc, is_snapshot(Kind.REBUILT))
    os.kill(pid, signal.SIGSTOP)   # answers nothing, not even SIGTERM
    started = time.monotonic()
    assert proc.shutdown(grace=0.3) == -signal.SIGKILL
    assert time.monotonic() - started < 5 and gone(pid)


def test_a_trainer_process_whose_window_has_gone_ends_by_itself():
    proc = TrainerProcess(SMALL.replace(epochs=100000))
    pid = proc.process.pid
    until(proc, is_snapshot(Kind.REBUILT))
    proc.put(Run(None))
    until(proc, is_snapshot(Kind.PROGRESS))
    proc._outbox.put(None)        # as when the window's process dies: its ends of the pipes close
    proc._sender.join(5)
    proc._commands.close()
    proc.process.join(10)
    assert proc.process.exitcode == 0
    proc.shutdown()
    assert gone(pid)


def test_ctrl_c_while_the_trainer_process_starts_does_not_end_it():
    """A terminal's Ctrl+C reaches the whole process group, also a child still importing: it starts with SIGINT
    blocked and then ignores it."""
    proc = TrainerProcess(SMALL)
    pid = proc.process.pid
    for _ in range(20):    # during the child's start (its imports take a few hundred ms)
        os.kill(pid, signal.SIGINT)
        time.sleep(0.01)
    until(proc, is_snapshot(Kind.REBUILT))
    os.kill(pid, signal.SIGINT)
    proc.put(Step())
    until(proc, is_snapshot(Kind.BATCH))
    assert proc.shutdown() == 0 and gone(pid)


def test_the_trainer_modules_import_no_qt():
    import subprocess
    import sys
    code = ("import sys, core.runtime.runner, core.runtime.runner_process; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'pyqtgraph'))]; assert not bad, bad")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_chain_through_time_is_the_step_s_own_numbers():
    """The time-step bars draw the latest step's ||dL/dh_t||; the chain through time and the spectral readout
    sent beside them are that step's numbers too, not another pass at the weights after the update (which
    made the chain's factors disagree with the bars)."""
    cfg = ExperimentConfig(model="rnn", dataset="recall", seq_len=10, width=8, depth=1, samples=64, batch_size=16,
                           epochs=3, lr=0.5)
    channel = Recorder()
    runner = Runner(channel, cfg)
    runner._start()
    rebuilt = channel.snapshots[-1]
    assert rebuilt.through_time[0] is not None   # before any step: measured on the first batch
    drive(runner, channel, Step())
    snap = channel.snapshots[-1]
    own = snap.last_batch
    through = snap.through_time[0]
    np.testing.assert_array_equal(through.time_grad_norm, own.time_grad_norm)
    g = own.time_grad_norm
    assert [link.factor for link in through.chain.links[1:]] == pytest.approx(list(g[-2::-1] / g[:0:-1]), rel=1e-12)
    assert [r.norm for r in through.spectral] == pytest.approx(list(own.spectral_norm), rel=1e-12)
