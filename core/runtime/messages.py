"""What crosses between the window and the trainer's ``Runner``: commands one way, snapshots the other.

Small dataclasses that pickle (in process mode they cross a pipe, ``core.runtime.runner_process``): a typo
in a command's name is an error at import, not a silent no-op.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from core.config import ExperimentConfig
from core.training.session import RunState


# The costly extras a running trainer makes only while the window shows them (issue 25: snapshots sized to what is
# drawn): the channel's ``shown``, a bitmask of these, set by the window as pages and tabs change (all of them by
# default, and a forced snapshot, e.g. at a pause or a step, makes all of them whatever is shown).
SHOWN_PICTURE, SHOWN_JACOBIAN = 1, 2
SHOWN_ALL = SHOWN_PICTURE | SHOWN_JACOBIAN


# -- commands: window -> trainer ------------------------------------------------------------
@dataclass(frozen=True)
class Configure:
    """Set config fields; the session decides whether that rebuilds or applies."""
    fields: dict


@dataclass(frozen=True)
class Rebuild:
    """New networks from ``config``'s seed; ``compare``: (field, value) for B, None to end comparing;
    ``data``: a data set read from a file (core.data.userdata), None for the config's built-in one, ``...`` to keep
    the session's (the session holds it)."""
    config: ExperimentConfig
    compare: tuple | None = None
    data: object = ...


@dataclass(frozen=True)
class Step:
    epoch: bool = False   # a whole epoch, else one batch


@dataclass(frozen=True)
class Run:
    target_epoch: int | None = None   # None: the session's next target
    expected: object = None           # a recorded EpochHistory this run replays: checked when it ends


@dataclass(frozen=True)
class Batch:
    """Commands posted together (one user action): handled as if they had arrived at once."""
    commands: tuple


@dataclass(frozen=True)
class _Paused:
    pass


@dataclass(frozen=True)
class _Wake:
    pass


class Kind(str, Enum):
    """Why a snapshot was sent."""
    REBUILT = "rebuilt"
    APPLIED = "applied"
    BATCH = "batch"
    EPOCH = "epoch"
    PROGRESS = "progress"
    PAUSED = "paused"
    DONE = "done"
    DIVERGED = "diverged"


# -- updates: trainer -> window ---------------------------------------------------------------
@dataclass
class Snapshot:
    """What the window needs to draw. Every array in it is fresh: the trainer never changes it again.
    Everything in it pickles (it crosses a pipe when the trainer runs in its own process)."""

    generation: int                 # increases with every rebuild; older snapshots are stale
    kind: Kind
    state: RunState
    config: ExperimentConfig
    epoch: int
    step: int
    new_epochs: list = field(default_factory=list)   # EpochStats completed since the last snapshot
    last_batch: object = None                        # the latest BatchStats
    divergence: object = None
    steps_per_second: float = 0.0
    boundary: tuple | None = None                    # (xs, ys or None, predictions)
    data: tuple | None = None                        # (X, y) of all samples, sent with REBUILT
    n_layers: int = 0
    message: str = ""
    chain: object = None                             # core.measure.inspector.ChainRule of the latest batch
    phase: object = None                             # core.measure.theory.Phase of the config
    b: "RunView | None" = None                       # the comparison run, when comparing
    target_epoch: int = 0                            # where Run stops
    last_finite_batch: object = None                 # the latest BatchStats before a divergence
    initial_grad_norm: object = None                 # ||dL/dW|| per layer before any step (with REBUILT)
    batches_per_epoch: int = 0
    error: bool = False                              # the message reports a failure
    steps: dict | None = None                        # run A's StepHistory rows since the last snapshot
    chance_loss: float = float("nan")                # the loss of the best constant guess (core.nn.losses)
    initial_delta_norm: object = None                # ||dL/dz|| per layer before any step (with REBUILT)
    boundary_label: str = ""                         # with REBUILT: what the prediction's axes are (data set's words)
    class_names: tuple = ()                          # with REBUILT: one per class of a classification, else ()
    data_source: dict | None = None                  # with REBUILT: the data file's {"path", "sha256"}, or None
    through_time: tuple | None = None                # (A's, B's) core.measure.through_time.ThroughTime; None: not measured
    jacobian: object = None                          # run A's core.measure.jacobian.JacobianView (MLPs); None: not measured
    inside: object = None                            # core.measure.distributions.InsideView of run A (issue 12): sent
                                                     # as an InsideDelta, made whole by SnapshotAssembler
    # issue 22: a transformer's core.training.transformer_stats.TransformerStats at initialisation (with REBUILT:
    # one pass on the first batch, update ratios 0); after a step, last_batch.transformer and each EpochStats'
    # .transformer hold the step's and the epoch's (None for other kinds)
    initial_transformer: object = None
    units: object = None                             # with REBUILT: a data file's core.data.units.FeatureUnits for
                                                     # the prediction's axes (issue 21); None: built-in data
    rewind: object = None   # issue 21: run A's core.training.rewind.RewindHistory (sent as a RewindDelta)


@dataclass
class RunView:
    """The second run of a comparison: what its bars and curves need."""

    label: str      # "B: activation = relu"
    label_a: str    # "A: activation = sigmoid"
    config: ExperimentConfig
    epoch: int
    step: int
    new_epochs: list
    last_batch: object
    divergence: object
    n_layers: int
    inside: object = None   # core.measure.distributions.InsideView of run B (sent as an InsideDelta, as Snapshot's)
    rewind: object = None   # issue 21: run B's RewindHistory (sent as a RewindDelta, as Snapshot's)
    initial_transformer: object = None   # issue 22: run B's TransformerStats at initialisation (with REBUILT)
