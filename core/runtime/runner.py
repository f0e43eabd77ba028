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

The parts: the commands and snapshots (``core.runtime.messages``), the thread's channel
(``core.runtime.channel``), how a snapshot is made (``core.runtime.snapshots``) and how the distributions'
history travels (``core.runtime.inside_delta``). Their names are importable from here too.
"""
from __future__ import annotations

import time
import traceback

import numpy as np

from core.config import ConfigError, ExperimentConfig
from core.data.datasets import SEQUENCE_DATASETS
from core.measure.theory import readout_phase
from core.nn.losses import chance_loss
from core.runtime.channel import ThreadChannel
from core.runtime.rewind_delta import RewindSender   # issue 21
from core.runtime.inside_delta import InsideAssembler, InsideDelta, InsideSender, SnapshotAssembler
from core.runtime.messages import (SHOWN_ALL, Batch, Configure, Kind, Rebuild, Run, RunView, Snapshot, Step, _Paused,
                                   _Wake)
from core.runtime.snapshots import SnapshotMaker
from core.training.session import Change, RunState, Session

__all__ = ["Batch", "Configure", "InsideAssembler", "InsideDelta", "InsideSender", "Kind", "Rebuild", "Run",
           "RunView", "Runner", "Snapshot", "SnapshotAssembler", "Step", "ThreadChannel", "crash_message",
           "_Paused", "_Wake"]   # the window posts _Paused and _Wake (gui.bridge.worker)


def crash_message(error: BaseException) -> str:
    """What the window says when the trainer stopped on an error it did not expect."""
    if isinstance(error, MemoryError):
        return "The trainer ran out of memory: choose a smaller depth or width. The network was rebuilt from the seed."
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return (f"The trainer stopped on an internal error, {type(error).__name__}: {error}{at}. "
            "The network was rebuilt from the seed.")


class Runner(SnapshotMaker):
    """Owns the experiment's ``Session`` in the trainer's thread or process; see the module's docstring.
    Its snapshots are made by ``SnapshotMaker``'s methods, from the state set here."""

    # Steps shorter than this (seconds) are not interrupted between their layers: a pause waits for the step's end.
    CHECK_LAYERS_AFTER = 0.01

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
        self._costly_due = 0.0                # the prediction picture's and the Jacobian's (core.runtime.snapshots)
        self._shown = SHOWN_ALL               # the costly extras the window showed at the last snapshot
        self._sent_steps = 0                  # rows of run A's StepHistory already sent
        self._chance = float("nan")
        self._batch_started = 0.0
        self._step_seconds = float("inf")   # the latest step's duration (inf: none yet with these networks)
        self._grid_seconds = 0.0   # what the latest prediction picture cost
        self._grid_pending = False  # a picture left out of a PAUSED snapshot, sent once idle
        self._sending_picture = False  # that picture is being sent now
        self._picture_of = None     # (generation, step) of the weights the latest picture shows
        self._inside = {"A": InsideSender(), "B": InsideSender()}   # what each run's distributions gained
        self._rewind = {"A": RewindSender(), "B": RewindSender()}   # issue 21: what each run's rewind points gained

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
        self._step_seconds = float("inf")   # new networks: the first step is checked between its layers
        self._sent = {"A": 0, "B": 0}
        self._sent_steps = 0
        self._expected = None
        self.channel.publish_step(s.a.step)
        d = s.a.data
        self._chance = chance_loss(d.task, d.y_train)
        data = (np.concatenate([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val]))
        grad_a, delta_a, transformer_a = s.a.initial_measures()   # one pass, not three (a transformer's cost)
        self._emit(Kind.REBUILT, force=True, data=data, message=message,
                   initial=(grad_a, s.b.gradient_norms() if s.b is not None else None),
                   initial_delta_norm=delta_a, initial_transformer=transformer_a,
                   initial_transformer_b=s.b.transformer_measures() if s.b is not None else None,   # issue 22
                   boundary_label="" if d.name in SEQUENCE_DATASETS or d.is_sequence else d.boundary_label,
                   class_names=d.class_names if d.task != "regression" else (), data_source=s.data_source,
                   units=None if d.is_sequence else d.units)

    def _train_one_batch(self) -> None:
        c = self.channel
        if not c.running.is_set() or self.session.state is not RunState.RUNNING:
            return  # paused from the window: the _Paused command will tell the session
        pace = c.pace
        if pace > 0 and not self._wait_for_pace(pace):
            return
        self._batch_started = time.perf_counter()
        # Pause and Stop are asked between a step's layers only when steps are long: for a short step the
        # questions cost more than waiting for its end (40 calls per step at depth 20, ~2% of a 0.5 ms step).
        check = self._interrupted if self._step_seconds >= self.CHECK_LAYERS_AFTER else None
        b = self.session.train_one_batch(check)
        if b is None:
            return  # paused or stopped during the step, which was not taken
        self._step_seconds = time.perf_counter() - self._batch_started
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

    def _interrupted(self) -> bool:
        """Asked between the layers of a step: has Pause or Stop been pressed?"""
        return not self.channel.running.is_set() or self.channel.stop.is_set()

    def _wait_for_pace(self, pace: float) -> bool:
        """Sleep until the next step is due at the set pace; False when woken by pause, stop or a new pace."""
        due = self._batch_started + 1.0 / pace - time.perf_counter()
        if due <= 0:
            return True
        return not self.channel.sleep(due) and self.channel.running.is_set()
