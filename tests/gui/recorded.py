"""Recorded snapshots for the tests of what a view draws, without a window or a live trainer.

``record`` drives core.runtime.runner's ``Runner`` (no Qt) through a channel that keeps every snapshot it
sends, the same Runner the window's worker runs in either mode; the snapshots are assembled as the worker
assembles them (``SnapshotAssembler``). ``Replay`` hands them to one ``Dashboard`` as the window does:
it keeps the epochs and steps received, as ``SessionModel._on_snapshot`` does, and calls
``Dashboard.show``. A recording is made once per test session (``recorded``); a Dashboard is built once
per test module (tests/gui/conftest.py's ``dashboard``): every replay starts with a REBUILT snapshot,
which clears every panel, and the fixture puts the view settings (log scale, fit, quantity, theory) back.
"""
from __future__ import annotations

import functools

from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from core import ExperimentConfig
from core.runtime.runner import Kind, Rebuild, Run, Runner, SnapshotAssembler, Step, ThreadChannel
from core.stories.presets import get_preset
from core.training.history import EpochHistory, StepHistory
from tests.gui.conftest import SMALL, SMALL_RNN   # the window tests' small network
# a small recurrent run: 12 steps, 96 training sequences (3 batches an epoch), as tests/gui/test_recurrent_window.py's


class _Keeping(ThreadChannel):
    """A channel that keeps what the runner sends and never waits for a window to draw."""

    def __init__(self):
        self.snapshots = []
        super().__init__(self.snapshots.append, lambda message, config: self.snapshots.append((message, config)))

    def step_aside(self) -> None:
        self.drawn.set()


def record(config: ExperimentConfig, *commands, until_diverged: bool = False) -> tuple:
    """The snapshots a runner sends for ``config``: its REBUILT one, then those of ``commands`` (handled in
    order, as the runner's loop handles them); ``until_diverged``: after a ``Run``, train batch after batch
    until the run diverges (at most 10000 batches)."""
    channel = _Keeping()
    runner = Runner(channel, config)
    runner._start()
    for command in commands:
        runner._handle_safely(command)
    for _ in range(10000 if until_diverged else 0):
        if channel.snapshots[-1].kind == Kind.DIVERGED:
            break
        channel.drawn.set()
        runner._train_one_batch()
    assert all(not isinstance(s, tuple) for s in channel.snapshots), channel.snapshots   # no failure
    assemble = SnapshotAssembler()
    return tuple(assemble(s) for s in channel.snapshots)


# The runs the view tests draw, by name: recorded the first time a test asks for one.
RUNS = {
    "small-2-epochs": lambda: record(SMALL, Step(epoch=True), Step(epoch=True)),
    "small-1-batch": lambda: record(SMALL, Step()),
    "small-2-batches": lambda: record(SMALL, Step(), Step()),
    "small-1-epoch": lambda: record(SMALL, Step(epoch=True)),
    "sigmoid-6-1-epoch": lambda: record(SMALL.replace(depth=6, activation="sigmoid"), Step(epoch=True)),
    "zeros-1-batch": lambda: record(SMALL.replace(init="zeros"), Step()),
    "clipped-2-epochs": lambda: record(SMALL.replace(clip_norm=0.05), Step(epoch=True), Step(epoch=True)),
    "depth-100-1-batch": lambda: record(ExperimentConfig(depth=100, width=8, activation="sigmoid", samples=64,
                                                         batch_size=32), Step()),
    "rnn-exploding": lambda: record(get_preset("rnn-exploding").config()),
    "rnn-vanishing": lambda: record(get_preset("rnn-vanishing").config()),
    "small-rnn-2-epochs": lambda: record(SMALL_RNN, Step(epoch=True), Step(epoch=True)),
    "mlp-on-sequences": lambda: record(SMALL_RNN.replace(model="mlp")),
    "mlp-on-points": lambda: record(ExperimentConfig(depth=2, width=4, samples=64)),
    "rnn-gain-0.5": lambda: record(SMALL_RNN.replace(recurrent_init="orthogonal", recurrent_gain=0.5)),
    "rnn-gain-1.5": lambda: record(SMALL_RNN.replace(recurrent_init="orthogonal", recurrent_gain=1.5)),
    "rnn-vs-lstm-1-epoch": lambda: record(SMALL_RNN, Rebuild(SMALL_RNN, ("model", "lstm")), Step(epoch=True)),
    "exploding-diverged": lambda: record(get_preset("exploding").config(), Run(), until_diverged=True),
}


@functools.cache
def recorded(name: str) -> tuple:
    """The snapshots of ``RUNS[name]``, recorded once per test session (the views only read them)."""
    return RUNS[name]()


class Replay:
    """A Dashboard in a widget of its own, fed recorded snapshots as the window feeds it. The names are the
    window's (``gradients``, ``lossPlot``, ``history``, ``last_snapshot``, ``theoryCheck``, ...), so a test of
    what is drawn reads the same as it would on a window."""

    def __init__(self):
        from gui.panels.dashboard import Dashboard
        self.phaseLabel = QLabel()
        self.history, self.history_b, self.steps, self.last_snapshot = None, None, None, None
        self.dashboard = d = Dashboard(self.phaseLabel, lambda: self.steps)
        self.widget = QWidget()
        QVBoxLayout(self.widget).addWidget(d.pages)
        self.widget.resize(1280, 800)
        for name, widget in d.plot_widgets.items():
            setattr(self, name, widget)
        self.gradients, self.loss, self.heatmap = d.bars.plot, d.loss.plot, d.heatmap.plot
        self.updates, self.boundary, self.timeline = d.updates.plot, d.boundary.plot, d.timeline.plot
        self.lossLogCheck, self.lossFitCheck, self.gradientQuantityCombo = (d.loss.logCheck, d.loss.fitCheck,
                                                                            d.bars.quantityCombo)
        self.lessonTabs, self.chainView = d.lessonTabs, d.chain.widget
        self.theoryCheck = QCheckBox()   # the window's check box, wired as the window wires it
        self.theoryCheck.toggled.connect(d.set_theory)

    @property
    def model(self):
        return self   # tests of the window read the steps as ``w.model.steps``

    @property
    def config(self):
        return self.last_snapshot.config   # what the drawn run trains with

    def reset_view_settings(self) -> None:
        """The view settings a test may change, back to a new window's."""
        self.lossLogCheck.setChecked(False)
        self.lossFitCheck.setChecked(False)
        self.theoryCheck.setChecked(False)
        self.gradientQuantityCombo.setCurrentIndex(0)
        self.dashboard.pages.setCurrentIndex(0)
        self.lessonTabs.setCurrentIndex(0)

    def findChild(self, cls, name):   # noqa: N802 (Qt's name)
        return self.widget.findChild(cls, name)

    def grab(self):
        return self.widget.grab()

    def show(self, snap) -> None:
        """One snapshot, as SessionModel._on_snapshot keeps it and MainWindow hands it to the dashboard."""
        if snap.kind == Kind.REBUILT:
            self.history = EpochHistory(snap.n_layers)
            self.history_b = EpochHistory(snap.b.n_layers) if snap.b is not None else None
            self.steps = StepHistory(snap.n_layers, keep_deltas=False)
        self.history.extend(snap.new_epochs)
        if snap.steps is not None:
            self.steps.extend(snap.steps)
        if snap.b is not None and self.history_b is not None:
            self.history_b.extend(snap.b.new_epochs)
        self.last_snapshot = snap
        self.dashboard.show(snap, self.history, self.history_b)

    def replay(self, name: str, upto: int | None = None) -> "Replay":
        """Show the snapshots of the recorded run ``name`` (the first ``upto`` of them), from its REBUILT one."""
        snaps = recorded(name)
        assert snaps[0].kind == Kind.REBUILT
        for snap in snaps[:upto]:
            self.show(snap)
        return self
