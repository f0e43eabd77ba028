"""What a story quotes, read from a run as it goes: (label, value now, holds?) per quoted number.

Each story's checks name the measured quantity its text quotes (core/stories/presets.py formats the text from
``expect``; tests/core/test_lessons.py checks the full run) and the bound the text gives. ``claims(name, run)``
evaluates them on what a run has measured so far (``RunSoFar``: the epoch history, the step history, the
first and the latest batch): a claim about epoch k is judged once the run has k epochs, a claim about step 1
once step 1 is measured, the others on the latest numbers; until then ``holds`` is None and the value says
why. A story without checks gets the loss and the validation accuracy, unjudged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Claim:
    label: str
    value: str            # the value now, formatted; "not yet measured" while there is none
    holds: bool | None    # None: not judged yet (the run has not reached the point the text speaks of)
    judged: bool = True   # False: a number shown for orientation (a story without checks), never judged


@dataclass
class RunSoFar:
    """What a run has measured so far (the window's session model or a headless Trainer keep these)."""
    history: object                  # EpochHistory
    steps: object = None             # StepHistory (clipped steps, the step-1 gradient norm)
    first_batch: object = None       # BatchStats of step 1 (at the initial weights), when it was seen
    latest_batch: object = None      # BatchStats of the latest step (the last finite one after a divergence)
    divergence: object = None        # Divergence, once training diverged
    chain: object = None             # core.measure.inspector.ChainRule of the latest batch
    initial_time_grad: object = None  # ||dL/dh_t|| at the initial weights on the first batch (a recurrent model)

    @classmethod
    def of_trainer(cls, trainer, first_batch=None, latest_batch=None, initial_time_grad=None) -> "RunSoFar":
        return cls(trainer.history, trainer.steps, first_batch, latest_batch, trainer.divergence,
                   trainer.chain_rule() if latest_batch is not None and not trainer.diverged else None,
                   initial_time_grad)


@dataclass(frozen=True)
class Check:
    label: str
    measure: Callable      # RunSoFar -> float | None
    holds: Callable        # value -> bool
    spec: str = ".3g"      # how the value is written
    epoch: int = 0         # judged once the run has this many epochs (0: on the latest numbers)


def _fmt(value, spec: str) -> str:
    if isinstance(value, tuple):
        return " to ".join(_fmt(v, spec) for v in value)
    if spec == "sci":
        return f"{value:.1e}"
    if spec == "%":
        return f"{value:.1%}"
    return format(value, spec)


def evaluate(check: Check, run: RunSoFar) -> Claim:
    with np.errstate(all="ignore"):   # a ratio of a zero gradient is inf (or NaN: not measured), not an error
        value = check.measure(run)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Claim(check.label, "not yet measured", None)
    text = value if isinstance(value, str) else _fmt(value, check.spec)
    if check.epoch and len(run.history) < check.epoch:
        return Claim(check.label, f"{text} (judged at epoch {check.epoch})", None)
    return Claim(check.label, text, bool(check.holds(value)))


# -- the measured quantities (the same arithmetic as the stories' tests) --------------------------------
def _epochs(run, name):
    return run.history.scalar(name) if len(run.history) else None


def last_loss(run):
    v = _epochs(run, "train_loss")
    return None if v is None else float(v[-1])


def best_val_accuracy(run):
    v = _epochs(run, "val_accuracy")
    return None if v is None else float(np.max(v))


def last_val_accuracy(run):
    v = _epochs(run, "val_accuracy")
    return None if v is None else float(v[-1])


def mean_grad(run):
    """||dL/dW|| per layer, mean over the epochs so far."""
    return run.history.layer("grad_norm").mean(axis=0) if len(run.history) else None


def last_grad(run):
    """||dL/dW|| per layer of the latest epoch (what the bars show after an epoch)."""
    return run.history.layer("grad_norm")[-1] if len(run.history) else None


def _layer1_over_output(profile):
    return lambda run: None if (g := profile(run)) is None else float(g[0] / g[-1])


def _hidden_spread(profile):
    def measure(run):
        g = profile(run)
        return None if g is None or len(g) < 2 else float(g[:-1].max() / g[:-1].min())
    return measure


def _early_layer1_max(epochs):
    def measure(run):
        g = run.history.layer("grad_norm")[:epochs]
        return float((g[:, 0] / g[:, -1]).max()) if len(g) else None
    return measure


def first_deltas(run):
    b = run.first_batch
    return None if b is None or not len(b.delta_norms) else np.asarray(b.delta_norms)


def delta_growth_range(run):
    """(smallest, largest) growth of ||dL/dz|| from one hidden layer to the one before it, at step 1."""
    d = first_deltas(run)
    if d is None or len(d) < 3:
        return None
    growth = d[:-2] / d[1:-1]
    return float(growth.min()), float(growth.max())


def delta_layer1_over_last_hidden(run):
    d = first_deltas(run)
    return None if d is None or len(d) < 2 else float(d[0] / d[-2])


def first_grad_spread(run):
    b = run.first_batch
    return None if b is None or not len(b.grad_norm) else float(b.grad_norm.max() / b.grad_norm.min())


def time_ratio_at_start(run):
    """||dL/dh_1|| / ||dL/dh_T|| at the initial weights (Trainer.time_gradient_norms before any step)."""
    g = run.initial_time_grad
    return None if g is None or not len(g) else float(g[0] / g[-1])


def time_ratio_last_epoch(run):
    s = run.history.series("time_grad_norm") if len(run.history) else None
    return None if s is None or not s.shape[1] else float(s[-1, 0] / s[-1, -1])


def divergence_step(run):
    return None if run.divergence is None else float(run.divergence.step)


def divergence_epoch(run):
    return None if run.divergence is None else float(run.divergence.epoch)


def step1_grad_norm(run):
    s = run.steps
    return None if s is None or not len(s) else float(s.scalar("grad_norm_total")[0])


def epochs_finished_finite(run):
    return None if run.divergence is not None else float(len(run.history))


def hidden_chain_gain(run):
    """Geometric mean of the chain rule's hidden gains (the inspector's), of the latest batch."""
    if run.chain is None:
        return None
    links = run.chain.links[2:-1]
    return float(np.exp(np.mean(np.log([l.gain for l in links])))) if links else None


# -- each story's checks: (expect -> Checks), the bounds its text quotes ---------------------------------
LN2 = math.log(2)
_L1_MEAN = "layer 1 / output ||dL/dW||, mean over epochs"
_L1_LAST = "layer 1 / output ||dL/dW||, latest epoch"
_SPREAD = "hidden ||dL/dW|| spread, max/min (mean over epochs)"
_LOSS = "training loss, latest epoch"


def _in(lo_hi):
    return lambda v: lo_hi[0] <= v <= lo_hi[1]


def _growth_in(lo_hi):
    return lambda v: lo_hi[0] <= v[0] and v[1] <= lo_hi[1]


CHECKS: dict[str, Callable] = {
    "vanishing-sigmoid": lambda e: (
        Check(_L1_MEAN, _layer1_over_output(mean_grad), lambda v: v < e["layer1_ratio"], "sci"),
        Check(_LOSS, last_loss, _in(e["loss_range"]), ".3f"),
        Check("validation accuracy, latest epoch", last_val_accuracy,
              lambda v: abs(v - e["val_accuracy"]) <= 0.005, "%")),
    "relu-fix": lambda e: (
        Check(_SPREAD, _hidden_spread(mean_grad), lambda v: v < e["hidden_spread"], ".2f"),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: v < e["final_loss_max"], ".3f", epoch=20)),
    "exploding": lambda e: (
        Check("||dL/dz|| growth per layer toward the input, step 1", delta_growth_range,
              _growth_in(e["per_layer"]), ".3g"),
        Check("layer 1 / last hidden ||dL/dz||, step 1", delta_layer1_over_last_hidden,
              _in(e["delta_rise"]), ".3g"),
        Check("||dL/dW|| spread max/min, step 1", first_grad_spread, lambda v: v < e["grad_spread"], ".2f"),
        Check("training diverged at step", divergence_step, lambda v: v == e["divergence_step"], ".0f")),
    "clipping-fix": lambda e: (
        Check("global gradient norm, step 1", step1_grad_norm,
              lambda v: e["grad_norm_step1"] / 3 <= v <= 3 * e["grad_norm_step1"], "sci"),
        Check(f"training loss below ln 2 = {LN2:.3f} (epoch {e['below_chance_epoch']})", last_loss,
              lambda v: v < LN2, ".3g", epoch=e["below_chance_epoch"])),
    "residual-fix": lambda e: (
        Check(_L1_LAST, _layer1_over_output(last_grad), lambda v: v > e["layer1_ratio"], "sci"),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: v < e["final_loss_max"], ".3f", epoch=20)),
    "batchnorm-fix": lambda e: (
        Check(_L1_MEAN + " (epoch 20)", _layer1_over_output(mean_grad),
              lambda v: f"{v:.2g}" == f"{e['layer1_ratio']:.2g}", ".2g", epoch=20),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: round(v, 2) == e["final_loss"], ".3f", epoch=20)),
    "layernorm-fix": lambda e: (
        Check(_L1_MEAN + " (epoch 20)", _layer1_over_output(mean_grad),
              lambda v: f"{v:.1e}" == f"{e['layer1_ratio']:.1e}", "sci", epoch=20),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: round(v, 2) == e["final_loss"], ".3f", epoch=20)),
    "glorot-standard": lambda e: (
        Check("chain rule: hidden layers' gain (geometric mean), latest batch", hidden_chain_gain,
              lambda v: abs(v - e["gain"]) <= e["gain_tolerance"] * e["gain"], ".2f"),
        Check(_LOSS + " (epoch 20)", last_loss, _in(e["final_loss_range"]), ".3f", epoch=20)),
    "xavier-tanh": lambda e: (
        Check(_SPREAD, _hidden_spread(mean_grad), lambda v: v < e["hidden_spread"], ".2f"),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: v < e["final_loss_max"], ".3f", epoch=20)),
    "edge-of-chaos": lambda e: (
        Check("layer 1 / layer 30 ||dL/dz||, step 1", delta_layer1_over_last_hidden, _in(e["delta_ratio"]),
              ".2f"),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: v < e["final_loss_max"], ".3f", epoch=20)),
    "adam-masks": lambda e: (
        Check(f"layer 1 / output ||dL/dW||, largest in epochs 1-{e['early_epochs']}",
              _early_layer1_max(e["early_epochs"]), lambda v: v < e["layer1_ratio"], "sci"),
        Check(_LOSS + " (epoch 20)", last_loss, lambda v: v < e["final_loss_max"], ".3f", epoch=20),
        Check(_L1_LAST + " (epoch 20)", _layer1_over_output(last_grad),
              lambda v: v > e["final_layer1_ratio"], "sci", epoch=20)),
    "constant-init": lambda e: (
        Check(_LOSS + f" (epoch {e['plateau_epoch']} on)", last_loss, _in(e["plateau_range"]), ".3f",
              epoch=e["plateau_epoch"]),),
    "rnn-vanishing": lambda e: (
        Check("||dL/dh_1|| / ||dL/dh_100||, at initialisation", time_ratio_at_start, lambda v: v < e["ratio_max"], "sci"),
        Check("best validation accuracy so far", best_val_accuracy, lambda v: v <= e["val_accuracy_max"], "%")),
    "lstm-fix": lambda e: (
        Check("||dL/dh_1|| / ||dL/dh_100||, at initialisation", time_ratio_at_start, lambda v: v > e["init_ratio_min"], ".3g"),
        Check(f"best validation accuracy (epoch {e['epochs']})", best_val_accuracy,
              lambda v: v >= e["val_accuracy_min"], "%", epoch=e["epochs"])),
    "gru-fix": lambda e: (
        Check(f"best validation accuracy (epoch {e['epochs']})", best_val_accuracy,
              lambda v: v >= e["val_accuracy_min"], "%", epoch=e["epochs"]),),
    "rnn-exploding": lambda e: (
        Check("||dL/dh_1|| / ||dL/dh_100||, at initialisation", time_ratio_at_start, lambda v: v > e["ratio_min"], "sci"),
        Check("training diverged in epoch", divergence_epoch, lambda v: v == e["divergence_epoch"], ".0f")),
    "rnn-clipping": lambda e: (
        Check("epochs finished with finite weights", epochs_finished_finite, lambda v: v == e["epochs"], ".0f",
              epoch=e["epochs"]),),
    "irnn": lambda e: (
        Check("||dL/dh_1|| / ||dL/dh_100||, at initialisation", time_ratio_at_start, lambda v: v > e["ratio_min"], ".3g"),
        Check(f"best validation accuracy (epoch {e['epochs']})", best_val_accuracy,
              lambda v: v >= e["val_accuracy_min"], "%", epoch=e["epochs"]),
        Check(f"||dL/dh_1|| / ||dL/dh_100||, last epoch (epoch {e['epochs']})", time_ratio_last_epoch,
              lambda v: v > e["late_ratio_min"], "sci", epoch=e["epochs"])),
}

_DEFAULT = (Check(_LOSS, last_loss, lambda v: True, ".3f"),
            Check("validation accuracy, latest epoch", last_val_accuracy, lambda v: True, "%"))


def checks_of(preset) -> tuple:
    """The story's checks; a story without its own: the loss and accuracy, shown but not judged."""
    make = CHECKS.get(preset.name)
    return make(preset.expect) if make is not None else ()


def claims(preset, run: RunSoFar) -> list[Claim]:
    """(label, value now, holds?) of each number the story quotes, on the run so far."""
    own = checks_of(preset)
    if own:
        return [evaluate(c, run) for c in own]
    return [Claim(c.label, evaluate(c, run).value, None, judged=False) for c in _DEFAULT]
