"""Issue 21: the rewind history the trainer records (core/training/rewind.py) and how it travels to the window
(core/runtime/rewind_delta.py)."""
from __future__ import annotations

import pickle

import numpy as np

from core import PRESETS
from core.runtime.rewind_delta import RewindAssembler, RewindSender
from core.training.rewind import MAX_PER_EPOCH, recorded_step
from core.training.trainer import Trainer


def _trainer(name, epochs=2, batches=0, **changes):
    cfg = PRESETS[name].config().replace(**changes)
    t = Trainer(cfg)
    for _ in range(epochs):
        t.step_epoch()
    for _ in range(batches):
        t.step_batch()
    return t


def test_mlp_points_are_the_inside_records():
    """One slider position is one record of both: the same steps, in the same order."""
    t = _trainer("exploding", epochs=3, batches=4)
    assert list(t.rewind.history.steps()) == list(t.inside.view().series("step"))


def test_points_hold_the_steps_statistics_and_the_epochs_means():
    t = _trainer("rnn-vanishing", epochs=3, batches=5)
    h = t.rewind.history
    bpe = t.batches_per_epoch
    assert [p.step for p in h.epochs] == [bpe, 2 * bpe, 3 * bpe]   # each epoch's last step
    for p, e in zip(h.epochs, range(3)):   # an epoch's point shows its mean, as the live bars do then
        assert p.stats is p.epoch_stats and p.epoch_stats.epoch == e + 1
        np.testing.assert_array_equal(p.stats.grad_norm, t.history[e].grad_norm)
    last = h.point(-1)
    assert last.step == t.step and last.epoch_stats is None
    assert last.batch.loss == t.steps.scalar("loss")[-1]
    np.testing.assert_array_equal(last.stats.time_grad_norm, t.last_batch.time_grad_norm)
    np.testing.assert_array_equal(last.through_time().time_grad_norm, t.last_batch.time_grad_norm)
    assert len(h.current) == 5 and h.point(3).epoch_stats is None and h.point(3).step == 3 * bpe + 1
    assert h.point(0).position == 1.0 and last.position == t.step / bpe and last.epochs_done == 3


def test_chain_rule_of_a_point_is_that_steps():
    t = _trainer("vanishing-sigmoid", epochs=2)
    p = t.rewind.history.point(-1)
    live = t.chain_rule()   # the latest step's, which this point is
    assert [l.product for l in p.chain().links] == [l.product for l in live.links]


def test_bounded_one_point_per_epoch_plus_the_current_epochs():
    t = _trainer("rnn-vanishing", epochs=6, batches=3)
    h = t.rewind.history
    assert len(h.epochs) == 6 and len(h.current) == 3 and len(h) == 9
    assert np.all(np.diff(h.steps()) > 0)


def test_at_most_max_per_epoch_counted_back_from_the_last_step():
    per_epoch = 1000
    every = -(-per_epoch // MAX_PER_EPOCH)
    steps = [s for s in range(1, per_epoch + 1) if recorded_step(s, every, per_epoch)]
    assert len(steps) <= MAX_PER_EPOCH and steps[-1] == per_epoch


def test_divergence_is_recorded():
    t = _trainer("rnn-exploding", epochs=1)
    assert t.diverged and t.rewind.history.point(-1).step == t.divergence.step


def test_sender_and_assembler_rebuild_the_history_through_a_pipe():
    t = Trainer(PRESETS["rnn-vanishing"].config())
    sender, assembler = RewindSender(), RewindAssembler()
    got = None
    for i in range(70):   # across two epoch boundaries, a snapshot every few steps
        t.step_batch()
        if i % 7 == 0 or i == 69:
            delta = pickle.loads(pickle.dumps(sender.delta(t.rewind)))
            got = assembler.history(delta)
    assert list(got.steps()) == list(t.rewind.history.steps())
    assert got.point(-1).batch.loss == t.rewind.history.point(-1).batch.loss
    t2 = Trainer(PRESETS["rnn-vanishing"].config())   # a rebuild: the receiver starts over
    t2.step_batch()
    got = assembler.history(sender.delta(t2.rewind))
    assert list(got.steps()) == list(t2.rewind.history.steps())


def test_bytes_per_point():
    """What a point costs (its pickled size): a few kB for the stories' networks."""
    for name, limit in (("vanishing-sigmoid", 6000), ("rnn-vanishing", 6000), ("transformer-pre-ln", 12000)):
        h = _trainer(name, epochs=2).rewind.history
        assert 0 < h.nbytes / len(h) < limit, name


def test_a_long_run_keeps_at_most_max_epoch_points_evenly_and_the_receiver_follows(monkeypatch):
    import core.training.rewind as rewind
    monkeypatch.setattr(rewind, "MAX_EPOCH_POINTS", 8)
    t = Trainer(PRESETS["rnn-vanishing"].config().replace(samples=40, batch_size=32))   # one batch an epoch
    sender, assembler = RewindSender(), RewindAssembler()
    got = None
    for _ in range(21):
        t.step_batch()
        got = assembler.history(pickle.loads(pickle.dumps(sender.delta(t.rewind))))
    h = t.rewind.history
    assert h.thinned >= 1 and len(h.epochs) < 8
    steps = [p.step for p in h.epochs]   # one step an epoch: the epochs kept are multiples of the stride
    assert h.stride == 4 and steps == [4, 8, 12, 16, 20]
    assert list(got.steps()) == list(h.steps())
