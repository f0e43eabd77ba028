"""What the window's trainer loop costs training (issue 25, core.runtime.runner / snapshots): the costly extras (the
prediction picture, the Jacobian's spectrum) are spaced to take EXTRAS_SHARE of the time, the cheap chain rule keeps
its own rhythm, and a short step is not asked about Pause between its layers (a long one still is)."""
import time

from core import ExperimentConfig
from core.runtime.runner import Kind, Run, Runner, ThreadChannel
from core.runtime.snapshots import SnapshotMaker

SMALL = ExperimentConfig(depth=3, width=8, samples=200, batch_size=32, epochs=1000)


class Instant(ThreadChannel):
    """Every snapshot is drawn at once; snapshots kept."""

    def __init__(self):
        self.snapshots = []
        super().__init__(self._keep, lambda message, config: None)

    def _keep(self, snap):
        self.snapshots.append(snap)
        self.drawn.set()


def running(config=SMALL):
    channel = Instant()
    runner = Runner(channel, config)
    runner._start()
    runner._handle(Run(None))
    return runner, channel


def test_the_costly_extras_are_spaced_to_their_share_of_the_time(monkeypatch):
    runner, channel = running()
    cost = 0.02

    def slow_picture(t, kind):
        time.sleep(cost)
        return ("picture", t.step)
    monkeypatch.setattr(runner, "_picture", slow_picture)
    runner._train_one_batch()
    now = time.perf_counter()
    runner._emit(Kind.PROGRESS, force=True)
    assert channel.snapshots[-1].boundary == ("picture", runner.session.a.step)
    spacing = runner._costly_due - now
    least = cost * (1 / SnapshotMaker.EXTRAS_SHARE - 1) + 0.2
    assert least <= spacing < 30, spacing   # at least 1/EXTRAS_SHARE - 1 times its cost (the old 10x gave 0.4 s)
    # not due: the next unforced snapshots carry no picture, but the chain rule when its own (cheap) time comes
    runner._extras_due = runner._last_emit = 0.0
    n = len(channel.snapshots)
    runner._train_one_batch()            # sends its PROGRESS snapshot (drawn at once, no spacing)
    assert len(channel.snapshots) == n + 1
    snap = channel.snapshots[-1]
    assert snap.boundary is None and snap.chain is not None and snap.step == runner.session.a.step
    # due again (its time comes with the chain rule's): the picture of the latest weights
    runner._costly_due = runner._extras_due = runner._last_emit = 0.0
    runner._train_one_batch()
    assert len(channel.snapshots) == n + 2
    assert channel.snapshots[-1].boundary == ("picture", runner.session.a.step)


def test_a_pause_or_a_step_sends_the_picture_at_once_whatever_its_spacing():
    runner, channel = running()
    runner._train_one_batch()
    runner._costly_due = runner._extras_due = time.perf_counter() + 1e6   # neither due for a long while
    runner._emit(Kind.PAUSED, force=True)
    snap = channel.snapshots[-1]
    assert snap.boundary is not None and snap.chain is not None


def test_short_steps_are_not_asked_between_layers_long_ones_are(monkeypatch):
    monkeypatch.setattr(Runner, "CHECK_LAYERS_AFTER", 1.0)   # "short" whatever this machine's load does to a step
    runner, _ = running()
    asked = []
    real = runner.session.train_one_batch

    def watched(interrupt=None):
        asked.append(interrupt is not None)
        return real(interrupt)
    monkeypatch.setattr(runner.session, "train_one_batch", watched)
    runner._train_one_batch()            # the first step of new networks: its length unknown, asked
    runner._train_one_batch()            # a step of this size takes far less than CHECK_LAYERS_AFTER (here 1 s)
    assert asked == [True, False]
    assert runner._step_seconds < Runner.CHECK_LAYERS_AFTER
    runner._step_seconds = 2 * Runner.CHECK_LAYERS_AFTER   # as after a long step
    runner._train_one_batch()
    assert asked[-1] is True


def test_a_rebuild_asks_the_first_step_of_the_new_networks_again(monkeypatch):
    monkeypatch.setattr(Runner, "CHECK_LAYERS_AFTER", 1.0)
    runner, _ = running()
    runner._train_one_batch()
    runner._train_one_batch()
    assert runner._step_seconds < Runner.CHECK_LAYERS_AFTER
    runner._rebuilt()
    assert runner._step_seconds == float("inf")


def test_a_pause_during_a_short_step_still_leaves_it_untaken_or_whole():
    """Without the questions between layers, Pause is seen before the next step: nothing trains after it."""
    runner, channel = running()
    for _ in range(3):
        runner._train_one_batch()
    step = runner.session.a.step
    channel.running.clear()              # Pause pressed
    runner._train_one_batch()
    assert runner.session.a.step == step


def test_the_snapshot_pipe_holds_a_large_snapshot_without_a_reader():
    """A snapshot of a fast network (tens of steps and their distribution records, 40 - 150 kB) is sent without
    waiting for the window's process to read it: the pipe holds PIPE_BYTES (a default pipe holds 64 kB)."""
    import fcntl
    import multiprocessing
    import threading
    import numpy as np
    import pytest
    from core.runtime.runner_process import PIPE_BYTES, widen_pipe
    if not hasattr(fcntl, "F_SETPIPE_SZ"):
        pytest.skip("no F_SETPIPE_SZ here")
    with open("/proc/sys/fs/pipe-max-size") as fh:
        if int(fh.read()) < PIPE_BYTES:
            pytest.skip("this system's pipe-max-size is below PIPE_BYTES")
    snapshot_like = {"inside": np.random.default_rng(0).random(150_000 // 8)}   # 150 kB
    for widen, sent_at_once in ((False, False), (True, True)):
        reader, writer = multiprocessing.get_context("spawn").Pipe(duplex=False)
        if widen:
            assert widen_pipe(writer) >= PIPE_BYTES
        done = threading.Event()
        sender = threading.Thread(target=lambda: (writer.send(snapshot_like), done.set()), daemon=True)
        sender.start()
        assert done.wait(5.0 if sent_at_once else 1.0) is sent_at_once   # nobody reads: a default pipe makes it wait
        got = reader.recv()                      # (and then lets it go)
        sender.join(5.0)
        assert np.array_equal(got["inside"], snapshot_like["inside"]) and not sender.is_alive()
        reader.close()
        writer.close()


def test_a_trainer_process_gets_the_wide_pipe():
    import fcntl
    import pytest
    from core.runtime.runner_process import PIPE_BYTES, TrainerProcess
    if not hasattr(fcntl, "F_SETPIPE_SZ"):
        pytest.skip("no F_SETPIPE_SZ here")
    proc = TrainerProcess(SMALL)
    try:
        assert proc.pipe_bytes >= PIPE_BYTES
        assert fcntl.fcntl(proc._results.fileno(), fcntl.F_GETPIPE_SZ) >= PIPE_BYTES
    finally:
        assert proc.shutdown() is not None


class CountingConn:
    """A command pipe's reading end that counts how often it is asked."""

    def __init__(self, conn):
        self.conn, self.polls = conn, 0

    def poll(self, timeout=0.0):
        self.polls += 1
        return self.conn.poll(timeout)

    def recv(self):
        return self.conn.recv()


def test_a_running_trainer_process_looks_at_its_command_pipe_only_when_a_command_was_sent():
    """No system call per step for commands: the window counts each command it sends (SENT in shared memory),
    the child looks at the pipe when that count grew, and every LOOK_EVERY seconds (to notice a window that went)."""
    import multiprocessing
    from core.runtime.messages import _Wake
    from core.runtime.runner_process import SENT, PipeChannel, shared_block
    ctx = multiprocessing.get_context("spawn")
    values = shared_block(ctx)
    reader, writer = ctx.Pipe(duplex=False)
    results_r, results_w = ctx.Pipe(duplex=False)
    commands = CountingConn(reader)
    channel = PipeChannel(commands, results_w, values)
    channel.LOOK_EVERY = 1e6
    assert channel.get(0.0) is None            # the first look (nothing there)
    polls = commands.polls
    writer.send(_Wake())                       # in the pipe, but not yet counted by the sender
    for _ in range(1000):
        assert channel.get(0.0) is None
    assert commands.polls == polls             # not one system call for a thousand steps
    values[SENT] += 1                          # the window's sender thread counts it after sending
    assert channel.get(0.0) == _Wake()
    assert channel.get(0.0) is None and commands.polls == polls + 1
    assert channel.get(0.25) is None           # waiting (idle) always looks
    writer.send(_Wake())
    assert channel.get(0.25) == _Wake()        # ... and counts what it took
    values[SENT] += 1
    polls = commands.polls
    assert channel.get(0.0) is None and commands.polls == polls
    channel.LOOK_EVERY, channel._next_look = 0.05, 0.0
    writer.close()                             # the window's process went away
    time.sleep(0.06)
    assert channel.get(0.0) is None and channel.stop.is_set()
    for conn in (reader, results_r, results_w):
        conn.close()


def test_the_trainer_process_publishes_its_cpu_time_every_few_milliseconds_not_every_step():
    import multiprocessing
    from core.runtime.runner_process import CPU, STEP, PipeChannel, shared_block
    ctx = multiprocessing.get_context("spawn")
    values = shared_block(ctx)
    channel = PipeChannel(None, None, values)
    channel.CPU_EVERY = 60.0   # (2 ms in use: a loaded machine may pause this test longer between two calls)
    channel.publish_step(1)
    first = values[CPU]
    assert first > 0 and values[STEP] == 1
    channel.publish_step(2)
    assert values[STEP] == 2 and values[CPU] == first   # within CPU_EVERY: the same reading
    channel._next_cpu = time.perf_counter()   # CPU_EVERY has passed
    busy = time.process_time() + 0.01
    while time.process_time() < busy:
        pass
    channel.publish_step(3)
    assert values[STEP] == 3 and values[CPU] > first


def test_a_running_trainer_makes_only_the_costly_extras_the_window_shows():
    """Issue 25, snapshots sized to what is drawn: the prediction picture and the Jacobian's spectrum are made
    while running only when the window shows them (channel.shown), at once when one comes into sight; a forced
    snapshot (a pause, a step) makes all of them whatever is shown."""
    from core.runtime.messages import SHOWN_ALL, SHOWN_JACOBIAN, SHOWN_PICTURE
    runner, channel = running()

    def progress() -> object:
        runner._costly_due = runner._extras_due = runner._last_emit = 0.0   # due: only what is shown decides
        n = len(channel.snapshots)
        runner._train_one_batch()
        assert len(channel.snapshots) == n + 1
        return channel.snapshots[-1]
    channel.shown = 0                       # the Inside page in front: neither can be seen
    snap = progress()
    assert snap.boundary is None and snap.jacobian is None
    channel.shown = SHOWN_PICTURE           # the gradients page, its Prediction tab in front
    snap = progress()
    assert snap.boundary is not None and snap.jacobian is None
    channel.shown = SHOWN_PICTURE | SHOWN_JACOBIAN
    runner._costly_due = runner._extras_due = time.perf_counter() + 60   # not due for a minute...
    runner._last_emit = 0.0
    runner._train_one_batch()
    assert channel.snapshots[-1].jacobian is not None   # ...but the Jacobian came into sight: made now
    channel.shown = 0
    snap = progress()                        # hidden again: a step whose picture was not made
    assert snap.boundary is None and snap.jacobian is None
    runner._emit(Kind.PAUSED, force=True)    # the pause's snapshot: the picture and spectrum of this step
    assert channel.snapshots[-1].boundary is not None and channel.snapshots[-1].jacobian is not None
    assert SHOWN_ALL == SHOWN_PICTURE | SHOWN_JACOBIAN and ThreadChannel(None, None).shown == SHOWN_ALL


def test_a_snapshot_carries_only_the_step_rows_the_window_keeps():
    """The window's StepHistory keeps no per-step ||dL/dz|| (the bars read the latest batch's): the rows a snapshot
    carries leave them out, while the trainer's own history keeps them for scripts."""
    runner, channel = running()
    runner._last_emit = 0.0
    runner._train_one_batch()
    rows = channel.snapshots[-1].steps
    assert "delta_norms" not in rows and len(rows["step"]) >= 1
    assert runner.session.a.steps.delta_norms.shape == (runner.session.a.step, runner.session.a.network.n_layers)
