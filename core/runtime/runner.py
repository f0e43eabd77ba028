"""The trainer's loop for the window: a ``Session`` driven by commands, answered with snapshots.

No Qt: the same ``Runner`` runs in the window's worker thread (``ThreadChannel``) or in a process
of its own (``core.runtime.runner_process``). It talks to the window only through its channel: commands
(Configure, Rebuild, Step, Run) arrive in order, "running" and "stop" are flags it checks between
batches and between a step's layers, and results leave as ``Snapshot`` objects, at most
``max_rate`` a second while running and only once the window has drawn the previous one ("drawn"):
training never waits for drawing, and drawing never falls behind. How far apart snapshots are
(``min_interval``) and the pace are the window's, read by the runner before each batch.

    channel.running / channel.stop / channel.drawn   flags: is_set(), set(), clear()
    channel.get(timeout)       the next command; None after ``timeout`` (0: do not wait)
    channel.pending()          a command is waiting
    channel.sleep(seconds)     True when woken early (a command, pause, stop or a new pace)
    channel.pace, channel.min_interval   read each batch
    channel.step_aside()       after a snapshot while running: give the drawing thread the GIL (thread mode)
    channel.emit(snapshot), channel.fail(message, config), channel.publish_step(step)
"""
from __future__ import annotations

import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from core.config import ConfigError, ExperimentConfig
from core.data.datasets import SEQUENCE_DATASETS
from core.nn.losses import chance_loss
from core.training.session import Change, RunState, Session, divergence_message
from core.measure.theory import readout_phase
from core.nn.kinds import kind_of
from core.measure.through_time import from_step, measure as measure_through_time, pascanu_bound


# -- commands: window -> trainer ------------------------------------------------------------
@dataclass(frozen=True)
class Configure:
    """Set config fields; the session decides whether that rebuilds or applies."""
    fields: dict


@dataclass(frozen=True)
class Rebuild:
    """New networks from ``config``'s seed; ``compare``: (field, value) for B, None to end comparing;
    ``data``: a data set read from a file (core.data.userdata), None for the config's built-in one, ``...`` to keep
    the session's (the session holds it)."""
    config: ExperimentConfig
    compare: tuple | None = None
    data: object = ...


@dataclass(frozen=True)
class Step:
    epoch: bool = False   # a whole epoch, else one batch


@dataclass(frozen=True)
class Run:
    target_epoch: int | None = None   # None: the session's next target
    expected: object = None           # a recorded EpochHistory this run replays: checked when it ends


@dataclass(frozen=True)
class Batch:
    """Commands posted together (one user action): handled as if they had arrived at once."""
    commands: tuple


@dataclass(frozen=True)
class _Paused:
    pass


@dataclass(frozen=True)
class _Wake:
    pass


class Kind(str, Enum):
    """Why a snapshot was sent."""
    REBUILT = "rebuilt"
    APPLIED = "applied"
    BATCH = "batch"
    EPOCH = "epoch"
    PROGRESS = "progress"
    PAUSED = "paused"
    DONE = "done"
    DIVERGED = "diverged"


# -- updates: trainer -> window ---------------------------------------------------------------
@dataclass
class Snapshot:
    """What the window needs to draw. Every array in it is fresh: the trainer never changes it again.
    Everything in it pickles (it crosses a pipe when the trainer runs in its own process)."""

    generation: int                 # increases with every rebuild; older snapshots are stale
    kind: Kind
    state: RunState
    config: ExperimentConfig
    epoch: int
    step: int
    new_epochs: list = field(default_factory=list)   # EpochStats completed since the last snapshot
    last_batch: object = None                        # the latest BatchStats
    divergence: object = None
    steps_per_second: float = 0.0
    boundary: tuple | None = None                    # (xs, ys or None, predictions)
    data: tuple | None = None                        # (X, y) of all samples, sent with REBUILT
    n_layers: int = 0
    message: str = ""
    chain: object = None                             # core.measure.inspector.ChainRule of the latest batch
    phase: object = None                             # core.measure.theory.Phase of the config
    b: "RunView | None" = None                       # the comparison run, when comparing
    target_epoch: int = 0                            # where Run stops
    last_finite_batch: object = None                 # the latest BatchStats before a divergence
    initial_grad_norm: object = None                 # ||dL/dW|| per layer before any step (with REBUILT)
    batches_per_epoch: int = 0
    error: bool = False                              # the message reports a failure
    steps: dict | None = None                        # run A's StepHistory rows since the last snapshot
    chance_loss: float = float("nan")                # the loss of the best constant guess (core.nn.losses)
    initial_delta_norm: object = None                # ||dL/dz|| per layer before any step (with REBUILT)
    boundary_label: str = ""                         # with REBUILT: what the prediction's axes are (data set's words)
    class_names: tuple = ()                          # with REBUILT: one per class of a classification, else ()
    data_source: dict | None = None                  # with REBUILT: the data file's {"path", "sha256"}, or None
    through_time: tuple | None = None                # (A's, B's) core.measure.through_time.ThroughTime; None: not measured
    inside: object = None                            # core.measure.distributions.InsideView of run A (issue 12): sent
                                                     # as an InsideDelta, made whole by SnapshotAssembler


@dataclass
class RunView:
    """The second run of a comparison: what its bars and curves need."""

    label: str      # "B: activation = relu"
    label_a: str    # "A: activation = sigmoid"
    config: ExperimentConfig
    epoch: int
    step: int
    new_epochs: list
    last_batch: object
    divergence: object
    n_layers: int
    inside: object = None   # core.measure.distributions.InsideView of run B (sent as an InsideDelta, as Snapshot's)


# -- the distributions' history (issue 12) travels as what is new --------------------------------------
@dataclass
class InsideDelta:
    """What a run's ``core.measure.distributions.InsideHistory`` gained since the last snapshot: fresh copies of the new
    epoch records and of the current epoch's new steps. ``layout`` comes with a new recorder (the receiver starts
    over); ``new_epoch``: the current epoch's steps start over (its old ones became an epoch record)."""

    layout: object
    epochs: dict
    steps: dict
    new_epoch: bool


class InsideSender:
    """The trainer's side: one per run. A snapshot carries the history's new rows, not all of it (it grows with
    every epoch: megabytes after a few hundred, copied and, in process mode, pickled for every frame)."""

    def __init__(self):
        self._recorder, self._current, self._epochs, self._steps = None, None, 0, 0

    def delta(self, recorder) -> InsideDelta | None:
        if recorder is None:
            self._recorder = None
            return None
        h = recorder.history
        layout = None
        if recorder is not self._recorder:
            self._recorder, self._current, self._epochs, self._steps, layout = recorder, None, 0, 0, recorder.layout
        new_epoch = h.current is not self._current
        if new_epoch:
            self._current, self._steps = h.current, 0
        epochs, steps = _rows(h.epochs, self._epochs), _rows(h.current, self._steps)
        self._epochs, self._steps = h.epochs.n, h.current.n
        return InsideDelta(layout, epochs, steps, new_epoch)


def _rows(rows, start: int) -> dict:
    """Fresh copies of rows ``start:`` of a ``core.measure.distributions._Rows``: its fields, 'step' and 'epoch'."""
    out = {k: a[start:rows.n].copy() for k, a in rows.a.items()}
    out["step"], out["epoch"] = rows.step[start:rows.n].copy(), rows.epoch[start:rows.n].copy()
    return out


class _Growing:
    """Rows appended to arrays that double when full; ``view()`` hands out ``[:n]`` of them, which never change
    afterwards (later rows go beyond n, a full array is replaced rather than resized)."""

    def __init__(self):
        self.a, self.n = {}, 0

    def extend(self, rows: dict) -> None:
        k = len(rows["step"])
        for name, new in rows.items():
            old = self.a.get(name)
            if old is None or self.n + k > len(old):
                bigger = np.empty((max(16, 2 * (self.n + k)),) + new.shape[1:], dtype=new.dtype)
                if old is not None:
                    bigger[:self.n] = old[:self.n]
                self.a[name] = old = bigger
            old[self.n:self.n + k] = new
        self.n += k

    def view(self) -> dict:
        return {name: a[:self.n] for name, a in self.a.items()}


class InsideAssembler:
    """The window's side: turns each InsideDelta of a run back into the whole ``InsideView`` the views draw."""

    def __init__(self):
        self.layout, self.epochs, self.steps = None, _Growing(), _Growing()

    def view(self, delta: InsideDelta | None):
        from core.measure.distributions import InsideView
        if delta is None:
            return None
        if delta.layout is not None:
            self.layout, self.epochs = delta.layout, _Growing()
        if delta.new_epoch or delta.layout is not None:
            self.steps = _Growing()
        self.epochs.extend(delta.epochs)
        self.steps.extend(delta.steps)
        return InsideView(self.layout, self.epochs.view(), self.steps.view())


class SnapshotAssembler:
    """Called on the window's side on every snapshot, in order: the runs' InsideDeltas become InsideViews."""

    def __init__(self):
        self._a, self._b = InsideAssembler(), InsideAssembler()

    def __call__(self, snap: "Snapshot") -> "Snapshot":
        snap.inside = self._a.view(snap.inside)
        if snap.b is not None:
            snap.b.inside = self._b.view(snap.b.inside)
        return snap


def crash_message(error: BaseException) -> str:
    """What the window says when the trainer stopped on an error it did not expect."""
    if isinstance(error, MemoryError):
        return "The trainer ran out of memory: choose a smaller depth or width. The network was rebuilt from the seed."
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return (f"The trainer stopped on an internal error, {type(error).__name__}: {error}{at}. "
            "The network was rebuilt from the seed.")


class ThreadChannel:
    """The channel of a runner in a thread of the window's process: a queue and threading.Events.
    ``emit`` and ``fail`` are the worker's Qt signals' emit (queued to the GUI thread)."""

    shares_gil = True

    def __init__(self, emit, fail):
        self.emit, self.fail = emit, fail
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.running, self.stop, self.drawn = threading.Event(), threading.Event(), threading.Event()
        self.drawn.set()
        self.wake = threading.Event()   # ends a pacing sleep at once (a command, pause, stop, a new pace)
        self.pace = 0.0                 # steps per second while running; 0: as fast as it goes
        self.min_interval = 0.0         # seconds between snapshots while running
        self.step = 0                   # run A's steps, as of the latest batch (read from any thread)

    # the window's side
    def put(self, command) -> None:
        self.commands.put(command)
        self.wake.set()

    def wake_up(self) -> None:
        self.wake.set()

    # the runner's side
    def get(self, timeout: float):
        try:
            return self.commands.get(timeout=timeout) if timeout > 0 else self.commands.get_nowait()
        except queue.Empty:
            return None

    def pending(self) -> bool:
        return not self.commands.empty()

    def sleep(self, seconds: float) -> bool:
        self.wake.clear()
        return self.wake.wait(seconds)

    def step_aside(self) -> None:
        # Drawing and training share the GIL, and a frame drawn without contention costs a fraction
        # of one drawn against training: wait (briefly) until the window has drawn.
        self.drawn.wait(0.1)

    def publish_step(self, step: int) -> None:
        self.step = step


class Runner:
    """Owns the experiment's ``Session`` in the trainer's thread or process; see the module's docstring."""

    # A PAUSED snapshot leaves out a prediction picture that costs more than this (seconds): sent after it.
    QUICK_PICTURE = 0.05

    def __init__(self, channel, config: ExperimentConfig, max_rate: float = 30.0, generation: int = 0,
                 compare: tuple | None = None, data=None):
        """``generation``: of the last snapshot the window has (a restarted trainer continues from it);
        ``compare``, ``data``: as ``Rebuild``'s, for the first networks."""
        self.channel = channel
        self.max_rate = max_rate
        self._initial = (config, compare, data)
        self._generation = generation
        self.session: Session | None = None   # created and used only in the trainer's thread or process
        self._phase = None
        self._sent = {"A": 0, "B": 0}         # epochs of each run already sent
        self._expected = None                 # the recording being replayed, if any
        self._last_emit = 0.0
        self._rate_steps, self._rate_time = 0, time.perf_counter()
        self._steps_per_second = 0.0
        self._extras_due = 0.0
        self._sent_steps = 0                  # rows of run A's StepHistory already sent
        self._chance = float("nan")
        self._batch_started = 0.0
        self._grid_seconds = 0.0   # what the latest prediction picture cost
        self._grid_pending = False  # a picture left out of a PAUSED snapshot, sent once idle
        self._sending_picture = False  # that picture is being sent now
        self._picture_of = None     # (generation, step) of the weights the latest picture shows
        self._inside = {"A": InsideSender(), "B": InsideSender()}   # what each run's distributions gained

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """Until the stop flag: commands first, then (while running) one batch at a time. An error it did
        not expect (a bug, or memory running out in a step) is reported and the networks rebuilt from the
        seed: the window keeps working."""
        self._start()
        while not self.channel.stop.is_set():
            try:
                self._once()
            except Exception as e:   # noqa: BLE001 -- reported to the window, which keeps working
                self._recover(e)

    def _start(self) -> None:
        config, compare, data = self._initial
        try:
            self.session = Session(config, compare, data)
            self._rebuilt()
        except ConfigError as e:
            self.session = Session(ExperimentConfig())
            self._rebuilt(str(e))

    def _once(self) -> None:
        c = self.channel
        cmd = c.get(0.0 if c.running.is_set() else 0.25)   # idle: sleep until a command arrives; running: look
        if cmd is not None:
            for command in self._coalesced(cmd):
                if c.stop.is_set():
                    break
                self._handle_safely(command)
        elif c.running.is_set():
            self._train_one_batch()
        elif self._grid_pending and not c.pending():
            self._send_left_out_picture()

    def _recover(self, error: Exception) -> None:
        self.channel.running.clear()
        config = self.session.config if self.session is not None else ExperimentConfig()
        self.session = None
        try:
            self.session = Session(config)
        except Exception:   # noqa: BLE001 -- the config itself fails: fall back to the defaults
            self.session = Session(ExperimentConfig())
        self._rebuilt()
        self.channel.fail(crash_message(error), self.session.config)

    def _handle_safely(self, command) -> None:
        try:
            self._handle(command)
        except ConfigError as e:
            self._sync_running()
            self.channel.fail(str(e), self.session.config)
        except MemoryError:
            self.session.pause()
            self._sync_running()
            self.channel.fail("not enough memory for this network: choose a smaller depth or width",
                              self.session.config)

    def _coalesced(self, first) -> list:
        """``first`` and every command already waiting, in order, less rebuilds that the next command
        replaces at once: spinning the depth box from 10 to 60 builds one network, not fifty."""
        commands = [first]
        while (more := self.channel.get(0.0)) is not None:
            commands.append(more)
        commands = [c for item in commands for c in (item.commands if isinstance(item, Batch) else (item,))]
        merged: list = []
        for c in commands:
            if isinstance(c, Rebuild):  # builds from a whole config: earlier settings are in it
                while merged and isinstance(merged[-1], (Rebuild, Configure)):
                    dropped = merged.pop()
                    if isinstance(dropped, Rebuild) and dropped.data is not ... and c.data is ...:
                        c = Rebuild(c.config, c.compare, dropped.data)  # a data set chosen stays chosen
            elif isinstance(c, Configure) and merged and isinstance(merged[-1], Configure):
                c = Configure({**merged.pop().fields, **c.fields})
            merged.append(c)
        return merged

    def _handle(self, command) -> None:
        s, running = self.session, self.channel.running
        if isinstance(command, Rebuild):
            running.clear()
            s.rebuild(command.config, command.compare, command.data)
            self._rebuilt(s.notice)
        elif isinstance(command, Configure):
            names = ", ".join(command.fields)
            change = s.change(**command.fields)
            if change is Change.REBUILT:
                running.clear()
                self._rebuilt(s.notice or f"Network rebuilt ({names} changed): history cleared.")
            elif change is Change.APPLIED:
                self._phase = readout_phase(s.config)
                shown = ", ".join(f"{k} = {v}" for k, v in command.fields.items())
                self._emit(Kind.APPLIED, force=True, message=f"{shown}: applied to the running network.")
        elif isinstance(command, Step):
            if not self._refuse_if_diverged():
                s.step_epoch(self.channel.stop.is_set) if command.epoch else s.step_batch()
                self.channel.publish_step(s.a.step)
                self._emit(Kind.DIVERGED if s.a.diverged else Kind.EPOCH if command.epoch else Kind.BATCH,
                           force=True)
        elif isinstance(command, Run):
            if not self._refuse_if_diverged():
                s.run_to(command.target_epoch if command.target_epoch is not None else s.next_target())
                self._expected = command.expected
                self._rate_steps, self._rate_time = 0, time.perf_counter()
                running.set()
                self._emit(Kind.PROGRESS, force=True,
                           message="" if self._expected is not None else f"Running to epoch {s.target_epoch}.")
        elif isinstance(command, _Paused):
            s.pause()
            self._emit(Kind.PAUSED, force=True)

    def _sync_running(self) -> None:
        if self.session.state is not RunState.RUNNING:
            self.channel.running.clear()

    def _refuse_if_diverged(self) -> bool:
        refusal = self.session.refusal()
        if refusal:
            self._emit(Kind.DIVERGED, force=True, message=refusal)
        return bool(refusal)

    def _rebuilt(self, message: str = "") -> None:
        s = self.session
        self._phase = readout_phase(s.config)
        self._generation += 1
        self._sent = {"A": 0, "B": 0}
        self._sent_steps = 0
        self._expected = None
        self.channel.publish_step(s.a.step)
        d = s.a.data
        self._chance = chance_loss(d.task, d.y_train)
        data = (np.concatenate([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val]))
        self._emit(Kind.REBUILT, force=True, data=data, message=message,
                   initial=(s.a.gradient_norms(), s.b.gradient_norms() if s.b is not None else None),
                   initial_delta_norm=s.a.error_signal_norms(),
                   boundary_label="" if d.name in SEQUENCE_DATASETS or d.is_sequence else d.boundary_label,
                   class_names=d.class_names if d.task != "regression" else (), data_source=s.data_source)

    def _train_one_batch(self) -> None:
        c = self.channel
        if not c.running.is_set() or self.session.state is not RunState.RUNNING:
            return  # paused from the window: the _Paused command will tell the session
        pace = c.pace
        if pace > 0 and not self._wait_for_pace(pace):
            return
        self._batch_started = time.perf_counter()
        b = self.session.train_one_batch(self._interrupted)
        if b is None:
            return  # paused or stopped during the step, which was not taken
        self._rate_steps += 1
        c.publish_step(self.session.a.step)
        state = self.session.state
        if state is RunState.DIVERGED:
            c.running.clear()
            self._emit(Kind.DIVERGED, force=True)
        elif state is RunState.DONE and b.epoch_stats is not None:
            c.running.clear()
            self._emit(Kind.DONE, force=True)
        elif not c.running.is_set():
            return  # paused during the step's last phase: the PAUSED snapshot follows at once
        elif self._emit(Kind.PROGRESS, force=0 < pace <= self.max_rate and c.drawn.is_set()):
            c.step_aside()

    def _send_left_out_picture(self) -> None:
        """Idle after a pause whose snapshot left the prediction picture out: send it now."""
        if self.session.state is RunState.PAUSED:
            self._sending_picture = True
            try:
                self._emit(Kind.PAUSED, force=True)
            finally:
                self._sending_picture = False
        self._grid_pending = False

    def _interrupted(self) -> bool:
        """Asked between the layers of a step: has Pause or Stop been pressed?"""
        return not self.channel.running.is_set() or self.channel.stop.is_set()

    def _wait_for_pace(self, pace: float) -> bool:
        """Sleep until the next step is due at the set pace; False when woken by pause, stop or a new pace."""
        due = self._batch_started + 1.0 / pace - time.perf_counter()
        if due <= 0:
            return True
        return not self.channel.sleep(due) and self.channel.running.is_set()

    def _new_steps(self) -> dict:
        steps = self.session.a.steps
        rows = steps.rows(self._sent_steps)
        self._sent_steps = len(steps)
        return rows

    def _new_epochs(self, run: str) -> list:
        h = self.session.history(run)
        new = [h[i] for i in range(self._sent[run], len(h))]
        self._sent[run] = len(h)
        return new

    def _extras(self, now: float, force: bool, kind: Kind):
        """The prediction picture (a forward pass over a grid) is extra work: spaced to take ~10% of the time.
        The chain rule and, for a recurrent model, the chain through time are the latest step's own numbers:
        no pass of their own (before any step, one pass on the first batch)."""
        if not (force or now >= self._extras_due):
            return None, None, None
        t, tb = self.session.a, self.session.b
        started = time.perf_counter()
        chain = t.chain_rule() if not t.diverged else None
        through = None
        if "time_chain" in kind_of(t.config).views and not t.diverged:   # B's only when forced: its bars before a step
            through = (self._through_time(t), self._through_time(tb) if tb is not None and force else None)
        boundary = self._picture(t, kind)
        self._extras_due = now + 10 * (time.perf_counter() - started) + 0.2
        return boundary, chain, through

    @staticmethod
    def _through_time(t):
        """The chain through time of ``t``'s latest step (the numbers its time-step bars show), or measured on
        the first batch before any step."""
        if t.last_batch is not None:
            return from_step(t.last_batch, pascanu_bound(t.config, t.network))
        return measure_through_time(t)

    def _picture(self, t, kind: Kind):
        """The prediction picture, or None when the window keeps the one it has (the weights have not changed)
        or when it is costly and a pause waits for its snapshot (then it is sent right after)."""
        if (self._generation, t.step) == self._picture_of and not self._grid_pending:
            return None
        if kind is Kind.PAUSED and not self._sending_picture and self._grid_seconds > self.QUICK_PICTURE:
            self._grid_pending = True   # (also when a pause interrupted the picture being drawn while running)
            return None
        started = time.perf_counter()
        running = self.channel.running.is_set()
        boundary = t.prediction_grid(self._grid_resolution(), self._interrupted if running else None)
        self._grid_pending = boundary is None and running and self._interrupted()
        self._grid_seconds = time.perf_counter() - started
        self._picture_of = (self._generation, t.step) if boundary is not None else None
        return boundary

    def _b_view(self) -> RunView | None:
        s, tb = self.session, self.session.b
        if tb is None:
            return None
        return RunView(label=s.label("B"), label_a=s.label("A"), config=tb.config, epoch=tb.epoch, step=tb.step,
                       new_epochs=self._new_epochs("B"), last_batch=tb.last_batch, divergence=tb.divergence,
                       n_layers=tb.network.n_layers, inside=self._inside["B"].delta(tb.inside))

    def _emit(self, kind: Kind, force: bool = False, data=None, message: str = "", initial=None, **rebuilt) -> bool:
        """``rebuilt``: the Snapshot fields only a REBUILT snapshot carries (what the data set is)."""
        now, c = time.perf_counter(), self.channel
        if not force and (now - self._last_emit < c.min_interval or not c.drawn.is_set()):
            return False
        if now - self._rate_time >= 0.5:
            self._steps_per_second = self._rate_steps / (now - self._rate_time)
            self._rate_steps, self._rate_time = 0, now
        s, t = self.session, self.session.a
        message, error = self._message(kind, message)
        boundary, chain, through_time = self._extras(now, force, kind)
        snap = Snapshot(generation=self._generation, kind=kind, state=s.state, config=s.config,
                        epoch=t.epoch, step=t.step, new_epochs=self._new_epochs("A"), last_batch=t.last_batch,
                        divergence=t.divergence, steps_per_second=self._steps_per_second, boundary=boundary,
                        data=data, n_layers=t.network.n_layers, message=message, chain=chain, phase=self._phase,
                        b=self._b_view(), target_epoch=s.target_epoch, last_finite_batch=t.last_finite_batch,
                        initial_grad_norm=initial, batches_per_epoch=t.batches_per_epoch, error=error,
                        steps=self._new_steps(), chance_loss=self._chance,
                        inside=self._inside["A"].delta(t.inside), **rebuilt)
        snap.through_time = through_time
        self._last_emit = now
        c.drawn.clear()
        c.emit(snap)
        return True

    def _message(self, kind: Kind, message: str) -> tuple[str, bool]:
        """The snapshot's message and whether it is an error: a replay's verdict, a divergence, the end."""
        s = self.session
        if kind in (Kind.DONE, Kind.DIVERGED) and self._expected is not None:
            expected, self._expected = self._expected, None
            diffs = s.differences(expected)
            if not diffs:
                return f"Replayed {len(expected)} epochs: identical to the recorded history.", False
            return (f"Replayed {len(s.history())} epochs, but they differ from the recorded history in "
                    f"{', '.join(diffs[:4])}{' ...' if len(diffs) > 4 else ''} (recorded by another version, "
                    "or edited)."), True
        if kind is Kind.DIVERGED:
            return message or divergence_message(s.a.divergence), True
        if kind is Kind.DONE and not message:
            return f"Reached epoch {s.a.epoch}. Run continues for {s.config.epochs} more.", False
        return message, False

    def _grid_resolution(self) -> int:
        # Keep the grid's forward pass near 2e7 multiply-adds whatever the network's size.
        n_params = self.session.a.network.flat.size
        side = int((2e7 / max(n_params, 1)) ** 0.5)
        return max(12, min(80, side))
