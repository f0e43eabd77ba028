"""The rewind history (issue 21) travels as what is new, as the Inside history does (core/runtime/inside_delta.py):
``RewindSender`` on the trainer's side, ``RewindAssembler`` on the window's side."""
from __future__ import annotations

from dataclasses import dataclass

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


class RewindSender:
    """The trainer's side: one per run; the points themselves never change once recorded (sent by reference in a
    thread, pickled in process mode)."""

    def __init__(self):
        self._recorder, self._current, self._epochs, self._steps = None, None, 0, 0
        self._thinned = 0

    def delta(self, recorder) -> RewindDelta | None:
        if recorder is None:
            self._recorder = None
            return None
        h = recorder.history
        reset = recorder is not self._recorder
        if reset:
            self._recorder, self._current, self._epochs, self._steps = recorder, None, 0, 0
            self._thinned = h.thinned
        all_epochs = h.thinned != self._thinned
        if all_epochs:
            self._epochs, self._thinned = 0, h.thinned
        new_epoch = h.current is not self._current
        if new_epoch:
            self._current, self._steps = h.current, 0
        epochs, steps = h.epochs[self._epochs:], h.current[self._steps:]
        self._epochs, self._steps = len(h.epochs), len(h.current)
        return RewindDelta(epochs, steps, new_epoch, reset, all_epochs)


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
