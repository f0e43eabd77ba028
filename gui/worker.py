"""The trainer's thread.

The worker owns a ``core.Trainer`` and runs a loop in its own QThread. The window talks
to it only through thread-safe means: a command queue (rebuild, apply settings, step,
run) and an Event for pause and stop, checked between batches, because a queued slot
would never be delivered while the loop holds the thread. Results go back as
``Snapshot`` objects through a queued signal, at most ``max_rate`` times a second while
running, and only once the window has drawn the previous one: training never waits
for drawing, and drawing never falls behind.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from core import ConfigError, ExperimentConfig, Trainer
from core.compare import Comparison
from core.resources import check_fits
from core.theory import phase


@dataclass
class Snapshot:
    """What the window needs to draw. Every array in it is fresh: the trainer never changes it again."""

    generation: int                 # increases with every rebuild; older snapshots are stale
    kind: str  # "rebuilt", "applied", "batch", "epoch", "progress", "paused", "done", "diverged"
    state: str                      # "ready", "running", "paused", "done" or "diverged"
    config: ExperimentConfig
    epoch: int
    step: int
    new_epochs: list = field(default_factory=list)   # EpochStats completed since the last snapshot
    last_batch: object = None                        # the latest BatchStats
    divergence: object = None
    steps_per_second: float = 0.0
    boundary: tuple | None = None                    # (xs, ys or None, predictions)
    data: tuple | None = None                        # (X, y) of all samples, sent with "rebuilt"
    n_layers: int = 0
    message: str = ""
    chain: object = None                             # core.inspector.ChainRule of the latest batch
    phase: object = None                             # core.theory.Phase of the config
    b: "RunView | None" = None                       # the comparison run, when comparing
    target_epoch: int = 0                            # where Run stops
    last_finite_batch: object = None                 # the latest BatchStats before a divergence
    initial_grad_norm: object = None                 # ||dL/dW|| per layer before any step (with "rebuilt")


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


class TrainingWorker(QObject):
    snapshot = Signal(object)
    failed = Signal(str)

    # The GUI thread may use at most this share of the time: it shares the GIL with training.
    GUI_SHARE = 0.08

    def __init__(self, config: ExperimentConfig, max_rate: float = 30.0):
        super().__init__()
        # The GUI thread gets the GIL within 1 ms of asking, not the default 5 ms: a frame
        # makes hundreds of short Python calls, each of which would otherwise wait.
        sys.setswitchinterval(0.001)
        self.max_rate = max_rate
        self._min_interval = 1.0 / max_rate
        self._initial = config
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._drawn = threading.Event()    # the window has drawn the last snapshot
        self._drawn.set()
        self._generation = 0
        self.runs: dict[str, Trainer] = {}   # "A", and "B" while comparing
        self._compare: tuple | None = None   # (field, value) that B changes
        self._phase = None
        # Touched only by the worker thread once the loop runs.
        self._pending_epochs: list = []
        self._pending_b: list = []
        self._target_epoch = 0
        self._last_emit = 0.0
        self._rate_steps, self._rate_time = 0, time.perf_counter()
        self._steps_per_second = 0.0
        self._extras_due = 0.0

    # -- called from the GUI thread -------------------------------------------------------
    def post(self, command: str, argument=None) -> None:
        self._commands.put((command, argument))

    def pause(self) -> None:
        """Takes effect before the next batch."""
        self._running.clear()
        self.post("paused")

    def stop(self) -> None:
        self._running.clear()
        self._stop.set()
        self._commands.put(("wake", None))

    def acknowledge(self, gui_cpu_seconds: float = 0.0) -> None:
        """The window has drawn the last snapshot and spent ``gui_cpu_seconds`` since the one before:
        space the next snapshots so the GUI thread stays near GUI_SHARE of the time."""
        self._min_interval = min(1.0, max(1.0 / self.max_rate, gui_cpu_seconds / self.GUI_SHARE))
        self._drawn.set()

    @property
    def trainer(self) -> Trainer | None:
        return self.runs.get("A")

    @property
    def trainer_b(self) -> Trainer | None:
        return self.runs.get("B")

    @property
    def is_running(self) -> bool:
        return self._running.is_set()

    # -- the worker thread --------------------------------------------------------------
    @Slot()
    def loop(self) -> None:
        self._rebuild(self._initial)
        while not self._stop.is_set():
            try:
                # Idle: sleep until a command arrives. Running: only look.
                cmd = self._commands.get(block=not self._running.is_set(), timeout=0.25) \
                    if not self._running.is_set() else self._commands.get_nowait()
            except queue.Empty:
                cmd = None
            if cmd is not None:
                for command, argument in self._coalesced(cmd):
                    if self._stop.is_set():
                        break
                    try:
                        self._handle(command, argument)
                    except ConfigError as e:
                        self.failed.emit(str(e))
                    except MemoryError:
                        self._running.clear()
                        self.failed.emit("not enough memory for this network: choose a smaller depth or width")
                continue
            if self._running.is_set():
                self._train_one_batch()

    def _coalesced(self, first) -> list:
        """``first`` and every command already waiting, in order, less rebuilds that the next command
        replaces at once: spinning the depth box from 10 to 60 builds one network, not fifty."""
        commands = [first]
        while True:
            try:
                commands.append(self._commands.get_nowait())
            except queue.Empty:
                break
        return [c for c, nxt in zip(commands, commands[1:] + [None])
                if not (c[0] == "rebuild" and nxt is not None and nxt[0] in ("rebuild", "compare"))]

    def _handle(self, command: str, argument) -> None:
        if command == "rebuild":
            self._rebuild(argument)
        elif command == "compare":  # argument: ((field, value) or None, A's config)
            self._compare, config = argument
            self._rebuild(config)
        elif command == "apply":
            self.trainer.apply(**argument)
            if self.trainer_b is not None:  # B keeps its own value of the setting being compared
                self.trainer_b.apply(**{k: v for k, v in argument.items() if k != self._compare[0]})
            self._phase = phase(self.trainer.config)
            self._emit("applied", force=True)
        elif command == "step_batch":
            if not self._refuse_if_diverged():
                self._step_once()
                self._emit("diverged" if self.trainer.diverged else "batch", force=True)
        elif command == "step_epoch":
            if not self._refuse_if_diverged():
                while not self._stop.is_set():
                    if self._step_once().epoch_stats is not None:
                        break
                self._emit("diverged" if self.trainer.diverged else "epoch", force=True)
        elif command == "run":
            if not self._refuse_if_diverged():
                self._target_epoch = int(argument)
                self._rate_steps, self._rate_time = 0, time.perf_counter()
                self._running.set()
                self._emit("progress", force=True)
        elif command == "paused":
            self._emit("paused", force=True)

    def _refuse_if_diverged(self) -> bool:
        if self.trainer.diverged:
            self._emit("diverged", force=True, message=f"{self.trainer.divergence}: press Reset to start again")
            return True
        return False

    def _rebuild(self, config: ExperimentConfig) -> None:
        self._running.clear()
        check_fits(config)  # a refusal leaves the current networks in place
        self.runs = {}  # let the old networks go before allocating new ones
        message = ""
        if self._compare is not None:
            try:
                self.runs = Comparison(config, *self._compare).runs
            except ConfigError as e:
                self._compare = None
                message = f"{e}; comparison ended"
        if not self.runs:
            self.runs = {"A": Trainer(config)}
        self._phase = phase(config)
        self._generation += 1
        self._pending_epochs, self._pending_b = [], []
        self._target_epoch = 0
        d = self.trainer.data
        data = (np.concatenate([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val]))
        self._emit("rebuilt", force=True, data=data, message=message,
                   initial=(self.trainer.gradient_norms(),
                            self.trainer_b.gradient_norms() if self.trainer_b is not None else None))

    def _step_once(self):
        """One batch for A and, in lockstep, for B (unless B has diverged). Returns A's BatchStats."""
        b = self.trainer.step_batch()
        if b.epoch_stats is not None:
            self._pending_epochs.append(b.epoch_stats)
        tb = self.trainer_b
        if tb is not None and not tb.diverged:
            bb = tb.step_batch()
            if bb.epoch_stats is not None:
                self._pending_b.append(bb.epoch_stats)
        return b

    def _train_one_batch(self) -> None:
        t = self.trainer
        b = self._step_once()
        self._rate_steps += 1
        if b.diverged:
            self._running.clear()
            self._emit("diverged", force=True)
        elif t.epoch >= self._target_epoch and b.epoch_stats is not None:
            self._running.clear()
            self._emit("done", force=True)
        elif self._emit("progress"):
            # Step aside while the window draws: drawing and training share the GIL, and a
            # frame drawn without contention costs a fraction of one drawn against training.
            self._drawn.wait(0.1)

    def _state(self) -> str:
        t = self.trainer
        if t.diverged:
            return "diverged"
        if self._running.is_set():
            return "running"
        if t.step == 0:
            return "ready"
        return "done" if t.epoch >= self._target_epoch > 0 else "paused"

    def _emit(self, kind: str, force: bool = False, data=None, message: str = "", initial=None) -> bool:
        now = time.perf_counter()
        if not force and (now - self._last_emit < self._min_interval or not self._drawn.is_set()):
            return False
        if now - self._rate_time >= 0.5:
            self._steps_per_second = self._rate_steps / (now - self._rate_time)
            self._rate_steps, self._rate_time = 0, now
        t = self.trainer
        boundary = chain = None
        # The prediction picture (a forward pass over a grid) and the chain rule (a forward and
        # backward pass on the latest batch) are extra work: spaced to take ~10% of the time.
        if force or now >= self._extras_due:
            started = time.perf_counter()
            boundary = t.prediction_grid(self._grid_resolution())
            chain = t.chain_rule() if not t.diverged else None
            self._extras_due = now + 10 * (time.perf_counter() - started) + 0.2
        b_view = None
        if self.trainer_b is not None:
            tb, field = self.trainer_b, self._compare[0]
            b_view = RunView(label=f"B: {field} = {getattr(tb.config, field)}",
                             label_a=f"A: {field} = {getattr(t.config, field)}", config=tb.config, epoch=tb.epoch,
                             step=tb.step, new_epochs=self._pending_b, last_batch=tb.last_batch,
                             divergence=tb.divergence, n_layers=tb.network.n_layers)
        snap = Snapshot(generation=self._generation, kind=kind, state=self._state(), config=t.config,
                        epoch=t.epoch, step=t.step, new_epochs=self._pending_epochs, last_batch=t.last_batch,
                        divergence=t.divergence, steps_per_second=self._steps_per_second, boundary=boundary,
                        data=data, n_layers=t.network.n_layers, message=message, chain=chain, phase=self._phase,
                        b=b_view, target_epoch=self._target_epoch, last_finite_batch=t.last_finite_batch,
                        initial_grad_norm=initial)
        self._pending_epochs, self._pending_b = [], []
        self._last_emit = now
        self._drawn.clear()
        self.snapshot.emit(snap)
        return True

    def _grid_resolution(self) -> int:
        # Keep the grid's forward pass near 2e7 multiply-adds whatever the network's size.
        n_params = self.trainer.network.flat.size
        side = int((2e7 / max(n_params, 1)) ** 0.5)
        return max(12, min(80, side))
