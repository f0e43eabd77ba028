"""The rewind history (issue 21) travels as what is new, as the Inside history does (core/runtime/inside_delta.py):
``RewindSender`` on the trainer's side, ``RewindAssembler`` on the window's side."""
from __future__ import annotations

from dataclasses import dataclass

from core.runtime.inside_delta import HistorySender
from core.training.rewind import RewindHistory


@dataclass
class RewindDelta:
    """What a run's ``core.training.rewind.RewindHistory`` gained since the last snapshot: the new epoch points and
    the current epoch's new points. ``reset``: a new trainer (the receiver starts over); ``new_epoch``: the
    current epoch's points start over (its old ones became an epoch point)."""

    epochs: list
    steps: list
    new_epoch: bool
    reset: bool
    all_epochs: bool = False   # ``epochs`` are all of them (the sender's were thinned): they replace the receiver's


class RewindSender(HistorySender):
    """The trainer's side: one per run; the points themselves never change once recorded (sent by reference in a
    thread, pickled in process mode)."""

    def _make(self, recorder, epochs_from, steps_from, new_epoch, reset, all_epochs) -> RewindDelta:
        h = recorder.history
        return RewindDelta(h.epochs[epochs_from:], h.current[steps_from:], new_epoch, reset, all_epochs)


class RewindAssembler:
    """The window's side: each RewindDelta of a run makes a whole ``RewindHistory`` again (a fresh object per
    snapshot whose lists are never changed afterwards)."""

    def __init__(self):
        self.epochs, self.steps = [], []

    def history(self, delta: RewindDelta | None) -> RewindHistory | None:
        if delta is None:
            return None
        if delta.reset or delta.all_epochs:
            self.epochs = []
        if delta.new_epoch or delta.reset:
            self.steps = []
        self.epochs = self.epochs + delta.epochs if delta.epochs else self.epochs
        self.steps = self.steps + delta.steps if delta.steps else self.steps
        h = RewindHistory()
        h.epochs, h.current = self.epochs, self.steps
        return h
