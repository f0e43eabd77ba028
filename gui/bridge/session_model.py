"""The window's side of the experiment: a QObject that owns the worker and its thread.

The worker's ``core.training.session.Session`` decides what a change means and trains; this model
keeps what the views read (the config the window trains with, the run state, the epochs
received so far) and turns the worker's snapshots into typed signals. Commands to the
worker are the dataclasses of ``gui.bridge.worker``; the run/step/reset QActions live here so that
buttons, shortcuts and menus trigger the same thing and follow the same enabled state.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction

from core import ConfigError, ExperimentConfig
from core.training.compare import Comparison
from core.training.history import EpochHistory, StepHistory
from core.runtime.resources import check_fits
from core.training.session import RunState, divergence_message

from gui.bridge import gc_guard
from gui.bridge.worker import Configure, Kind, Rebuild, Run, Snapshot, Step, TrainingWorker, current_mode


class SessionModel(QObject):
    configChanged = Signal(object)      # ExperimentConfig: the config the window trains with
    stateChanged = Signal(object)       # RunState
    comparingChanged = Signal(bool)     # whether run B exists (the Compare button follows this)
    rebuilt = Signal(object)            # Snapshot of a new network (histories cleared)
    measured = Signal(object)           # any Snapshot, after the histories took its epochs
    epochsAdded = Signal(int)           # how many epochs run A has now
    message = Signal(str, bool)         # text, is_error
    paceChanged = Signal(float)         # steps per second while running (0: as fast as it goes)
    storyChanged = Signal()             # the story chosen, or whether the settings still match it, changed

    def __init__(self, config: ExperimentConfig, parent=None, trainer: str | None = None):
        """``trainer``: "thread" or "process" (gui.bridge.worker); None: ``current_mode()``."""
        super().__init__(parent)
        try:
            check_fits(config)
        except ConfigError as e:   # e.g. a saved config from a machine with more memory
            config = ExperimentConfig()
            QTimer.singleShot(0, lambda m=f"{e}; starting with the default settings": self.say(m, error=True))
        self.config = config
        self.state = RunState.READY
        self.comparing = False
        self._kind_note = ""   # said with the next rebuild's message: the fields a change of model reset
        self.history = EpochHistory(config.n_weight_layers)
        self.history_b: EpochHistory | None = None
        self.steps = StepHistory(config.n_weight_layers, keep_deltas=False)   # run A's steps: the timeline's data
        self.pace = 0.0   # steps per second while running (0: as fast as it goes): a view setting, not the config's
        self.last: Snapshot | None = None
        self.data_source: dict | None = None   # the worker's session holds the data; this mirrors its file's name
        self.story: str | None = None          # the story chosen (issue 21): its settings, unless story_stale
        self.story_stale, self.story_why, self._story_config = False, "", None
        self.first_batch = None                # step 1's BatchStats (at the initial weights), when it was seen
        self.initial_time_grad = None          # ||dL/dh_t|| at the initial weights (a recurrent model's rebuild)
        self._generation = 0
        self._step_pending = False
        self._compare_field: tuple | None = None
        self._frame_started = time.thread_time()   # the GUI thread's CPU time when the latest snapshot arrived
        self.actions = self._make_actions()
        self.worker = TrainingWorker(config, mode=trainer or current_mode())
        self.thread_ = QThread()
        self.thread_.setObjectName("trainer")
        self.worker.moveToThread(self.thread_)
        self.thread_.started.connect(self.worker.loop)
        self.worker.snapshot.connect(self._on_snapshot)
        self.worker.failed.connect(self._on_failed)
        gc_guard.hold()   # Python's cyclic collector runs in the GUI thread only while the trainer thread lives
        self.thread_.start()
        self._closing = False
        self._update_actions()

    def _make_actions(self) -> dict:
        actions = {}
        for name, text, tip, slot in (
                ("stepBatchButton", "Step batch", "Train on one batch, then update every plot (B).", self.step_batch),
                ("stepEpochButton", "Step epoch", "Train one epoch, then update every plot (N).", self.step_epoch),
                ("runButton", "Run", "Train continuously until the set epoch; press again to pause (Space).",
                 self.toggle_run),
                ("resetButton", "Reset", "Rebuild the network from the seed and clear the history (R).", self.reset)):
            a = QAction(text, self)
            a.setObjectName(name.replace("Button", "Action"))
            a.setToolTip(tip)
            a.triggered.connect(slot)
            actions[name] = a
        return actions

    # -- commands ------------------------------------------------------------------------
    def say(self, text: str, error: bool = False) -> None:
        self.message.emit(text, error)

    def set_config(self, config: ExperimentConfig) -> bool:
        """Train with ``config``: live settings apply at once, the rest rebuild (the session decides).
        A config too large for this machine's memory is refused with a visible message (False)."""
        try:
            check_fits(config)
        except ConfigError as e:
            self.say(str(e), error=True)
            self.configChanged.emit(self.config)  # the controls go back to the config in use
            self._check_story()
            return False
        changed = {k: v for k, v in config.to_dict().items() if getattr(self.config, k) != v}
        self.config = config
        self._check_story()
        self.configChanged.emit(config)
        if changed:
            self._step_pending = False
            self.worker.post(Configure(changed))
        return True

    def change(self, field: str, value) -> None:
        """One field edited in a control: validated here, then set (or the controls go back)."""
        reset = []
        try:   # another kind: the fields it does not use go back to their defaults (core decides which)
            config, reset = self.config.for_kind(value) if field == "model" else \
                (self.config.replace(**{field: value}), [])
        except ConfigError as e:
            self.say(str(e), error=True)
            self.configChanged.emit(self.config)
            return
        if config != self.config and not self.set_config(config):
            return
        if reset:
            self._kind_note = f"{', '.join(reset)} reset to the default: model {value} does not use it."
            self.say(self._kind_note)
        if field == "dataset" and self.data_source is not None:   # a built-in data set chosen, even the same name
            self.set_data(None, f"Data set: {value} (built in); the data file is no longer used.")

    def set_pace(self, steps_per_second: float) -> None:
        """Train at most this many steps per second while running; 0: as fast as it goes."""
        self.pace = max(0.0, float(steps_per_second))
        self.worker.set_pace(self.pace)
        self.paceChanged.emit(self.pace)

    def reset(self) -> None:
        self._rebuild("Reset: network rebuilt from the seed, history cleared.")

    def _rebuild(self, message: str, compare=None) -> None:
        self._step_pending = False
        self.worker.post(Rebuild(self.config, compare if compare is not None else self._compare()))
        self.say(message)

    def _compare(self):
        return self._compare_field if self.comparing else None

    def step_batch(self) -> None:
        self._step(Step(epoch=False))

    def step_epoch(self) -> None:
        self._step(Step(epoch=True))

    def _step(self, command: Step) -> None:
        if self._step_pending or self.worker.is_running or self.state == RunState.RUNNING:
            return  # one step at a time: clicks during a step are ignored, never queued up
        if self.state == RunState.DIVERGED:
            self.say(divergence_message(self.last.divergence), error=True)
            return
        self._step_pending = True
        self._update_actions()
        self.worker.post(command)

    def toggle_run(self) -> None:
        if self.state == RunState.RUNNING:
            self.worker.pause()
            self._set_state(RunState.PAUSED)
            self.say("Paused: Step batch and Step epoch work from here; Run continues.")
        elif self.state == RunState.DIVERGED:
            self.say(divergence_message(self.last.divergence), error=True)
        elif not self._step_pending:
            self.run_to(None)

    def run_to(self, target: int | None, message: str = "", expected: EpochHistory | None = None) -> None:
        """Run to ``target`` (None: where the session says Run stops); ``expected``: a recording to check."""
        self.worker.post(Run(target, expected))
        self._set_state(RunState.RUNNING)
        if message:
            self.say(message)

    def start_compare(self, field: str, value) -> bool:
        """Compare this run with a B that differs in ``field``; False (with a visible message) if not allowed."""
        try:
            Comparison.check(self.config, field, value)
        except ConfigError as e:
            self.say(str(e), error=True)
            self.comparingChanged.emit(self.comparing)
            return False
        self._compare_field = (field, value)
        self._rebuild(f"Comparing A ({field} = {getattr(self.config, field)}) with B ({field} = {value}): "
                      "same data, seed and batches.", compare=(field, value))
        return True

    def set_data(self, data, message: str) -> None:
        """Train on ``data`` (a Dataset read from a file; None: the config's built-in data set) from the seed.
        The worker's session holds it from then on, through rebuilds, until a built-in data set is chosen."""
        self._step_pending = False
        self.worker.post(Rebuild(self.config, self._compare(), data))
        if data is not None:
            self.depart_story("a data file is open")
        self.say(message)

    def open(self, config: ExperimentConfig, history: EpochHistory | None, path: str, data=None) -> None:
        """Train with an opened file's config from its seed (on ``data``, the data file it names, or its
        built-in data set); with a recorded history, replay it to the same epoch (the worker's session
        checks the replay against the recording when it ends)."""
        self._compare_field = None
        self.config = config
        self.configChanged.emit(config)
        self._step_pending = False
        self.worker.post(Rebuild(config, None, data))
        if history is not None and len(history):
            self.run_to(len(history), f"Opened {path}: replaying its {len(history)} recorded epochs "
                                      "(same seed, same result).", expected=history)
        else:
            self.say(f"Opened {path}.")

    # -- the story (issue 21) -----------------------------------------------------------------
    def set_story(self, name: str | None, config: ExperimentConfig | None = None) -> None:
        """The story chosen (None: none), whose settings are ``config``; it matches until a setting departs."""
        self.story, self._story_config = name, config
        self.story_stale, self.story_why = False, ""
        self._check_story()
        self.storyChanged.emit()

    def depart_story(self, why: str) -> None:
        """The run no longer is the story's (a setting changed, a data file or a sweep's cell was loaded)."""
        if self.story is not None and not self.story_stale:
            self.story_stale, self.story_why = True, why
            self.storyChanged.emit()

    def _check_story(self) -> None:
        if self._story_config is not None and self.config != self._story_config:
            changed = [k for k, v in self._story_config.to_dict().items() if getattr(self.config, k) != v]
            self.depart_story(", ".join(f"{k} = {getattr(self.config, k)}" for k in changed[:3])
                              + (" and more" if len(changed) > 3 else ""))

    def go_to(self, unit: str, n: int) -> None:
        """Take the run to ``n`` batches or epochs (a story's lesson point): from the seed when it is already
        past it or diverged, by stepping (batches) or running (epochs)."""
        done = len(self.steps) if unit == "batches" else len(self.history)
        if done == n and self.state != RunState.DIVERGED:
            self.say(f"The run is at {unit[:-1]} {n}, the story's lesson point.")
            return
        if self.state == RunState.RUNNING:
            self.worker.pause()
            self._set_state(RunState.PAUSED)
        if done > n or self.state == RunState.DIVERGED:
            self._rebuild(f"Back to the seed, then to {unit[:-1]} {n}.")
            done = 0
        if unit == "epochs":
            if done < n:
                self.run_to(n, f"Running to epoch {n}.")
            return
        self._step_pending = True
        self._update_actions()
        for _ in range(n - done):
            self.worker.post(Step(epoch=False))

    def stop_compare(self) -> None:
        self._step_pending = False
        self.worker.post(Rebuild(self.config, None))
        self.say("Comparison ended: one run again, history cleared.")

    # -- updates from the worker ------------------------------------------------------------
    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        assert QThread.currentThread() is self.thread(), "snapshots must be handled on the GUI thread"
        self._frame_started = time.thread_time()
        try:
            if snap.generation < self._generation:
                return  # from a network that has since been rebuilt
            if snap.kind == Kind.REBUILT:
                self._generation = snap.generation
                self.history = EpochHistory(snap.n_layers)
                self.history_b = EpochHistory(snap.b.n_layers) if snap.b is not None else None
                self.steps = StepHistory(snap.n_layers, keep_deltas=False)   # the bars read δ from the batch
                self.comparing = snap.b is not None
                self.data_source = snap.data_source
                self.first_batch = None
                through = snap.through_time[0] if snap.through_time else None   # at the initial weights
                self.initial_time_grad = None if through is None else through.time_grad_norm
                self.comparingChanged.emit(self.comparing)   # the button follows the session
                self.rebuilt.emit(snap)
            self.history.extend(snap.new_epochs)
            if snap.steps is not None:
                self.steps.extend(snap.steps)
            if snap.b is not None and self.history_b is not None:
                self.history_b.extend(snap.b.new_epochs)
            self.last = snap
            if self.first_batch is None and snap.last_batch is not None and snap.last_batch.step == 1:
                self.first_batch = snap.last_batch
            if snap.kind in (Kind.BATCH, Kind.EPOCH, Kind.DIVERGED, Kind.REBUILT):
                self._step_pending = False
            self.measured.emit(snap)
            if snap.new_epochs:
                self.epochsAdded.emit(len(self.history))
            if snap.message:
                note = self._kind_note if snap.kind is Kind.REBUILT and not snap.error else ""
                self._kind_note = "" if note else self._kind_note
                self.say(f"{snap.message} {note}".strip(), error=snap.error)
            self._set_state(snap.state)
        finally:
            # Acknowledge once the plots have painted: the scene processes its dirty items in a
            # queued call and then posts the paint, so two queued hops land after both.
            QTimer.singleShot(0, lambda: QTimer.singleShot(0, self._acknowledge))

    def _acknowledge(self) -> None:
        # the frame's own GUI-thread CPU time: handling the snapshot, drawing, painting (not what the thread did
        # between frames: a paused window's idle time, or a script's work in this thread, is no frame's cost)
        self.worker.acknowledge(time.thread_time() - self._frame_started)

    @Slot(str, object)
    def _on_failed(self, message: str, config: ExperimentConfig) -> None:
        """The session refused a command (e.g. a data file changed on disk before it could be split again):
        the window goes back to the config the session still trains with."""
        self._step_pending = False
        if config != self.config:
            self.config = config
            self.configChanged.emit(config)
        if self.state == RunState.RUNNING and not self.worker.is_running:
            self._set_state(RunState.PAUSED)
        self.say(message, error=True)
        self._update_actions()

    def _set_state(self, state: RunState) -> None:
        changed = state != self.state
        self.state = RunState(state)
        self._update_actions()
        if changed:
            self.stateChanged.emit(self.state)

    def _update_actions(self) -> None:
        running = self.state == RunState.RUNNING
        stepping_ok = not running and not self._step_pending and self.state != RunState.DIVERGED
        self.actions["stepBatchButton"].setEnabled(stepping_ok)
        self.actions["stepEpochButton"].setEnabled(stepping_ok)
        run = self.actions["runButton"]
        run.setText("Pause" if running else "Run")
        run.setEnabled(self.state != RunState.DIVERGED and not self._step_pending)

    @property
    def closing(self) -> bool:
        return self._closing

    def shutdown(self, timeout_ms: int = 5000, waiting=lambda: None) -> bool:
        """Stop training and join the thread; True when it has ended. One batch of the largest network can
        take longer than ``timeout_ms``: then ``waiting()`` is called and the wait goes on, because
        destroying a running QThread would abort the process."""
        if self._closing:
            return not self.thread_.isRunning()
        self._closing = True
        self.worker.stop()
        self.thread_.quit()
        ended = self.thread_.wait(timeout_ms)
        if not ended:
            waiting()
            ended = self.thread_.wait()
        gc_guard.release()
        try:
            self.worker.snapshot.disconnect(self._on_snapshot)
            self.worker.failed.disconnect(self._on_failed)
        except (RuntimeError, TypeError):
            pass
        return ended
