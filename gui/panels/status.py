"""The status bar's panel: epoch, step, batch loss, run state in its colour, speed and progress."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar

from core.training.session import RunState

from gui.app import theme
from gui.widgets import named, restyle
from gui.panels.panel import Panel

STATUS = {"epochLabel": "Completed epochs.", "stepLabel": "Completed batches (gradient steps).",
          "lossLabel": "Loss of the latest batch.", "stateLabel": "ready, running, paused, done or diverged.",
          "speedLabel": "Training speed while running.", "progressBar": "Progress toward the epoch where Run stops."}


class StatusPanel(Panel):
    """Epoch, step, loss, state, speed and progress, for the status bar."""

    def __init__(self):
        self.widgets = {}
        for name, tip in STATUS.items():
            w = QProgressBar() if name == "progressBar" else QLabel("")
            if isinstance(w, QLabel):
                w.setTextFormat(Qt.PlainText)
            self.widgets[name] = named(w, name, tip)
        self.progress = self.widgets["progressBar"]
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("%v / %m epochs")
        self.progress.setVisible(False)
        self.show_state(RunState.READY)
        self._show(0, 0, None)

    def _show(self, epoch: int, step: int, batch) -> None:
        self.widgets["epochLabel"].setText(f"Epoch {epoch}")
        self.widgets["stepLabel"].setText(f"step {step}")
        self.widgets["lossLabel"].setText(f"batch loss {batch.loss:.4g}" if batch is not None else "batch loss –")

    def clear(self, snap) -> None:
        self._show(snap.epoch, snap.step, None)

    def on_batch(self, f) -> None:
        snap = f.snap
        self._show(snap.epoch, snap.step, snap.last_batch)
        running = snap.state == RunState.RUNNING
        self.widgets["speedLabel"].setText(f"{snap.steps_per_second:,.0f} steps/s" if running else "")
        p = self.progress
        wanted = running and snap.target_epoch > 0
        if p.isHidden() == wanted:
            p.setVisible(wanted)
        if snap.target_epoch > 0:   # each call repaints the bar, even with the same numbers
            if p.maximum() != snap.target_epoch:
                p.setRange(0, snap.target_epoch)
            if p.value() != min(snap.epoch, snap.target_epoch):
                p.setUpdatesEnabled(False)   # setValue repaints at once (and flushes); this way the bar is
                p.setValue(min(snap.epoch, snap.target_epoch))
                p.setUpdatesEnabled(True)    # painted with the rest of the frame (this schedules it)

    def show_state(self, state=None) -> None:
        """The run state in its colour for the current theme (None: the shown state, recoloured)."""
        label = self.widgets["stateLabel"]
        if state is not None:
            label.setText(str(state))
        restyle(label, f"color: {theme.text_colour(label.text() or 'ready')}; font-weight: bold;")
