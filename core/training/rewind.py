"""Rewind (issue 21): what every plot of the window showed at the steps a run recorded, kept by the trainer.

A ``RewindPoint`` is one recorded step: its own ``BatchStats`` (per-layer ‖dL/dW‖, update ratios, ‖dL/dz‖, mean
|phi'|, and a recurrent network's ‖dL/dh_t‖ or a Transformer's per-block numbers) and, when the step completed
an epoch, that epoch's ``EpochStats``. What the bars show at a point follows the live rule (an epoch's mean at
its last step, else the step's own numbers); the chain rule and the chain through time are computed from the
point here, in core, as the live ones are from the latest step.

Which steps are recorded: for a network with an Inside page, exactly the steps its
``core.measure.distributions.InsideRecorder`` records (so one slider position is one record of both); for the
others every ``every``-th step counted back from each epoch's last, at most ``MAX_PER_EPOCH`` a epoch; always each
epoch's last step and a divergence.

Bounded: the last step of completed epochs (every one up to ``MAX_EPOCH_POINTS``; reaching it, only the epochs that
are multiples of a stride that doubles are kept, so a run of 10^6 epochs keeps between 1000 and 2000 of them, evenly
spread) and the recorded
steps of the current epoch (at most ``MAX_PER_EPOCH``, or the Inside recorder's count); a Transformer's points
drop the (blocks x positions) arrays and the attention weights (``TransformerStats.compact``).
``RewindHistory.nbytes`` measures what it holds (benchmarks/bench_rewind.py prints it per point).
"""
from __future__ import annotations

import math
import pickle
from dataclasses import dataclass, replace

import numpy as np

MAX_PER_EPOCH = 100   # recorded steps of one epoch, at most, for a network without an Inside recorder
MAX_EPOCH_POINTS = 2000   # completed epochs' points, at most: then only every second epoch's is kept


@dataclass(frozen=True)
class RewindPoint:
    step: int                 # batches done since the start, this one included
    epoch: int                # the epoch the step belongs to (1-based)
    batch: object             # its core.training.statistics.BatchStats
    epoch_stats: object       # the EpochStats the step completed, else None
    steps_per_epoch: int
    bound: float = math.nan   # the network's vanishing bound (Pascanu) for the chain through time

    @property
    def stats(self):
        """What the bars and update ratios show at this point: the epoch's means at its last step, as live."""
        return self.epoch_stats if self.epoch_stats is not None else self.batch

    @property
    def position(self) -> float:
        """Where the point lies on an epoch axis: steps done over steps per epoch (epoch e's end is e)."""
        if self.epoch_stats is not None:
            return float(self.epoch_stats.epoch)
        return self.step / max(self.steps_per_epoch, 1)

    @property
    def epochs_done(self) -> int:
        """Completed epochs at this point (the heatmaps' columns up to it)."""
        return self.epoch if self.epoch_stats is not None else self.epoch - 1

    def caption(self) -> str:
        """What the bars show at this point, short enough for a plot's axis caption: an epoch's mean (at its
        last step) or the step's own numbers."""
        if self.epoch_stats is not None:
            return f"rewound: epoch {self.epoch}"
        return self.step_caption()

    def step_caption(self) -> str:
        """The step itself (what the chain rule and the spectral readout are of, also at an epoch's end)."""
        return f"rewound: step {self.step}"

    def chain(self):
        """The chain rule of this step, from its own ‖dL/dz‖ and mean |phi'| (as the live tab's)."""
        from core.measure.inspector import chain_from_step
        b = self.batch
        return chain_from_step(b.delta_norms, b.act_deriv_abs_mean) if len(b.delta_norms) else None

    def through_time(self):
        """The chain back through time of this step (recurrent networks), else None."""
        from core.measure.through_time import from_step
        return from_step(self.batch, self.bound)


def recorded_step(step: int, every: int, per_epoch: int) -> bool:
    """Whether 1-based ``step`` is one of every ``every``-th counted back from its epoch's last step."""
    if every >= per_epoch:
        return step % every == 0
    return (per_epoch - ((step - 1) % per_epoch + 1)) % every == 0


class RewindHistory:
    """The last point of every completed epoch, then the points of the current epoch (steps increase)."""

    def __init__(self):
        self.epochs: list[RewindPoint] = []
        self.current: list[RewindPoint] = []
        self.thinned = 0   # how many times the epochs' points were thinned (a receiver then takes them all again)
        self.stride = 1    # the epochs kept: multiples of it

    def add(self, p: RewindPoint) -> None:
        cur = self.current
        if cur and cur[-1].epoch != p.epoch:   # a new epoch: the last one's final point is its record
            if cur[-1].epoch % self.stride == 0:
                self.epochs.append(cur[-1])
            if len(self.epochs) >= MAX_EPOCH_POINTS:
                self.stride *= 2
                self.epochs = [q for q in self.epochs if q.epoch % self.stride == 0]
                self.thinned += 1
            self.current = []
        self.current.append(p)

    def __len__(self) -> int:
        return len(self.epochs) + len(self.current)

    def point(self, i: int) -> RewindPoint:
        i = range(len(self))[i]
        ne = len(self.epochs)
        return self.epochs[i] if i < ne else self.current[i - ne]

    def steps(self) -> np.ndarray:
        return np.array([p.step for p in self.epochs + self.current], dtype=np.int64)

    def find(self, step: int) -> int | None:
        """The position of the latest point at or before ``step``; None if there is none."""
        i = int(np.searchsorted(self.steps(), step, side="right")) - 1
        return i if i >= 0 else None

    def at(self, step: int) -> RewindPoint | None:
        i = self.find(step)
        return None if i is None else self.point(i)

    @property
    def nbytes(self) -> int:
        """What the points cost, measured as their pickled size (the bytes a snapshot carries for them)."""
        return sum(len(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)) for p in self.epochs + self.current)


class RewindRecorder:
    """The trainer's side: one point per recorded step (see the module's rule)."""

    def __init__(self, steps_per_epoch: int, inside=None, bound: float = math.nan):
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.inside = inside
        self.every = max(1, math.ceil(self.steps_per_epoch / MAX_PER_EPOCH))
        self.bound = bound
        self.history = RewindHistory()

    def recorded(self, b) -> bool:
        if b.diverged:
            return True
        if self.inside is not None:
            return self.inside.recorded(b.step)
        return recorded_step(b.step, self.every, self.steps_per_epoch) or b.epoch_stats is not None

    def add(self, b) -> None:
        """Record BatchStats ``b`` (after its epoch was finished, when it ended one) if its step is recorded."""
        if not self.recorded(b):
            return
        batch, epoch = replace(b, epoch_stats=None), b.epoch_stats
        if batch.transformer is not None:
            batch.transformer = batch.transformer.compact()
        if epoch is not None and epoch.transformer is not None:
            epoch = replace(epoch, transformer=epoch.transformer.compact())
        self.history.add(RewindPoint(b.step, b.epoch, batch, epoch, self.steps_per_epoch, self.bound))
