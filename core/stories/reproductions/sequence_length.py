"""The sequence-length study: how far back each recurrent cell learns to remember, and why (issue 23).

The simulator's rnn, lstm and gru, trained on the recall task (the label is the sign of the first input; steps
2..T are N(0, 0.5^2) distractors) at several sequence lengths T and seeds: the success rate (share of seeds whose
final validation accuracy reaches SUCCESS) against T. Beside it, the memory half-life at initialisation: the number
of steps back over which ||dL/dh_t|| halves (ln 2 over the least-squares slope of ln ||dL/dh_t|| against t),
against Pascanu, Mikolov & Bengio's bound: each step back multiplies the RNN's gradient by at most ||W_h||_2 gamma
(gamma = max phi'), so its half-life is at most ln 2 / -ln(||W_h||_2 gamma) steps. The gated cells carry the
gradient past W_h (the LSTM's cell state, the GRU's update gate), so the bound does not hold for them.

All three cells start from the same W_h (orthogonal, ||W_h||_2 = 0.5: the RNN's bound is one step) and train with
the same Adam 3e-3, 10 epochs of 256 sequences, width 16. Scaled down: a study of this kind trains for far longer
and at longer T; here it runs in a couple of minutes (docs/REPRODUCTIONS.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODELS = ("rnn", "lstm", "gru")
SUCCESS = 0.75            # final validation accuracy that counts as "learned" (chance is 0.5)
W_H_NORM = 0.5            # ||W_h||_2 at initialisation (orthogonal, scaled)
FULL = dict(lengths=(5, 10, 20, 40), short=10, long=20, seeds=3, epochs=10, samples=256, width=16, half_life_len=40)
SMALL = dict(lengths=(5, 20), short=5, long=20, seeds=1, epochs=10, samples=256, width=16, half_life_len=20)


def _config(model: str, T: int, seed: int, p: dict):
    from core.config import ExperimentConfig
    return ExperimentConfig(model=model, dataset="recall", seq_len=T, width=p["width"], depth=1, activation="tanh",
                            recurrent_init="orthogonal", recurrent_gain=W_H_NORM, optimizer="adam", lr=3e-3,
                            batch_size=32, samples=p["samples"], epochs=p["epochs"], noise=0.5, seed=seed,
                            clip_norm=1.0)


def final_accuracy(model: str, T: int, seed: int, p: dict) -> float:
    """Validation accuracy after training (the simulator's Trainer, the whole run)."""
    from core.training.trainer import Trainer
    t = Trainer(_config(model, T, seed, p))
    t.run()
    acc = t.last_epoch.val_accuracy
    return math.nan if acc is None else float(acc)


def half_life(time_grad_norm) -> float:
    """Steps back over which ||dL/dh_t|| halves: ln 2 / slope of ln ||dL/dh_t|| against t (least squares over all
    steps). inf where the norm does not shrink going back (slope <= 0); NaN where a norm is zero or not finite."""
    g = np.asarray(time_grad_norm, dtype=float)
    if g.size < 2 or not np.all(np.isfinite(g)) or np.any(g <= 0):
        return math.nan
    slope = float(np.polyfit(np.arange(g.size, dtype=float), np.log(g), 1)[0])
    return math.inf if slope <= 0 else math.log(2.0) / slope


def initial_half_life(model: str, seed: int, p: dict) -> tuple[float, float]:
    """(half-life of ||dL/dh_t|| at initialisation on the first batch, ||W_h||_2 gamma) for ``model`` at T =
    half_life_len; ||W_h||_2 gamma is NaN where the kind registry says Pascanu's bound does not hold (the gated
    cells)."""
    from core.measure.through_time import pascanu_bound
    from core.training.trainer import Trainer
    t = Trainer(_config(model, p["half_life_len"], seed, p))
    one_over_gamma = pascanu_bound(t.config, t.network)
    return half_life(t.time_gradient_norms()), float(t.spectral_norms()[0]) / one_over_gamma


@dataclass(frozen=True)
class Study:
    lengths: tuple
    seeds: int
    success: dict         # model -> success rate per length (share of seeds with accuracy >= SUCCESS)
    accuracy: dict        # model -> (lengths x seeds) final validation accuracies
    half_life: dict       # model -> median half-life over seeds at initialisation (steps)
    gain_bound: float     # the RNN's ||W_h||_2 gamma at initialisation

    @property
    def bound_half_life(self) -> float:
        """The most steps the RNN's gradient can take to halve: ln 2 / -ln(||W_h||_2 gamma)."""
        return math.inf if self.gain_bound >= 1 else math.log(2.0) / -math.log(self.gain_bound)


def run_study(size: str) -> Study:
    p = FULL if size == "full" else SMALL
    accuracy, success, life = {}, {}, {}
    gain = math.nan
    for model in MODELS:
        acc = np.array([[final_accuracy(model, T, s, p) for s in range(p["seeds"])] for T in p["lengths"]])
        accuracy[model] = acc
        success[model] = tuple(float(np.mean(row >= SUCCESS)) for row in acc)
        pairs = [initial_half_life(model, s, p) for s in range(p["seeds"])]
        life[model] = float(np.median([h for h, _ in pairs]))
        gains = [g for _, g in pairs if math.isfinite(g)]   # the RNN's: the bound holds for it alone
        gain = max(gains) if gains else gain
    return Study(tuple(p["lengths"]), p["seeds"], success, accuracy, life, gain)


def sequence_length(size: str) -> tuple:
    """The gallery's checks: the RNN learns the shorter T and fails the longer one (FULL: T = 10 and T = 20)
    where the LSTM and the GRU still learn; the RNN's half-life over its bound (at most 1); the LSTM's half-life
    over the RNN's bound (the gated cell's memory outlasts it: above 1)."""
    p = FULL if size == "full" else SMALL
    s = run_study(size)
    short, long_ = s.lengths.index(p["short"]), s.lengths.index(p["long"])
    bound = s.bound_half_life
    return (s.success["rnn"][short], s.success["rnn"][long_], s.success["lstm"][long_], s.success["gru"][long_],
            s.half_life["rnn"] / bound, s.half_life["lstm"] / bound)


def table_lines(s: Study) -> list[str]:
    """The study as markdown rows (docs/REPRODUCTIONS.md): success rate per model and T, and the half-lives."""
    lines = ["| model | " + " | ".join(f"T = {T}" for T in s.lengths) + " | half-life at init (steps) |",
             "|---|" + "---|" * len(s.lengths) + "---|"]
    for m in MODELS:
        cells = " | ".join(f"{r:.2f}" for r in s.success[m])
        lines.append(f"| {m} | {cells} | {s.half_life[m]:.3g} |")
    lines.append(f"\nRNN: ||W_h||_2 gamma = {s.gain_bound:.3g} at initialisation, so its half-life is at most "
                 f"{s.bound_half_life:.3g} steps (Pascanu et al.'s bound).")
    return lines
