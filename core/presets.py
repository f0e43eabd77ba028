"""The stories, one click away: each preset is a config plus what to watch and why."""
from __future__ import annotations

from dataclasses import dataclass

from .config import ConfigError, ExperimentConfig


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str   # one line, for --list-presets
    watch: str     # what to look at
    happens: str   # what you will see
    why: str       # the reason, in a sentence or two
    fields: dict

    def config(self, **overrides) -> ExperimentConfig:
        return ExperimentConfig.from_dict({**self.fields, **overrides})

    def lesson(self) -> str:
        return f"Watch: {self.watch}\nWhat happens: {self.happens}\nWhy: {self.why}"


# The sequence stories: one recurrent layer of 32 units on `recall` with T = 100 steps (the label is the
# sign of the first input; 99 distractors of standard deviation 0.2 follow).
_SEQ = dict(dataset="recall", seq_len=100, noise=0.2, samples=1024, depth=1, width=32, batch_size=32, seed=0)

RECURRENT_PRESETS = [
    Preset("rnn-vanishing",
           "a tanh RNN must carry the first input 100 steps: ||dL/dh_1|| is below 1e-15 of ||dL/dh_100||",
           "the time-step plot from right (t = 100) to left (t = 1), and validation accuracy.",
           "at initialisation the gradient reaching the first step is below 1e-15 of the last step's, and over "
           "5 epochs validation accuracy stays at chance (at most 0.7): the network never learns that the first "
           "input is the answer.",
           "dL/dh_1 is a product of 99 factors W_h^T diag(tanh'). With PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) "
           "weights W_h's eigenvalues lie within about 1/sqrt(3) = 0.58 of 0, and the gradient shrinks by about "
           "0.6 per step: 0.6^99 is about 1e-22 (Bengio, Simard & Frasconi 1994).",
           dict(_SEQ, model="rnn", activation="tanh", recurrent_init="uniform", optimizer="adam", lr=0.003, epochs=5)),
    Preset("lstm-fix",
           "an LSTM on the same task: the cell's additive path keeps the gradient, and it learns",
           "the time-step plot (level, not falling) against rnn-vanishing's, and validation accuracy.",
           "at initialisation ||dL/dh_1|| / ||dL/dh_100|| is more than 1e10 times rnn-vanishing's, and "
           "validation accuracy passes 0.9 within 5 epochs.",
           "c_t = f c_{t-1} + i g: back through time the cell's gradient is multiplied by the forget gate, "
           "sigma(3) = 0.95 with forget_bias 3, not by W_h and tanh' (Hochreiter & Schmidhuber 1997; Gers et al. 2000).",
           dict(_SEQ, model="lstm", activation="tanh", recurrent_init="uniform", forget_bias=3.0, optimizer="adam",
                lr=0.003, epochs=5)),
    Preset("gru-fix",
           "a GRU on the same task: its update gate carries h_{t-1} through; it learns within 5 epochs",
           "the time-step plot against rnn-vanishing's, and validation accuracy.",
           "at initialisation ||dL/dh_1|| / ||dL/dh_100|| is more than 1e10 times rnn-vanishing's, and "
           "validation accuracy passes 0.9 within 5 epochs.",
           "h_t = (1 - z) n + z h_{t-1}: with z's bias at 3 (forget_bias), 95% of the old state and its gradient "
           "pass each step directly (Cho et al. 2014).",
           dict(_SEQ, model="gru", activation="tanh", recurrent_init="uniform", forget_bias=3.0, optimizer="adam",
                lr=0.003, epochs=5)),
    Preset("rnn-exploding",
           "a ReLU RNN with W_h = 1.2 I: the gradient grows back through time, then training diverges",
           "the time-step plot rising to the left, and the status bar.",
           "at initialisation ||dL/dh_1|| is more than 1e6 times ||dL/dh_100||; the first update is "
           "huge and the loss overflows within the first epoch.",
           "each step back multiplies the gradient by W_h^T diag(relu') = 1.2 on active units: 1.2^99 is about "
           "7e7 (Pascanu, Mikolov & Bengio 2013).",
           dict(_SEQ, model="rnn", activation="relu", recurrent_init="identity", recurrent_gain=1.2,
                optimizer="sgd", lr=0.01, epochs=3)),
    Preset("rnn-clipping",
           "rnn-exploding with global-norm clipping at 1: the same exploding gradient, but training stays finite",
           "the global gradient norm (huge) against the weights and the loss (finite).",
           "the gradient is as large as in rnn-exploding, but every step is rescaled to norm 1: all 3 epochs "
           "finish with finite weights.",
           "clipping (Pascanu, Mikolov & Bengio 2013) keeps the gradient's direction and caps its length.",
           dict(_SEQ, model="rnn", activation="relu", recurrent_init="identity", recurrent_gain=1.2,
                optimizer="sgd", lr=0.01, epochs=3, clip_norm=1.0)),
    Preset("irnn",
           "a ReLU RNN started at W_h = I (Le, Jaitly & Hinton 2015): the gradient neither vanishes nor explodes",
           "the time-step plot (nearly level at initialisation), and validation accuracy.",
           "at initialisation ||dL/dh_1|| / ||dL/dh_100|| is above 0.1, and validation accuracy passes 0.9 "
           "within 5 epochs.",
           "with W_h = I and small input weights (N(0, 0.01^2)), active ReLU units copy h_{t-1} forward and the "
           "gradient backward unchanged; clipping at 1 guards the steps where it grows.",
           dict(_SEQ, model="rnn", activation="relu", recurrent_init="identity", init="normal", init_gain=0.01,
                optimizer="adam", lr=0.001, epochs=5, clip_norm=1.0)),
]

_DEEP = dict(depth=10, width=32, dataset="moons", batch_size=32, epochs=20, samples=512, seed=0)
_WIDE = dict(depth=10, width=256, dataset="moons", batch_size=32, epochs=20, samples=512, seed=0)

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("vanishing-sigmoid",
           "10 sigmoid layers, lr 0.001: layer 1's gradient is a millionth of the output layer's; the loss plateaus",
           "the gradient bars from right (output) to left (layer 1), and the flat loss curve.",
           "each layer to the left gets a gradient about 4x smaller; layer 1's is below 1e-6 of the output "
           "layer's, its update ratio near 1e-9: w_new is w_old, and the loss stays near 0.70.",
           "by the chain rule dL/dw1 is a product of one factor per layer, each at most sigmoid' = 0.25 times "
           "the weights: 0.25^10 is about 1e-6.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.001)),
    Preset("relu-fix",
           "the same network with ReLU and He initialisation: gradients stay level and the loss falls",
           "the bars: level across the hidden layers; the loss: falling.",
           "every hidden layer's gradient is within a factor of 10 of the others, and the loss falls below "
           "vanishing-sigmoid's over the same 20 epochs.",
           "ReLU's derivative is 1 where a unit is active, and He's variance 2/fan_in makes each layer's factor "
           "about 1 on average.",
           dict(_DEEP, activation="relu", init="he", optimizer="sgd", lr=0.001)),
    Preset("exploding",
           "N(0, 1) weights on 10 ReLU layers of 256 units: gradients of 1e3 and beyond, then divergence",
           "the bars turning red and the status bar.",
           "activations and gradients grow about 11x per layer; within a few steps the loss overflows and "
           "training stops, saying where.",
           "with weights of variance 1 instead of 2/256, each layer multiplies the signal by about sqrt(256/2): "
           "10 * 10 * 10 * 10 = 10000, and a drastic update blows the weights up.",
           dict(_WIDE, activation="relu", init="normal", optimizer="sgd", lr=0.01)),
    Preset("clipping-fix",
           "exploding with global-norm clipping at 1: the same huge gradients, but training stays finite",
           "the global gradient norm (still huge) against the update ratio (bounded).",
           "the gradients are as large as in exploding, but every step is rescaled to norm 1, so the weights "
           "stay finite and the loss comes down.",
           "clipping (Pascanu, Mikolov & Bengio 2013) keeps the gradient's direction and caps its length.",
           dict(_WIDE, activation="relu", init="normal", optimizer="sgd", lr=0.01, clip_norm=1.0)),
    Preset("residual-fix",
           "the deep sigmoid network with residual connections: the gradient reaches layer 1",
           "layer 1's bar, compared with vanishing-sigmoid.",
           "layer 1's gradient is above 1/100 of the output layer's instead of 1e-6 of it.",
           "h + phi(hW + b) has derivative I + phi'W: the identity carries the gradient past the small factors.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.001, residual=True)),
    Preset("glorot-standard",
           "tanh with the 'standard' init U[-1/sqrt(n), 1/sqrt(n)] (Glorot & Bengio 2010): gradients shrink",
           "the chain-rule inspector's gains, and the bars against xavier-tanh.",
           "the back-propagated gradient shrinks by about 0.58 per layer toward the input; the weight "
           "gradients stay nearly level (the activations shrink the other way) but far below Xavier's.",
           "the standard init has variance 1/(3n): each tanh layer multiplies the gradient by about "
           "sqrt(1/3) = 0.58.",
           dict(_DEEP, depth=8, width=64, activation="tanh", init="uniform", optimizer="sgd", lr=0.01)),
    Preset("xavier-tanh",
           "tanh with Xavier (normalised) init: the gradient keeps its size through the layers",
           "the bars: nearly level.",
           "the hidden layers' gradients stay within a small factor of each other.",
           "Xavier's variance 2/(fan_in + fan_out) keeps each layer's gain near 1 for tanh around 0.",
           dict(_DEEP, depth=8, width=64, activation="tanh", init="xavier", optimizer="sgd", lr=0.01)),
    Preset("edge-of-chaos",
           "30 tanh layers at the critical weight variance sigma_w^2 = 1: gradients neither vanish nor explode",
           "the theory overlay and the phase readout: 'near the edge of chaos'.",
           "across 30 layers the gradient changes slowly, far less than 0.62^30 or 1.11^30.",
           "mean-field theory (Poole et al. 2016; Schoenholz et al. 2017): chi_1 = 1 at sigma_w^2 = 1 for tanh "
           "without biases, the boundary between the ordered and the chaotic phase.",
           dict(_DEEP, depth=30, width=128, activation="tanh", init="lecun", optimizer="sgd", lr=0.01)),
    Preset("adam-masks",
           "the deep sigmoid network with Adam: gradients still vanish, but the updates do not",
           "the gradient bars (vanishing) against the update-ratio plot (level).",
           "layer 1's gradient is still a millionth of the output layer's, yet every layer's update ratio "
           "is similar, and the loss falls.",
           "Adam divides each step by a running root-mean-square of the gradient, so its size hardly depends "
           "on the gradient's scale: it hides vanishing gradients in the update, not in the gradient.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="adam", lr=0.001)),
    Preset("zero-init",
           "all weights start at zero: the units of each layer stay identical (symmetry is never broken)",
           "the bars (only the output layer learns at first) and the flat loss.",
           "every unit in a layer receives the same gradient and stays a copy of its neighbours.",
           "with equal weights, the chain rule gives equal gradients to equal units: gradient descent cannot "
           "make them differ. Random initialisation breaks the symmetry.",
           dict(_DEEP, depth=4, width=16, activation="tanh", init="zeros", optimizer="sgd", lr=0.1)),
] + RECURRENT_PRESETS}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ConfigError("preset", f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]
