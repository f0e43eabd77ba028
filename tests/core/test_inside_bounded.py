"""Issue 25: a long run's Inside history stays bounded, thinned by the rewind points' own rule (so one slider
position is still one record of both), and the window's copy follows a thinning."""
from __future__ import annotations

import numpy as np

from core.measure.distributions import InsideHistory
from core.runtime.inside_delta import InsideAssembler, InsideSender
from core.training.rewind import MAX_EPOCH_POINTS, RewindHistory, RewindPoint

SHAPES = {"grad": (3,), "act_std": (2,)}


class _Recorder:
    """What InsideSender reads of a recorder: its history and layout."""

    def __init__(self):
        self.history = InsideHistory(SHAPES, timeline=("grad",))
        self.layout = "layout"


def test_the_inside_history_keeps_the_same_epochs_as_the_rewind_points_and_the_window_follows():
    rec, rewind = _Recorder(), RewindHistory()
    sender, assembler = InsideSender(), InsideAssembler()
    steps_per_epoch, epochs = 2, 3 * MAX_EPOCH_POINTS + 17
    view = None
    for step in range(1, steps_per_epoch * epochs + 2):
        epoch = (step - 1) // steps_per_epoch + 1
        rec.history.add(step, epoch, {"grad": np.full(3, step, np.float32), "act_std": np.zeros(2, np.float32)})
        rewind.add(RewindPoint(step, epoch, None, None, steps_per_epoch))
        if step % 97 == 0 or step == steps_per_epoch * epochs + 1:   # a snapshot now and then
            view = assembler.view(sender.delta(rec))
    h = rec.history
    assert h.thinned >= 1 and h.epochs.n < MAX_EPOCH_POINTS
    kept = h.epochs.epoch[:h.epochs.n]
    assert np.all(kept % h.stride == 0) and np.all(np.diff(kept) == h.stride)
    np.testing.assert_array_equal(kept, [p.epoch for p in rewind.epochs])      # the same epochs as the rewind
    np.testing.assert_array_equal(h.epochs.step[:h.epochs.n], [p.step for p in rewind.epochs])
    np.testing.assert_array_equal(h.epochs.a["grad"][:h.epochs.n, 0], h.epochs.step[:h.epochs.n])   # rows intact
    np.testing.assert_array_equal(view.epochs["epoch"], kept)                  # the window's copy, after thinning
    np.testing.assert_array_equal(view.epochs["grad"], h.epochs.a["grad"][:h.epochs.n])
