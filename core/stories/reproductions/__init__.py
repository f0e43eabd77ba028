"""The gallery of reproductions: published results the simulator measures itself against.

    python main.py --list-reproductions
    python main.py --reproduce glorot-2010,bengio-1994 --out table.csv

Each entry: the paper with its figure, table or equation, what runs here (scaled down where the paper's setup
cannot run on a laptop, and said so), one ``Check`` per number (published value, band) and the function that
measures them. Bands come from the published figure's precision and the spread measured over seeds
(docs/REPRODUCTIONS.md gives the reasoning and the measured table). xiong-2020 and noci-2022 run the Transformer
engine directly (it is not a model kind of the window yet: their ``story`` is empty). ``sequence-length`` is the
issue's study of rnn, lstm and gru on recall (core/stories/reproductions/sequence_length.py).
"""
from __future__ import annotations

import math

from core.stories.reproductions import deep_linear, recurrent, sequence_length, signals, spectra, transformers
from core.stories.reproductions.base import CSV_COLUMNS, SIZES, Check, Reproduction, Row, run_reproduction

INF = math.inf

_LIST = [
    Reproduction(
        "glorot-2010", "Glorot & Bengio 2010, Sec. 4.2.1 (eq. 16) and Fig. 7",
        "tanh MLP, 5 hidden layers of 1000, 256 inputs of std 0.1 (the linear regime), 3 seeds",
        (Check("per-layer ratio of back-propagated ||dL/dz||, standard init U[+-1/sqrt(n)]", math.sqrt(1 / 3),
               0.52, 0.64),
         Check("per-layer ratio of back-propagated ||dL/dz||, normalised (Xavier) init", 1.0, 0.9, 1.1)),
        signals.glorot, dict(activation="tanh", depth=5, width=256, init="uniform")),
    Reproduction(
        "he-2015", "He, Zhang, Ren & Sun 2015, Sec. 2.2 ('Comparisons with Xavier') and Fig. 3",
        "31 hidden ReLU layers of 512 (30 ReLU layers between the first and last pre-activation), 4 seeds; training: "
        "30 hidden ReLU layers of 32 on circles, SGD 0.01, 30 epochs, median of 3 seeds; scaled down: no "
        "convolutions, no ImageNet",
        (Check("std(z_31) / std(z_1), Xavier init (2^-15)", 2.0 ** -15, 2.0 ** -15 / 1.5, 2.0 ** -15 * 1.5),
         Check("std(z_31) / std(z_1), He init", 1.0, 1 / 1.5, 1.5),
         Check("He trains: 30 ReLU layers of 32, training loss after 30 epochs over ln 2", math.nan, 0.0, 0.5),
         Check("Xavier stalls: the same over ln 2 (stays at chance)", math.nan, 0.95, 1.05)),
        signals.he_with_training, dict(activation="relu", depth=30, width=128, init="xavier")),
    Reproduction(
        "saxe-2014", "Saxe, McClelland & Ganguli 2014, Sec. 4 and Fig. 6 (learning time against depth)",
        "deep linear nets, width 32, a random target map with singular values 1..2, full-batch GD, lr 0.5/depth, "
        "steps to 5% of the starting loss (at most 5000), median of 3 seeds: orthogonal depth 32 over depth 8 (the "
        "claim is a finite delay as depth grows), Gaussian depth 8 over depth 2; scaled down: depth up to 32, not 100",
        (Check("steps(depth 32) / steps(depth 8), orthogonal init (a finite, depth independent delay)", 1.0, 0.5, 2.0),
         Check("steps(depth 8) / steps(depth 2), scaled Gaussian init (grows; no number published)", math.nan,
               4.0, INF)),
        deep_linear.saxe, dict(activation="tanh", depth=8, width=32, init="orthogonal", bias_std=0.0)),
    Reproduction(
        "schoenholz-2017", "Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017, Fig. 1 / Sec. 3 (tanh, sigma_b^2 = 0.05)",
        "tanh MLP, 40 hidden layers of 400, Gaussian weights, sigma_w^2 on 1.5..2.1, 3 seeds: where the measured "
        "per-layer gradient gain crosses 1; trainable depth: sigma_w^2 = 0.8 (ordered, xi_c = 2.30 from the theory), "
        "depth 7 and 28 of width 64 trained on circles (SGD 0.05, 30 epochs, median of 3 seeds); scaled down: no "
        "MNIST / CIFAR grid",
        (Check("critical sigma_w^2 at sigma_b^2 = 0.05", 1.76, 1.66, 1.86),
         Check("trains below 6 xi_c: depth 7 (6 xi_c = 13.8 at sigma_w^2 = 0.8), training loss over ln 2", math.nan,
               0.0, 0.5),
         Check("does not train beyond 6 xi_c: depth 28 (2 x 6 xi_c), training loss over ln 2 (stays at chance)",
               math.nan, 0.95, 1.05)),
        spectra.schoenholz, dict(activation="tanh", depth=40, width=256, init="lecun",
                                     init_gain=math.sqrt(1.76), bias_std=math.sqrt(0.05))),
    Reproduction(
        "pennington-2017", "Pennington, Schoenholz & Ganguli 2017, eqs. 15-16 and Figs. 1-4",
        "J = dh_9/dh_1 (8 weight layers) of width 256, 4 seeds x 4 inputs; tanh at sigma_w^2 = 1.05, "
        "sigma_b^2 = 2.01e-5 (q* about 1/64)",
        (Check("mean eigenvalue of JJ^T, linear, Gaussian 1/N", 1.0, 0.9, 1.1),
         Check("variance of JJ^T eigenvalues, linear, Gaussian 1/N (L = 8)", 8.0, 7.0, 9.6),
         Check("largest |s - 1|, linear, orthogonal", 0.0, 0.0, 1e-9),
         Check("variance / L, ReLU, orthogonal, sigma_w^2 = 2 (does not concentrate)", 1.0, 0.85, 1.15),
         Check("variance / L, tanh, orthogonal, critical (concentrates)", 0.00427, 0.0032, 0.0054)),
        spectra.pennington, dict(activation="tanh", depth=9, width=256, init="orthogonal",
                                 init_gain=math.sqrt(1.05))),
    Reproduction(
        "pascanu-2013", "Pascanu, Mikolov & Bengio 2013, Sec. 3.1 (||W_h||_2 < 1/gamma is sufficient to vanish)",
        "a vanilla RNN of 128 units, W_h orthogonal scaled to ||W_h||_2 = 0.9/gamma, random inputs, 50 steps, "
        "the largest per-step gain of ||dh_T/dh_0||_2 over 5 seeds",
        (Check("per-step gain of ||dh_T/dh_0||, tanh (gamma = 1), bound 0.9", 0.9, 0.0, 0.9),
         Check("per-step gain of ||dh_T/dh_0||, sigmoid (gamma = 1/4), bound 0.9", 0.9, 0.0, 0.9)),
        recurrent.pascanu, dict(model="rnn", dataset="recall", activation="tanh", recurrent_gain=0.9)),
    Reproduction(
        "bengio-1994", "Bengio, Simard & Frasconi 1994, Sec. II-III (the latch h_t = tanh(2 h_{t-1}))",
        "the scalar map iterated from h = 1",
        (Check("fixed point h*", 0.9575, 0.95745, 0.95755),
         Check("gain per step 2 (1 - h*^2)", 0.1664, 0.16635, 0.16645),
         Check("gain after 10 steps", 1.6e-8, 1.55e-8, 1.65e-8)),
        recurrent.bengio, dict(model="rnn", dataset="recall", activation="tanh", recurrent_gain=2.0,
                               recurrent_init="identity", width=1)),
    Reproduction(
        "hochreiter-1991", "Hochreiter 1991 (diploma thesis), Sec. 4; Hochreiter & Schmidhuber 1997, Sec. 3",
        "the simulator's sigmoid on a grid of step 1e-4; one self-connected sigmoid unit, w = 3.9, 1000 steps",
        (Check("max sigmoid'", 0.25, 0.25 - 1e-9, 0.25),
         Check("largest |w sigmoid'(net)| at w = 3.9 < 4 (so the error vanishes)", 0.975, 0.0, 0.975)),
        recurrent.hochreiter, dict(model="rnn", dataset="recall", activation="sigmoid", recurrent_gain=3.9)),
    Reproduction(
        "le-2015", "Le, Jaitly & Hinton 2015, Fig. 2 (adding problem)",
        "the simulator's RNN, 64 units, adding problem at T = 60, 3000 sequences, Adam 1e-3, clip 1, 15 epochs; "
        "scaled down from T = 150..750 and 100k sequences",
        (Check("IRNN validation MSE over the baseline 1/6 (learns)", 0.0, 0.0, 0.25),
         Check("tanh RNN (Gaussian 1/N) validation MSE over 1/6 (does not learn)", 1.0, 0.6, 1.2)),
        recurrent.le, dict(model="rnn", dataset="adding", seq_len=60, activation="relu", recurrent_init="identity",
                           optimizer="adam", lr=1e-3, clip_norm=1.0)),
    Reproduction(
        "hanin-2018", "Hanin & Rolnick 2018, Theorem 5 (Var of the mean squared activation grows as exp(5 sum 1/n_j))",
        "ReLU, He init, one input, 300 seeds at each of 6 (depth, width) pairs with depth/width 0.1..0.8",
        (Check("slope of Var[log M_d] against sum_j 1/n_j", 5.0, 4.25, 5.75),
         Check("R^2 of that line (linear in depth/width)", 1.0, 0.9, 1.0)),
        signals.hanin, dict(activation="relu", depth=40, width=50, init="he")),
    Reproduction(
        "de-2020", "De & Smith 2020, Sec. 2 and Fig. 2 (residual blocks: Var(x_l) ~ 2^l, with batch norm ~ l + 1)",
        "20 pre-activation residual blocks x + relu(n(x)) W of width 256, He init, a batch of 512",
        (Check("per-block growth of Var(x_l), no normalisation", 2.0, 1.8, 2.2),
         Check("Var(x_20) / 21 with batch norm", 1.0, 0.9, 1.1)),
        signals.residual_growth, dict(activation="relu", depth=20, width=256, init="he", residual=True,
                                      norm="batch")),
    Reproduction(
        "xiong-2020", "Xiong et al. 2020, Theorem 1 and Fig. 3 (Pre-LN against Post-LN Transformers at initialisation)",
        "the simulator's Transformer engine (width 64, 4 heads, ReLU MLPs, Xavier), 16 positions, one logit from the "
        "last, 32 random sequences, 4 seeds; the last block's ||dL/dW2|| at depth 12 over depth 3; scaled down: no "
        "translation task, loss on one position",
        (Check("Pre-LN: last layer's gradient, depth 12 over depth 3 (at most O(sqrt(1/L)): 0.5)", 0.5, 0.0,
               0.5 * 1.5),
         Check("Post-LN: last layer's gradient, depth 12 over depth 3 (independent of L: 1)", 1.0, 1 / 1.5, 1.5)),
        transformers.xiong, {}),
    Reproduction(
        "noci-2022", "Noci et al. 2022, Sec. 3 and Fig. 1 (rank collapse in Transformers at initialisation)",
        "the simulator's Transformer engine, 12 Pre-LN blocks of width 64, 16 positions, 3 seeds: mean cosine "
        "similarity between positions after the last block",
        (Check("token similarity without skip connections (collapse: 1)", 1.0, 0.99, 1.0),
         Check("token similarity with skip connections (no collapse; no number published)", math.nan, 0.0, 0.95)),
        transformers.noci, {}),
    # issue 23, rest: the sequence-length study
    Reproduction(
        "sequence-length", "Pascanu, Mikolov & Bengio 2013, Sec. 3.1 (the bound); Hochreiter & Schmidhuber 1997 "
        "(gated memory): success rate against T on recall",
        "rnn, lstm, gru of 16 units on recall (distractors of std 0.5), W_h orthogonal with ||W_h||_2 = 0.5, Adam "
        "3e-3, "
        "clip 1, 10 epochs of 256 sequences, T = 5, 10, 20, 40, 3 seeds each; success: validation accuracy >= 0.75; "
        "half-life of ||dL/dh_t|| at initialisation at T = 40; scaled down: short runs and T up to 40",
        (Check("success rate, rnn, T = 10 (learns when short)", math.nan, 2 / 3, 1.0),
         Check("success rate, rnn, T = 20 (fails)", math.nan, 0.0, 1 / 3),
         Check("success rate, lstm, T = 20 (still learns)", math.nan, 2 / 3, 1.0),
         Check("success rate, gru, T = 20 (still learns)", math.nan, 2 / 3, 1.0),
         Check("rnn half-life of ||dL/dh_t|| over the bound ln 2 / -ln(||W_h||_2 gamma)", 1.0, 0.0, 1.0),
         Check("lstm half-life over the rnn's bound (the gated memory outlasts it; no number published)", math.nan,
               1.0, INF)),
        sequence_length.sequence_length,
        dict(model="rnn", dataset="recall", seq_len=20, width=16, depth=1, activation="tanh",
             recurrent_init="orthogonal", recurrent_gain=0.5, optimizer="adam", lr=3e-3, samples=256, epochs=10,
             noise=0.5, clip_norm=1.0)),
]

REPRODUCTIONS: dict[str, Reproduction] = {r.name: r for r in _LIST}

__all__ = ["REPRODUCTIONS", "CSV_COLUMNS", "SIZES", "Check", "Reproduction", "Row", "run_reproduction",
           "get_reproductions"]


def get_reproductions(spec: str) -> list[Reproduction]:
    """'all' or comma-separated names -> the reproductions, in the order given; ValueError naming a bad one."""
    if spec.strip() == "all":
        return list(REPRODUCTIONS.values())
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if not names:
        raise ValueError(f"reproduce: expected 'all' or names separated by commas, got {spec!r}")
    for n in names:
        if n not in REPRODUCTIONS:
            raise ValueError(f"reproduce: unknown reproduction {n!r}; allowed: all, {', '.join(REPRODUCTIONS)}")
    return [REPRODUCTIONS[n] for n in names]
