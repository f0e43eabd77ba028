"""The distributions' history (issue 12) travels as what is new: ``InsideSender`` on the trainer's side,
``InsideAssembler`` / ``SnapshotAssembler`` on the window's side."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class InsideDelta:
    """What a run's ``core.measure.distributions.InsideHistory`` gained since the last snapshot: fresh copies of the new
    epoch records and of the current epoch's new steps. ``layout`` comes with a new recorder (the receiver starts
    over); ``new_epoch``: the current epoch's steps start over (its old ones became an epoch record)."""

    layout: object
    epochs: dict
    steps: dict
    new_epoch: bool
    all_epochs: bool = False   # ``epochs`` are all of them (the sender's were thinned): they replace the receiver's


class HistorySender:
    """The trainer's side of a run's growing history (its ``recorder.history``: ``epochs``, the ``current`` epoch's
    steps, a ``thinned`` count): which rows are new since the last snapshot. A new recorder starts over; a thinning
    sends all the epochs again; a new ``current`` starts the steps over. Subclasses make their delta of the rows."""

    def __init__(self):
        self._recorder, self._current, self._epochs, self._steps, self._thinned = None, None, 0, 0, 0

    def delta(self, recorder):
        if recorder is None:
            self._recorder = None
            return None
        h = recorder.history
        reset = recorder is not self._recorder
        if reset:
            self._recorder, self._current, self._epochs, self._steps, self._thinned = recorder, None, 0, 0, h.thinned
        all_epochs = h.thinned != self._thinned
        if all_epochs:
            self._epochs, self._thinned = 0, h.thinned
        new_epoch = h.current is not self._current
        if new_epoch:
            self._current, self._steps = h.current, 0
        epochs_from, steps_from = self._epochs, self._steps
        self._epochs, self._steps = len(h.epochs), len(h.current)
        return self._make(recorder, epochs_from, steps_from, new_epoch, reset, all_epochs)

    def _make(self, recorder, epochs_from: int, steps_from: int, new_epoch: bool, reset: bool, all_epochs: bool):
        raise NotImplementedError


class InsideSender(HistorySender):
    """The distributions' history (core.measure.distributions.InsideHistory): a snapshot carries its new rows, not
    all of it (it grows with every epoch: megabytes after a few hundred, copied and, in process mode, pickled for
    every frame)."""

    def _make(self, recorder, epochs_from, steps_from, new_epoch, reset, all_epochs) -> InsideDelta:
        h = recorder.history
        return InsideDelta(recorder.layout if reset else None, _rows(h.epochs, epochs_from),
                           _rows(h.current, steps_from), new_epoch, all_epochs)


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
        elif delta.all_epochs:
            self.epochs = _Growing()
        if delta.new_epoch or delta.layout is not None:
            self.steps = _Growing()
        self.epochs.extend(delta.epochs)
        self.steps.extend(delta.steps)
        return InsideView(self.layout, self.epochs.view(), self.steps.view())


class SnapshotAssembler:
    """Called on the window's side on every snapshot, in order: the runs' InsideDeltas become InsideViews."""

    def __init__(self):
        from core.runtime.rewind_delta import RewindAssembler   # issue 21: the rewind points likewise
        self._a, self._b = InsideAssembler(), InsideAssembler()
        self._rewind_a, self._rewind_b = RewindAssembler(), RewindAssembler()

    def __call__(self, snap: "Snapshot") -> "Snapshot":
        snap.inside = self._a.view(snap.inside)
        snap.rewind = self._rewind_a.history(snap.rewind)
        if snap.b is not None:
            snap.b.inside = self._b.view(snap.b.inside)
            snap.b.rewind = self._rewind_b.history(snap.b.rewind)
        return snap
