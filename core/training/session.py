"""One experiment: its config, run A (and B while comparing), their histories and the run state.

The one place that decides what a change of settings means (rebuild or apply), where Run
stops, when a run is done and whether a replayed run matches its recording. The window's
worker thread and the CLI both drive a Session; it knows nothing of Qt or threads.

    s = Session(ExperimentConfig(depth=4))
    s.change(lr=0.01)          # Change.APPLIED: the running network keeps its weights
    s.change(depth=6)          # Change.REBUILT: a new network from the seed, histories cleared
    s.run_to(3)
    while s.state is RunState.RUNNING:
        s.train_one_batch()
"""
from __future__ import annotations

from enum import Enum


from core.training.compare import Comparison
from core.config import ConfigError, ExperimentConfig
from core.training.history import EpochHistory
from core.nn.model import Interrupted
from core.io.records import history_differences
from core.runtime.resources import check_fits
from core.training.statistics import Divergence
from core.training.trainer import LIVE_FIELDS, Trainer, check_data


# Settings that change how a data file is split and typed (it is read again when one changes)
SPLIT_FIELDS = ("seed", "val_fraction", "dtype")


class RunState(str, Enum):
    READY = "ready"        # built, no step yet
    RUNNING = "running"    # training toward target_epoch
    PAUSED = "paused"      # stepped or paused before the target
    DONE = "done"          # reached target_epoch
    DIVERGED = "diverged"  # a non-finite number stopped run A

    def __str__(self) -> str:
        return self.value


class Change(Enum):
    NONE = "none"
    APPLIED = "applied"    # live settings changed on the running networks
    REBUILT = "rebuilt"    # new networks from the seed; histories cleared


def divergence_message(d: Divergence) -> str:
    """The one wording of a divergence, for the window and the CLI."""
    text = str(d)   # core.training.statistics.Divergence words what happened; this adds what to do
    return f"{text[:1].upper()}{text[1:]}. Training stopped; press Reset to start again."


class Session:
    def __init__(self, config: ExperimentConfig | None = None, compare: tuple | None = None, data=None):
        """``data``: a data set from a file (core.data.userdata) in place of the config's built-in one."""
        self.config = config if config is not None else ExperimentConfig()
        self.compare: tuple | None = None   # (field, value) that B changes
        self.data = None                    # the file's Dataset, or None for config.dataset
        self.runs: dict[str, Trainer] = {}
        self.target_epoch = 0
        self._running = False
        self.notice = ""
        self.rebuild(self.config, compare, data)

    # -- settings --------------------------------------------------------------------
    def change(self, **fields) -> Change:
        """Set config fields: live ones (LIVE_FIELDS) apply to the running networks, any other rebuilds.
        A bad value or a network too large for memory raises ConfigError and changes nothing."""
        config = self.config.replace(**fields)
        changed = {k: v for k, v in config.to_dict().items() if getattr(self.config, k) != v}
        if not changed:
            return Change.NONE
        if any(k not in LIVE_FIELDS for k in changed):
            self.rebuild(config)
            return Change.REBUILT
        self.config = config
        self.a.apply(**changed)
        if self.b is not None:  # B keeps its own value of the setting being compared
            self.b.apply(**{k: v for k, v in changed.items() if k != self.compare[0]})
        return Change.APPLIED

    def rebuild(self, config: ExperimentConfig | None = None, compare: tuple | None = ..., data=...) -> str:
        """New networks from the seed (``compare``: (field, value) for B, None to stop comparing, default: keep;
        ``data``: a Dataset from a file, None for the config's built-in data set, default: keep).
        Returns (and keeps in ``notice``) a message when the comparison had to end (B's setting no longer differs or is not allowed)."""
        config = self.config if config is None else config
        check_fits(config)  # a refusal leaves the current networks in place
        compare = self.compare if compare is ... else compare
        data = self._data_for(config) if data is ... else data
        check_data(config, data)
        self._running, self.target_epoch, self.runs = False, 0, {}  # let the old networks go first
        self.notice = ""
        if compare is not None:
            try:
                self.runs = Comparison(config, *compare, data=data).runs
            except ConfigError as e:
                compare, self.notice = None, f"{e}; comparison ended"
        if not self.runs:
            self.runs = {"A": Trainer(config, data)}
        self.config, self.compare, self.data = config, compare, data
        return self.notice

    def _data_for(self, config: ExperimentConfig):
        """The data file kept, split and typed as ``config`` asks: read again (and its checksum checked)
        when the seed, the validation share or the dtype changed; None once a built-in data set is chosen."""
        if self.data is None or config.dataset != self.config.dataset:
            return None
        if all(getattr(config, k) == getattr(self.config, k) for k in SPLIT_FIELDS):
            return self.data
        from core.data.userdata import load_source
        return load_source(self.data.source, config, since="it was opened (open it again to train on it as it is)")

    @property
    def data_source(self) -> dict | None:
        """The data file's {"path", "sha256"}, or None for a built-in data set."""
        return None if self.data is None else dict(self.data.source)

    # -- the runs --------------------------------------------------------------------
    @property
    def a(self) -> Trainer:
        return self.runs["A"]

    @property
    def b(self) -> Trainer | None:
        return self.runs.get("B")

    def history(self, run: str = "A") -> EpochHistory:
        return self.runs[run].history

    def label(self, run: str) -> str:
        """'B: activation = relu' while comparing."""
        field = self.compare[0]
        return f"{run}: {field} = {getattr(self.runs[run].config, field)}"

    @property
    def state(self) -> RunState:
        a = self.a
        if a.diverged:
            return RunState.DIVERGED
        if self._running:
            return RunState.RUNNING
        if a.step == 0:
            return RunState.READY
        return RunState.DONE if a.epoch >= self.target_epoch > 0 else RunState.PAUSED

    def refusal(self) -> str | None:
        """Why stepping or running is not possible now, or None."""
        return divergence_message(self.a.divergence) if self.a.diverged else None

    # -- stepping --------------------------------------------------------------------
    def step_batch(self, interrupt=None):
        """One batch of A and, in lockstep, of B (unless B has diverged). Returns A's BatchStats.
        ``interrupt`` (a callable): checked during A's step; when it asks, neither run steps and this
        raises ``core.nn.model.Interrupted`` (nothing changed)."""
        stats = self.a.step_batch(interrupt)
        b = self.b
        if b is not None and not b.diverged:
            b.step_batch()
        if stats.diverged:
            self._running = False
        return stats

    def step_each_epoch(self) -> dict:
        """One more epoch of every run that has not diverged, each to its end or its divergence (not in
        lockstep: B goes on after A diverges). Run name -> that run's EpochStats; what the CLI records."""
        return {name: t.step_epoch() for name, t in self.runs.items() if not t.diverged}

    def step_epoch(self, stop=lambda: False):
        """Batches until A completes an epoch (or diverges, or ``stop()``). Returns A's last BatchStats."""
        while True:
            stats = self.step_batch()
            if stats.epoch_stats is not None or stats.diverged or stop():
                return stats

    def next_target(self) -> int:
        """Where Run stops: the config's epochs, or that many more once they are reached."""
        done, n = self.a.epoch, self.config.epochs
        return n if done < n else done + n

    def run_to(self, target: int) -> None:
        if self.a.diverged:
            raise ConfigError("run", divergence_message(self.a.divergence))
        self.target_epoch, self._running = int(target), True

    def pause(self) -> None:
        self._running = False

    def train_one_batch(self, interrupt=None):
        """While running: one batch, stopping at the target epoch or a divergence. With ``interrupt`` (a
        callable, e.g. "was Pause pressed?"): None when it asked during the step, which was then not taken."""
        try:
            stats = self.step_batch(interrupt)
        except Interrupted:
            return None
        if stats.epoch_stats is not None and self.a.epoch >= self.target_epoch:
            self._running = False
        return stats

    # -- replay ----------------------------------------------------------------------
    def differences(self, expected: EpochHistory, rtol: float = 1e-9) -> list[str]:
        """What differs between a recorded history and run A's (every recorded field); [] when identical."""
        return history_differences(expected, self.history(), rtol)

    def matches(self, expected: EpochHistory, rtol: float = 1e-9) -> bool:
        """Whether run A's history equals a recorded one, field by field."""
        return not self.differences(expected, rtol)
