"""The training loop: one batch at a time, measuring gradient flow as it goes.

A step is the textbook algorithm: forward, loss, backward (chain rule), optional
global-norm clipping, optimiser update ``w_new = w_old + update``. The first non-finite
loss, gradient or weight stops training and records where it happened; the state is
left as it was so it can be inspected.
"""
from __future__ import annotations

import math

import numpy as np

from core.config import STORAGE, ConfigError, ExperimentConfig
from core.data.datasets import Dataset, make_dataset
from core.measure.distributions import InsideRecorder   # issue 12
from core.measure.sequence_inside import SequenceInsideRecorder   # issue 21
from core.training.history import EpochHistory, StepHistory
from core.training.divergence_checks import DivergenceChecks
from core.training.inspection import Inspection
from core.training.precision_step import PrecisionStep   # issue 24
from core.training.rewind import RewindRecorder   # issue 21
from core.measure.through_time import pascanu_bound
from core.training.transformer_stats import from_pass
from core.training.update_pass import SGDUpdate, UpdatePass   # issue 25
from core.nn.kinds import build_model, kind_of
from core.nn.model import Interrupted
from core.nn.optimizers import SGD, make_optimizer
from core.nn.recurrent import SIGMOID_MAX_DERIV
from core.runtime.resources import check_fits
from core.training.statistics import (BatchStats, Divergence, EpochAccumulator, EpochStats, NormStats,
                         SATURATION_THRESHOLD, Segments, _fix_overflow, combined_norm, segment_norms)

# Settings a running network can take without being rebuilt.
LIVE_FIELDS = ("lr", "optimizer", "clip_norm", "epochs")


def check_data(cfg: ExperimentConfig, data: Dataset | None) -> None:
    """ConfigError unless ``cfg``'s network can train on ``data`` (a data set from a file, or None)."""
    if data is not None and kind_of(cfg).sequences and not data.is_sequence:
        raise ConfigError("model", f"model {cfg.model} needs a sequence task (recall, adding), but the rows of a "
                                   "data file are not sequences: use model mlp with a data file")


def _deriv_can_be_negative(activation) -> bool:
    """Whether phi' dips below 0 somewhere (GELU, SiLU): then mean |phi'| differs from mean phi'."""
    z = np.linspace(-10.0, 10.0, 20_001)
    with np.errstate(all="ignore"):
        return bool(np.min(activation.df(z, activation.f(z))) < 0)


class Trainer(Inspection, DivergenceChecks):
    # Layers of this many weights or more have their gradient statistics measured inside the backward pass; so do
    # layers of half as many when the whole gradient is larger than FUSED_STATS_BYTES (it no longer stays in L2
    # until the pass ends: step on/off 0.965 at 100/128/32 and 0.968 at 30/128/32, 1.00 at 10/128/32).
    FUSED_STATS_MIN = 32768
    FUSED_STATS_BYTES = 2 << 20

    @classmethod
    def _fuse_stats(cls, largest_layer: int, gradient_bytes: int) -> bool:
        return bool(largest_layer >= cls.FUSED_STATS_MIN or
                    (largest_layer >= cls.FUSED_STATS_MIN // 2 and gradient_bytes > cls.FUSED_STATS_BYTES))

    def __init__(self, config: ExperimentConfig | None = None, data: Dataset | None = None):
        """``data``: a data set loaded from a file (core.data.userdata) in place of config.dataset's."""
        cfg = config if config is not None else ExperimentConfig()
        check_fits(cfg)  # refuse, naming what to reduce, rather than be killed for lack of memory
        check_data(cfg, data)
        self.config = cfg
        data_seed, init_seed, shuffle_seed = np.random.SeedSequence(cfg.seed).spawn(3)
        dtype = np.dtype(STORAGE[cfg.dtype])   # float16/bfloat16: float32 arrays, rounded by the network
        self.data = data if data is not None else make_dataset(
            cfg.dataset, np.random.default_rng(data_seed), cfg.samples, cfg.noise, cfg.val_fraction, dtype,
            cfg.seq_len)
        if not kind_of(cfg).sequences and self.data.is_sequence:
            self.data = self.data.flattened()  # an MLP sees the whole sequence at once
        # any network with the interface of core.nn.model plugs in here; nothing below depends on its kind
        self.network = build_model(cfg, self.data.n_features, self.data.task, np.random.default_rng(init_seed),
                                   dtype, self.data.n_outputs)
        self.optimizer = make_optimizer(cfg.optimizer, cfg.lr)
        self._shuffle_rng = np.random.default_rng(shuffle_seed)
        self.epoch = 0                 # completed epochs
        self.step = 0                  # completed batches
        self.divergence: Divergence | None = None
        self.last_batch: BatchStats | None = None
        self.last_finite_batch: BatchStats | None = None  # the latest batch before any divergence
        net = self.network
        self.history = EpochHistory(net.n_layers)   # every completed epoch, in growing arrays
        self.steps = StepHistory(net.n_layers)      # every step (batch): the timeline
        self.last_epoch: EpochStats | None = None
        self._w_sizes = np.diff(np.append(net.w_offsets, net.n_weights))
        self._b_slice = slice(net.n_weights, net.flat.size)
        self._layers = Segments(net.w_offsets, self._w_sizes)
        self._w_norms = self._layers.norms(net.flat)
        # gamma of each hidden layer, then beta of each: one segment each
        self._norm_segments = Segments(np.append(net.gamma_offsets, net.beta_offsets),
                                       [net.sizes[1]] * (2 * len(net.gamma_offsets))) if net.norm_params else None
        self._allocate_buffers(net)
        self._sat_level = SATURATION_THRESHOLD * net.activation.max_deriv
        self._signed_deriv = _deriv_can_be_negative(net.activation)
        # measure each layer's gradient during the backward pass when its layers are large (switch by size)
        self.fused_stats = self._fuse_stats(self._w_sizes.max(), net.n_weights * net.flat.itemsize)
        self._order: np.ndarray | None = None
        self._last_idx: np.ndarray | None = None  # the samples of the latest batch
        self._pos = 0
        self._acc: EpochAccumulator | None = None
        self.precision = PrecisionStep(cfg, net)
        self._update_pass = UpdatePass.for_network(net, self.precision)   # issue 25; None: the separate passes
        self.inside = InsideRecorder(net, cfg.seed, cfg.batch_size, self.batches_per_epoch) \
            if "inside" in kind_of(cfg).views else SequenceInsideRecorder(net, cfg.seed, self.data.X_train.shape[1]) \
            if "inside_time" in kind_of(cfg).views else None   # issue 12; issue 21: recurrent and Transformer
        self.rewind = RewindRecorder(self.batches_per_epoch, self.inside, pascanu_bound(cfg, net))   # issue 21

    def _allocate_buffers(self, net) -> None:
        """Reused every step: fresh arrays this large would cost page faults each time."""
        self._grad = np.empty_like(net.flat)
        self._update = np.empty_like(net.flat)
        self._abs = np.empty(net.n_weights, dtype=net.flat.dtype)
        self._sgd_update_unwritten = False   # the update pass left SGD's update of the weights unwritten

    # -- settings -------------------------------------------------------------------
    @property
    def diverged(self) -> bool:
        return self.divergence is not None

    @property
    def batches_per_epoch(self) -> int:
        return -(-len(self.data.y_train) // self.config.batch_size)

    def apply(self, **changes) -> None:
        """Change learning rate, optimiser, clipping or epochs without rebuilding the network."""
        rebuild = [k for k in changes if k not in LIVE_FIELDS]
        if rebuild:
            raise ConfigError(rebuild[0], f"{rebuild[0]} changes the network or data; build a new Trainer")
        old = self.config
        self.config = old.replace(**changes)
        if self.config.optimizer != old.optimizer:
            self.optimizer = make_optimizer(self.config.optimizer, self.config.lr)
        self.optimizer.lr = self.config.lr

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step`` (1 = the first): lr * min(1, step / warmup_steps), linear warm-up
        (issue 22); lr itself without warm-up."""
        w = self.config.warmup_steps
        return self.config.lr if w <= 0 or step >= w else self.config.lr * step / w

    # -- one batch ------------------------------------------------------------------
    def train_on_batch(self, X: np.ndarray, y: np.ndarray, collect_stats: bool = True,
                       interrupt=None) -> BatchStats | None:
        """One step of gradient descent on (X, y); its statistics, or None when collect_stats is False.

        ``interrupt`` (a callable, e.g. "was Pause pressed?") is checked between the layers of the forward and
        backward pass and once more before the update: when it returns True the step is abandoned with
        ``core.nn.model.Interrupted`` and nothing has changed (weights, step count, statistics), so a long step
        answers a pause within one layer's work.

        1. forward and backward pass: the loss and dL/dw for every weight (the chain rule, MLP.backward)
        2. stop at a non-finite loss or gradient, recording where
        3. clip the global gradient norm, if asked
        4. w_new = w_old + update (the optimiser's step)
        5. stop at a non-finite weight, recording where
        6. measure the per-layer statistics
        """
        net = self.network
        prec = self.precision
        with np.errstate(all="ignore"):  # overflow is expected here and reported as divergence
            with prec.scaled_loss():   # loss scaling: the backward pass takes the loss times the scale
                r = net.backward(X, y, grad_out=self._grad, update_running=True, interrupt=interrupt,    # 1
                                 stats_scratch=self._abs if collect_stats and self.fused_stats else None)
            prec.unscale(r)   # the gradient of the loss itself from here on
            g = r.grad_flat
            w_before = self._w_norms if self._w_norms is not None else self._layers.norms(net.flat)
            # gradient statistics are of dL/dW itself, so they are taken before any clipping
            gw_norms, abs_stats = self._gradient_measures(r) if collect_stats else (None, None)
            total = self._global_norm(g, gw_norms)
            norm_before = self._norm_measure(g) if collect_stats and self._norm_segments else None
            if interrupt is not None and interrupt():  # the last point where the step can be abandoned
                if r.undo is not None:
                    r.undo()
                raise Interrupted()
            self.step += 1
            self.optimizer.lr = self.lr_at(self.step)   # issue 22: the warm-up's rate for this step
            applied = prec.accept(total, self._update)   # False: dynamic loss scaling skips this step
            divergence = self._check_loss_and_gradient(r, X, total) if applied else None  # 2
            scale, lost = 1.0, None
            if divergence is None and applied:
                scale, lost, divergence = self._update_weights(g, total, collect_stats)  # 3, 4, 5
            if not collect_stats:
                return None
            stats = self._batch_stats(r, len(y), gw_norms, abs_stats, w_before, total, scale, divergence,  # 6
                                      applied)
            self._precision_stats(stats, lost, applied)
            self._pass_measures(r, X, stats, scale, norm_before, divergence is None or
                                divergence.quantity == "weights")
            return stats

    def _pass_measures(self, r, X, stats: BatchStats, scale: float, norm_before, applied: bool) -> None:
        """Step 6's measures of the pass itself: the Inside page's (issue 12), a Transformer's own (issue 22) and
        the norm layers'; ``applied``: the update reached the weights (no divergence before it)."""
        net, update = self.network, self._update
        transformer = getattr(r, "transformer", None) is not None
        if self._sgd_update_unwritten and transformer:   # it reads all of the update of the weights
            self._update_pass.write_sgd_update(update, r.grad_flat, self.optimizer.lr)
        elif self._sgd_update_unwritten:   # the recorder reads its samples of it
            update = SGDUpdate(r.grad_flat, self.optimizer.lr, net.n_weights)
        if self.inside is not None:   # issue 12: core/measure/distributions.py
            self.inside.measure(r, X, stats, net.flat, update, scale)
        if transformer:   # issue 22
            stats.transformer = from_pass(net, r.transformer, self._update, applied)
        if norm_before is not None:
            stats.norm = self._norm_stats(*norm_before, applied=applied)

    def _update_weights(self, g, total: float, collect_stats: bool):
        """Steps 3-5: clip, w_new = w_old + update (rounded back to the format without master weights), check
        the weights. Returns the clipping factor, lost_updates per layer (None without statistics) and the
        divergence, if any."""
        net, prec, scale = self.network, self.precision, 1.0
        clip = self.config.clip_norm
        if clip is not None and total > clip:
            scale = clip / total
            g *= scale  # same direction, global norm = clip
        self._sgd_update_unwritten = False
        if collect_stats and self._update_pass is not None:   # the update and its statistics in one pass
            sgd = type(self.optimizer) is SGD   # its update is formed in the same pass
            update, n = (self._update if sgd else self.optimizer.update(g, self._update)), net.n_weights
            self._w_norms, lost = self._update_pass.apply(net.flat, update, g, self.optimizer.lr if sgd else None)
            self._sgd_update_unwritten = sgd   # written if a reader needs all of it
            net.flat[n:] += self.optimizer.update(g[n:], update[n:]) if sgd else update[n:]
            return scale, lost, self._check_weights()
        update = self.optimizer.update(g, self._update)
        if collect_stats:
            prec.keep(net.flat)
        net.flat += update
        prec.stored()   # without master weights: w + update rounded to the format
        lost = prec.lost_updates(net.flat, g) if collect_stats else None
        self._w_norms = self._layers.norms(net.flat) if collect_stats else None
        return scale, lost, self._check_weights()

    def _precision_stats(self, stats: BatchStats, lost, applied: bool) -> None:
        """Issue 24: underflow, overflow, lost_updates per layer, the loss scale used and whether it was skipped."""
        prec = self.precision
        stats.underflow, stats.overflow = prec.rounding()
        stats.lost_updates = lost if lost is not None else np.full(self.network.n_layers, np.nan)
        stats.loss_scale, stats.skipped = prec.scale_used, not applied

    def _gradient_measures(self, r):
        """||dL/dW||, mean and max |dL/dW| per layer: measured during the backward pass (large layers, while
        each dL/dW is in cache) or here, all layers at once (small layers: a few calls in all)."""
        seg = self._layers
        if r.grad_stats is None:
            return seg.norms(r.grad_flat), seg.abs_mean_and_max(r.grad_flat, self._abs)
        sq, total, peak = r.grad_stats
        return _fix_overflow(np.sqrt(sq), r.grad_flat, seg.offsets, seg.sizes), (total / seg.sizes, peak)

    def _norm_measure(self, g):
        """||dL/dgamma||, ||dL/dbeta|| and ||gamma||, ||beta|| per hidden layer, before the step."""
        return self._norm_segments.norms(g), self._norm_segments.norms(self.network.flat)

    def _norm_stats(self, grad_norms, before, applied: bool) -> NormStats:
        seg = self._norm_segments
        after = seg.norms(self.network.flat)
        upd = seg.norms(self._update) if applied else np.zeros_like(before)
        ratio = np.divide(upd, before, out=np.where(upd > 0, np.inf, 0.0), where=before > 0)
        d = len(before) // 2
        return NormStats(gamma_grad_norm=grad_norms[:d], gamma_norm=after[:d], gamma_update_ratio=ratio[:d],
                         beta_grad_norm=grad_norms[d:], beta_norm=after[d:], beta_update_ratio=ratio[d:])

    def _global_norm(self, g: np.ndarray, gw_norms: np.ndarray | None) -> float:
        """||dL/dw|| over every parameter, weights and biases; from the per-layer norms when measured."""
        if gw_norms is None:
            return combined_norm(segment_norms(g, [0], [g.size]))
        b = g[self._b_slice]
        sq = float(np.dot(gw_norms, gw_norms)) + float(np.vdot(b, b))
        if 0.0 < sq < math.inf:  # the common case; else squares overflowed or underflowed: the exact way
            return math.sqrt(sq)
        b0 = self._b_slice.start
        return combined_norm(np.append(gw_norms, segment_norms(g, [b0], [g.size - b0])))

    def _batch_stats(self, r, batch_size: int, gw_norms, abs_stats, w_before, total: float, scale: float,
                     divergence: Divergence | None, applied: bool = True) -> BatchStats:
        L = self.network.n_layers
        mean_abs, max_abs = abs_stats
        if (divergence is not None and divergence.quantity != "weights") or not applied:
            upd_norms = np.zeros(L)  # no update was applied
        elif self.optimizer.scales_gradient:  # SGD: the update is -lr * g, its norm lr * ||g||
            upd_norms = self.optimizer.lr * scale * gw_norms
        else:
            upd_norms = self._layers.norms(self._update)
        ratio = np.divide(upd_norms, w_before, out=np.where(upd_norms > 0, np.inf, 0.0), where=w_before > 0)
        act_mean, saturation = np.ones(L), np.zeros(L)  # the linear output layer: phi' = 1
        D = r.derivs.reshape(L - 1, -1)  # every hidden unit of a layer (and every time step) in one row
        act_mean[:-1] = np.add.reduce(D, axis=1) / D.shape[1]
        abs_mean = act_mean.copy()  # mean |phi'|, for the chain rule: the same unless phi' can be negative
        if self._signed_deriv:
            abs_mean[:-1] = np.add.reduce(np.abs(D), axis=1) / D.shape[1]
        # count per row by summing the comparison's bytes: count_nonzero(axis=1) is 2x slower
        saturated = np.less_equal(D, self._sat_level).view(np.uint8)   # uint32 sums: 2x int64's speed
        count = np.uint32 if D.shape[1] < 2**32 else np.int64
        saturation[:-1] = np.add.reduce(saturated, axis=1, dtype=count) / D.shape[1]
        w_norms = self._w_norms if self._w_norms is not None else w_before
        return BatchStats(
            grad_norm=gw_norms, grad_mean_abs=mean_abs, grad_max_abs=max_abs, weight_norm=w_norms.copy(),
            update_ratio=ratio, act_deriv_mean=act_mean, saturation=saturation, epoch=self.epoch + 1,
            step=self.step, loss=r.loss, batch_size=batch_size, diverged=divergence is not None,
            divergence=divergence, grad_norm_total=total, clipped=scale != 1.0, delta_norms=r.delta_norms,
            act_deriv_abs_mean=abs_mean,
            time_grad_norm=r.time_grad_norm, layer_time_grad_norm=r.layer_time_grad_norm,
            gate_saturation=self._gate_saturation(r.gate_derivs), spectral_norm=self.spectral_norms(),
            vanishing_bound=self.network.vanishing_bound)

    @staticmethod
    def _gate_saturation(gate_derivs: dict) -> dict:
        """Per gate, the share of each layer's sigma'(z) at or below 5% of sigma's largest derivative."""
        level = SATURATION_THRESHOLD * SIGMOID_MAX_DERIV
        return {name: np.array([np.count_nonzero(d <= level) / d.size for d in per_layer])
                for name, per_layer in gate_derivs.items()}

    # -- batches and epochs -----------------------------------------------------------
    def step_batch(self, interrupt=None) -> BatchStats:
        """Train on the next batch of the current epoch; may complete the epoch.
        ``interrupt``: see ``train_on_batch``; an abandoned step leaves the next call to take the same batch."""
        if self.diverged and self.last_batch is not None:
            return self.last_batch
        if self._order is None:
            self._order = self._shuffle_rng.permutation(len(self.data.y_train))
            self._pos = 0
            self._acc = EpochAccumulator(self.network.n_layers)
            self._acc.keep_precision_steps = self.precision.detailed
        idx = self._order[self._pos:self._pos + self.config.batch_size]
        # Interrupted leaves _pos where it was: the next call takes the same batch
        b = self.train_on_batch(self.data.X_train[idx], self.data.y_train[idx], interrupt=interrupt)
        self._pos += len(idx)
        self._last_idx = idx
        self.steps.append(b)
        self._acc.add(b)
        if b.diverged or self._pos >= len(self._order):
            b.epoch_stats = self._finish_epoch()
        self.last_batch = b
        if not b.diverged:
            self.last_finite_batch = b
        self.rewind.add(b)   # issue 21: what the plots show at this step, if it is a recorded one
        return b

    def step_epoch(self) -> EpochStats:
        """Train on the rest of the current epoch (all of it when none has begun)."""
        if self.diverged and self.last_epoch is not None:
            return self.last_epoch
        while True:
            b = self.step_batch()
            if b.epoch_stats is not None:
                return b.epoch_stats

    def _finish_epoch(self) -> EpochStats:
        val_loss, val_acc = self.evaluate(self.data.X_val, self.data.y_val)
        if self.divergence is None and not np.isfinite(val_loss):  # the training batches were finite, not these
            net = self.network
            with np.errstate(all="ignore"):
                layer = net.first_nonfinite_layer(self.data.X_val) or net.n_layers
            self._diverged("validation loss", layer)
        self.epoch += 1
        stats = self._acc.finish(self.epoch, self.step, val_loss, val_acc, self.divergence)
        self.history.append(stats)
        self.last_epoch = stats
        self._order, self._acc = None, None
        return stats

    def evaluate(self, X, y) -> tuple[float, float | None]:
        """Mean loss and, for classification, accuracy on (X, y): the share of samples whose
        predicted class (logit > 0; multi-class: the largest logit) is their label."""
        with np.errstate(all="ignore"):
            out = self.network.forward(X)
            loss = self.network.loss_fn(out, y)[0]
            if self.data.task == "classification":
                return loss, float(np.mean((out > 0) == (y > 0.5)))
            if self.data.task == "multiclass":
                return loss, float(np.mean(np.argmax(out, axis=1) == y))
            return loss, None

    def run(self, epochs: int | None = None, on_epoch=None) -> list[EpochStats]:
        """Train up to ``epochs`` more epochs (config.epochs by default); stop early on divergence."""
        done = []
        for _ in range(self.config.epochs if epochs is None else epochs):
            stats = self.step_epoch()
            done.append(stats)
            if on_epoch is not None:
                on_epoch(stats)
            if stats.diverged:
                break
        return done
