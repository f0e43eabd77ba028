"""The stories, one click away: each preset is a config plus what to watch and why."""
from __future__ import annotations

import string
from dataclasses import dataclass, field, replace

from core.config import ConfigError, ExperimentConfig


@dataclass(frozen=True)
class Preset:
    """A story. ``expect`` holds the measured numbers its texts quote, by name; the texts are
    formatted from them and tests/core/test_lessons.py checks each against a fresh run, so the
    words and the run cannot drift apart."""
    name: str
    summary: str   # one line, for --list-presets
    watch: str     # what to look at
    happens: str   # what you will see
    why: str       # the reason, in a sentence or two
    fields: dict
    expect: dict = field(default_factory=dict)
    lesson_point: tuple | None = None   # where the headline shows: ("batches", n) or ("epochs", n); None: the end
    view: dict = field(default_factory=dict)   # what the story shows (STORY_VIEW's keys); the rest: defaults

    def config(self, **overrides) -> ExperimentConfig:
        return ExperimentConfig.from_dict({**self.fields, **overrides})

    def lesson(self) -> str:
        return f"Watch: {self.watch}\nWhat happens: {self.happens}\nWhy: {self.why}"


class _Formatter(string.Formatter):
    """str.format plus the spec 'sci': 1e-06 is written 1e-6, 1e+05 is written 1e5."""

    def format_field(self, value, spec):
        if spec == "sci":
            return f"{value:.0e}".replace("e-0", "e-").replace("e+0", "e").replace("e+", "e")
        return super().format_field(value, spec)


def _story(name, summary, watch, happens, why, fields, lesson_point=None, view=None, **expect) -> Preset:
    """A Preset whose texts are formatted from its expectations ({name} placeholders)."""
    text = [_Formatter().format(t, **expect) for t in (summary, watch, happens, why)]
    return Preset(name, *text, fields=fields, expect=expect, lesson_point=lesson_point, view=dict(view or {}))


# The sequence stories: one recurrent layer of 32 units on `recall` with T = 100 steps (the label is the
# sign of the first input; 99 distractors of standard deviation 0.2 follow).
_SEQ = dict(dataset="recall", seq_len=100, noise=0.2, samples=1024, depth=1, width=32, batch_size=32, seed=0)

RECURRENT_PRESETS = [
    _story("rnn-vanishing",
           "a tanh RNN must carry the first input 100 steps: ||dL/dh_1|| is below {ratio_max:sci} of ||dL/dh_100||",
           "the time-step plot from right (t = 100) to left (t = 1), and validation accuracy.",
           "at initialisation the gradient reaching the first step is below {ratio_max:sci} of the last step's (about "
           "{per_step[0]}x to {per_step[1]}x per step), and over {epochs} epochs validation accuracy stays at chance "
           "(at most {val_accuracy_max}): the network never learns that the first "
           "input is the answer.",
           "dL/dh_1 is a product of 99 factors W_h^T diag(tanh'). With PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) "
           "weights W_h's eigenvalues lie within about 1/sqrt(3) = 0.58 of 0, and the gradient shrinks by about "
           "0.6 per step: 0.6^99 is about 1e-22 (Bengio, Simard & Frasconi 1994).",
           dict(_SEQ, model="rnn", activation="tanh", recurrent_init="uniform", optimizer="adam", lr=0.003, epochs=5),
           ratio_max=1e-15, per_step=(0.55, 0.65), epochs=5, val_accuracy_max=0.7),
    _story("lstm-fix",
           "an LSTM on the same task: the cell's additive path keeps the gradient, and it learns",
           "the time-step plot against rnn-vanishing's (at initialisation far flatter: step 1 keeps more than "
           "{init_ratio_min} of step 100's gradient), and validation accuracy.",
           "at initialisation ||dL/dh_1|| / ||dL/dh_100|| is more than {gain_vs_rnn:sci} times rnn-vanishing's, and "
           "validation accuracy passes {val_accuracy_min} within {epochs} epochs.",
           "c_t = f c_{{t-1}} + i g: back through time the cell's gradient is multiplied by the forget gate, "
           "sigma(3) = 0.95 with forget_bias 3, not by W_h and tanh' (Hochreiter & Schmidhuber 1997; Gers et al. 2000).",
           dict(_SEQ, model="lstm", activation="tanh", recurrent_init="uniform", forget_bias=3.0, optimizer="adam",
                lr=0.003, epochs=5),
           gain_vs_rnn=1e10, val_accuracy_min=0.9, epochs=5, init_ratio_min=0.1),
    _story("gru-fix",
           "a GRU on the same task: its update gate carries h_{{t-1}} through; it learns within 5 epochs",
           "the time-step plot against rnn-vanishing's, and validation accuracy.",
           "at initialisation ||dL/dh_1|| / ||dL/dh_100|| is more than {gain_vs_rnn:sci} times rnn-vanishing's, and "
           "validation accuracy passes {val_accuracy_min} within {epochs} epochs.",
           "h_t = (1 - z) n + z h_{{t-1}}: with z's bias at 3 (forget_bias), 95% of the old state and its gradient "
           "pass each step directly (Cho et al. 2014).",
           dict(_SEQ, model="gru", activation="tanh", recurrent_init="uniform", forget_bias=3.0, optimizer="adam",
                lr=0.003, epochs=5),
           gain_vs_rnn=1e10, val_accuracy_min=0.9, epochs=5),
    _story("rnn-exploding",
           "a ReLU RNN with W_h = 1.2 I: the gradient grows back through time, then training diverges",
           "the time-step plot rising to the left, and the status bar.",
           "at initialisation ||dL/dh_1|| is more than {ratio_min:sci} times ||dL/dh_100||; the first update is "
           "huge and the loss overflows within the first epoch.",
           "each step back multiplies the gradient by W_h^T diag(relu') = 1.2 on active units: 1.2^99 is about "
           "7e7 (Pascanu, Mikolov & Bengio 2013).",
           dict(_SEQ, model="rnn", activation="relu", recurrent_init="identity", recurrent_gain=1.2,
                optimizer="sgd", lr=0.01, epochs=3),
           ratio_min=1e6, divergence_epoch=1),
    _story("rnn-clipping",
           "rnn-exploding with global-norm clipping at 1: the same exploding gradient, but training stays finite",
           "the global gradient norm (huge) against the weights and the loss (finite).",
           "the gradient is as large as in rnn-exploding, but every step is rescaled to norm 1: all {epochs} epochs "
           "finish with finite weights.",
           "clipping (Pascanu, Mikolov & Bengio 2013) keeps the gradient's direction and caps its length.",
           dict(_SEQ, model="rnn", activation="relu", recurrent_init="identity", recurrent_gain=1.2,
                optimizer="sgd", lr=0.01, epochs=3, clip_norm=1.0),
           epochs=3),
    _story("irnn",
           "a ReLU RNN started at W_h = I (Le, Jaitly & Hinton 2015): at the start the gradient neither vanishes "
           "nor explodes, and it learns",
           "the time-step plot (nearly level at initialisation: Step batch once), validation accuracy, and the "
           "time-step plot again once it has learned.",
           "at initialisation ||dL/dh_1|| / ||dL/dh_100|| is above {ratio_min}, and validation accuracy passes "
           "{val_accuracy_min} within {epochs} epochs. Once it has learned, the identity path no longer keeps the "
           "gradient level: in the last epoch ||dL/dh_1|| is more than {late_ratio_min:sci} times ||dL/dh_100|| "
           "(the time-step bars turn red toward t = 1) while the loss is near 0; clipping at 1 keeps the steps "
           "finite.",
           "with W_h = I and small input weights (N(0, 0.01^2)), active ReLU units copy h_{{t-1}} forward and the "
           "gradient backward unchanged; training moves W_h away from I, and nothing keeps it from growing.",
           dict(_SEQ, model="rnn", activation="relu", recurrent_init="identity", init="normal", init_gain=0.01,
                optimizer="adam", lr=0.001, epochs=5, clip_norm=1.0),
           ratio_min=0.1, val_accuracy_min=0.9, epochs=5, late_ratio_min=1e3),
]

_DEEP = dict(depth=10, width=32, dataset="moons", batch_size=32, epochs=20, samples=512, seed=0)
# 5 ReLU layers of 200 units with N(0, 1) weights: each layer multiplies the signal by sqrt(200/2) = 10.
_EXPLODE = dict(depth=5, width=200, dataset="moons", batch_size=32, epochs=20, samples=512, seed=0,
                activation="relu", init="normal", optimizer="sgd", lr=0.01)

# Issue 24: vanishing-sigmoid and exploding in low precision; checked by tests/core/test_precision_stories.py.
_VANISHING = dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.001)
PRECISION_PRESETS = [
    _story("float32-lost-updates",
           "vanishing-sigmoid in float32: w + update rounds back to w, so layer 1's weights do not move at all",
           "the Precision panel's lost updates, and the update-ratio plot's layer 1.",
           "each step {lost1[0]:.0%} to {lost1[1]:.0%} of layer 1's weights with a non-zero gradient keep exactly "
           "their stored value; after 20 epochs {unchanged} of layer 1's {n_weights} weights are bit for bit their "
           "initial values. No gradient underflows (float32's range reaches 1e-45).",
           "layer 1's update ratio is about 1e-10, below float32's half-ulp 2^-24 = 6e-8: the sum rounds to w.",
           dict(_VANISHING, dtype="float32"), lost1=(0.95, 1.0), unchanged=63, n_weights=64),
    _story("float16-underflow",
           "vanishing-sigmoid in float16: layer 1's gradient is exactly 0",
           "the gradient bars (layers 1 and 2 marked 'underflow') and the Precision panel.",
           "every entry of layer 1's dL/dW is exactly 0 in float16 all the time; in layers 1 and 2 at least "
           "{underflow12:.0%} of the entries are non-zero in the same pass without rounding (underflow); layer 3 "
           "loses about {underflow3:.0%} over an epoch (the Precision panel shows one step: between "
           "{underflow3_steps[0]:.0%} and {underflow3_steps[1]:.0%}).",
           "those entries are about 1e-8, below float16's smallest subnormal 2^-24 = 6e-8.",
           dict(_VANISHING, dtype="float16"), underflow12=0.99, underflow3=0.7, underflow3_steps=(0.4, 0.95)),
    _story("loss-scaling-fix",
           "float16 with dynamic loss scaling (GradScaler's rules): the gradients come back",
           "the Precision panel (underflow at 0, the scale) and layer 1's gradient bar.",
           "the loss is multiplied by {scale:g} before the backward pass: at most {underflow_max:.2%} of any layer's "
           "dL/dW entries underflow in an epoch (float16-underflow: all of layers 1 and 2), no step is skipped, and "
           "layer 1's gradient is within {agree:.1%} of float32's in every epoch.",
           "scaling moves the gradients into float16's range; dividing by the scale afterwards in float32 gives "
           "the true gradient back.",
           dict(_VANISHING, dtype="float16", loss_scale="dynamic"), scale=65536.0, underflow_max=0.005, agree=0.002),
    _story("bfloat16-no-master",
           "bfloat16 without float32 master weights: nothing underflows, but almost no update lands",
           "the Precision panel's lost updates, every layer.",
           "bfloat16 has float32's range: no gradient entry underflows. But with the weights kept in bfloat16 (8 "
           "bits of mantissa, half-ulp 2^-8) at least {lost_min:.0%} of every layer's updates are lost in epoch 1, "
           "and after 20 epochs none of layer 1's weights has moved ({unchanged} of {n_weights} unchanged).",
           "an update smaller than 1/256 of |w| rounds back to w; master weights keep float32's 2^-24.",
           dict(_VANISHING, dtype="bfloat16", master_weights=False), lost_min=0.85, unchanged=64, n_weights=64),
    _story("float16-exploding",
           "exploding in float16: it overflows at step {f16_step}, where float32 lasts to step {f32_step}",
           "the status bar and the step timeline; the same with dtype float32.",
           "float16 overflows at step {f16_step}, with a gradient norm of about {f16_grad:sci}; float32 reaches "
           "a gradient norm of about {f32_grad:sci} and overflows at step {f32_step}.",
           "float16's largest number is 65504; float32's is 3.4e38.",
           dict(_DEEP, depth=5, width=200, activation="relu", init="normal", optimizer="sgd", lr=0.01, dtype="float16"),
           f16_step=1, f32_step=4, f16_grad=1e5, f32_grad=3e28),
]

PRESETS: dict[str, Preset] = {p.name: p for p in [
    _story("vanishing-sigmoid",
           "10 sigmoid layers, lr 0.001: layer 1's gradient is below a millionth of the output layer's; "
           "the loss stays at chance",
           "the gradient bars from right (output) to left (layer 1), and the loss against the chance line.",
           "each layer to the left gets a gradient {shrink[0]:g}x to {shrink[1]:g}x smaller; layer 1's is "
           "below {layer1_ratio:sci} of the output layer's and its update ratio about 1e-10 (between "
           "{update_ratio1[0]:sci} and {update_ratio1[1]:sci}): w_new is w_old. Over 20 epochs the training loss "
           "stays between {loss_range[0]} and {loss_range[1]}, at the chance level ln 2 = 0.693, ending at "
           "{final_loss:.2f}; validation accuracy stays at {val_accuracy:.0%}, the share of the larger class.",
           "by the chain rule dL/dw1 is a product of one factor per layer, each at most sigmoid' = 0.25 times "
           "the weights: 0.25^10 is about 1e-6.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.001),
           shrink=(2.5, 5.5), layer1_ratio=1e-6, update_ratio1=(3e-11, 3e-10), loss_range=(0.69, 0.73),
           final_loss=0.70, val_accuracy=0.539),
    _story("relu-fix",
           "the same network with ReLU and He initialisation: gradients stay level and the loss falls",
           "the bars: level across the hidden layers; the loss: falling below the chance line.",
           "every hidden layer's gradient is within a factor of {hidden_spread} of the others, and the loss "
           "falls to {final_loss:.2f} (below {final_loss_max:.2f}) over the same 20 epochs, at least {margin} below "
           "vanishing-sigmoid's 0.70; validation accuracy {val_accuracy:.0%}.",
           "ReLU's derivative is 1 where a unit is active, and He's variance 2/fan_in makes each layer's factor "
           "about 1 on average.",
           dict(_DEEP, activation="relu", init="he", optimizer="sgd", lr=0.001),
           hidden_spread=5, final_loss=0.59, final_loss_max=0.60, margin=0.05, val_accuracy=0.716),
    _story("exploding",
           "N(0, 1) weights on 5 ReLU layers of 200 units: the error signal grows 10x per layer, then divergence",
           "press Step batch once and read the error signal ||dL/dz|| per layer at step 1; then run it slowly "
           "(Pace 2 steps/s) and watch the step timeline climb and the status bar.",
           "at step 1 the error signal grows {per_layer[0]:g}x to {per_layer[1]:g}x per layer from the output toward the input: "
           "layer 1's is {delta_rise[0]:g} to {delta_rise[1]:g} times the last hidden layer's, while the "
           "weight-gradient bars stay level (within {grad_spread}x). The loss starts at about {loss_steps[0]:sci} and grows "
           "every step (about {loss_steps[1]:sci}, {loss_steps[2]:sci}, {loss_steps[3]:sci}); at step {divergence_step} it overflows and training stops, "
           "saying where.",
           "with weights of variance 1 instead of 2/200, each layer multiplies the signal by about "
           "sqrt(200/2) = 10: 10 * 10 * 10 * 10 = 10000 from layer 5 down to layer 1. dL/dW_l = a_(l-1)^T "
           "delta_l: the forward signal a grows as fast as delta shrinks, so the weight gradients look level. "
           "Each update, lr times gradients of 1e4 and more, makes the next step's signal larger still.",
           dict(_EXPLODE), per_layer=(9, 11), delta_rise=(5e3, 2e4), grad_spread=2, divergence_step=5,
           loss_steps=(6e4, 2e12, 6e32, 1e116)),
    _story("clipping-fix",
           "exploding with global-norm clipping at 1: the same huge gradients, but training stays finite",
           "the step timeline: the global gradient norm (huge, clipped) and the loss coming down.",
           "the gradients are as large as in exploding (about {grad_norm_step1:sci} at step 1), and {clipped_share} "
           "steps are clipped to norm 1, so the weights stay finite. The loss falls from about {first_loss:sci} in "
           "epoch 1 to below ln 2 by epoch {below_chance_epoch}; from epoch {zero_epoch} every training point "
           "is on the right side by a huge margin, the loss is about {final_loss:sci} and the gradient exactly 0. "
           "Validation accuracy {val_accuracy:.0%}; validation loss about {val_loss:.0f}: the network is still "
           "far too confident on the few points it gets wrong.",
           "clipping (Pascanu, Mikolov & Bengio 2013) keeps the gradient's direction and caps its length, "
           "so no step is drastic; it does not make the gradients themselves smaller.",
           dict(_EXPLODE, clip_norm=1.0), grad_norm_step1=1e5, clipped_share="151 of 260",
           below_chance_epoch=15, zero_epoch=17, val_accuracy=0.98, val_loss=21, first_loss=5e4,
           final_loss=1e-153),
    _story("residual-fix",
           "the deep sigmoid network with residual connections: the gradient reaches layer 1",
           "layer 1's bar, compared with vanishing-sigmoid, and the loss.",
           "in the last epoch layer 1's gradient is about {layer1_last:g} of the output layer's (above "
           "{layer1_ratio:sci}) instead of 1e-6 of it. At lr {lr} the loss is bumpy (about {first_loss} in epoch 1: each sigmoid layer adds about 0.5 to "
           "every unit, so the output starts far off) and ends at {final_loss:.2f} (below {final_loss_max:.2f}), "
           "validation accuracy {val_accuracy:.0%}; the plain sigmoid network at the same lr ends at "
           "{plain_final_loss}, at chance.",
           "h + phi(hW + b) has derivative I + phi'W: the identity carries the gradient past the small factors.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.03, residual=True),
           layer1_ratio=5e-3, lr=0.03, final_loss=0.56, final_loss_max=0.60, val_accuracy=0.774,
           plain_final_loss=0.69, first_loss=2.4, layer1_last=0.05),
    _story("batchnorm-fix",
           "the deep sigmoid network with batch norm: layer 1's gradient is {layer1_ratio:.2g}x the output layer's "
           "(mean over 20 epochs); it learns",
           "the bars, level instead of falling to the left, and the loss curve, against vanishing-sigmoid.",
           "averaged over the 20 epochs layer 1's gradient is {layer1_ratio:.2g} times the output layer's "
           "(vanishing-sigmoid: {plain_layer1_ratio:.2g} times), in the bars (the last epoch's) {layer1_last:.2g} "
           "times; "
           "the hidden layers' gradients are within a factor of {hidden_spread:.2g} of each other (the last "
           "epoch's bars: {hidden_spread_last:.2g}), and the training loss falls from {first_loss:.2f} to {final_loss:.2f} in 20 epochs, "
           "validation accuracy {val_accuracy:.2f} (vanishing-sigmoid: loss {plain_final_loss:.2f}, accuracy "
           "{plain_val_accuracy:.2f}).",
           "batch norm divides each unit's z by its spread over the batch, about {spread:.1f} here: deep in a "
           "sigmoid network the samples look alike. Dividing by {spread:.1f} multiplies the backward signal by "
           "about {gain:.0f}, which cancels sigmoid' ({dphi:.2f} on average) at every layer.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.001, norm="batch"),
           layer1_ratio=6.1, plain_layer1_ratio=6.1e-07, hidden_spread=6.1, first_loss=0.66, final_loss=0.45,
           val_accuracy=0.92, plain_final_loss=0.70, plain_val_accuracy=0.54, spread=0.2, gain=5, dphi=0.20,
           layer1_last=7.3, hidden_spread_last=7.7),
    _story("layernorm-fix",
           "the deep sigmoid network with layer norm: the gradient vanishes less, but still vanishes",
           "layer 1's bar against vanishing-sigmoid's, and the still flat loss.",
           "averaged over the 20 epochs layer 1's gradient rises to {layer1_ratio:.1e} of the output layer's "
           "(vanishing-sigmoid: {plain_layer1_ratio:.1e}), in the bars (the last epoch's) {layer1_last:.1e}, but it still shrinks about {per_layer:.1f}x per layer and the loss stays "
           "at {final_loss:.2f}, validation accuracy {val_accuracy:.2f}: layer norm does not fix this network.",
           "layer norm divides by the spread of one sample's z across the layer's 32 units, about {spread:.1f} "
           "here, not by the small spread across the batch: the backward signal is doubled, not multiplied by 5, "
           "so with sigmoid' about {dphi:.1f} each layer still loses more than half of it.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="sgd", lr=0.001, norm="layer"),
           layer1_ratio=1.8e-04, plain_layer1_ratio=6.1e-07, per_layer=2.4, final_loss=0.70, val_accuracy=0.54,
           spread=0.5, dphi=0.2, layer1_last=2.5e-4),
    _story("glorot-standard",
           "tanh with the 'standard' init U[-1/sqrt(n), 1/sqrt(n)] (Glorot & Bengio 2010): gradients shrink",
           "the error signal ||dL/dz|| (the bars) and the Chain rule tab's gains; then the ||dL/dW|| bars against "
           "xavier-tanh.",
           "the back-propagated gradient ||dL/dz|| shrinks by about {gain} per layer toward the input (the bars, "
           "and the Chain rule tab's hidden gains, within {gain_tolerance:.0%}); the weight gradients stay nearly level (the activations "
           "shrink the other way) but layer 1's is below {layer1_vs_xavier} of xavier-tanh's. The loss stays "
           "near chance: {final_loss} after 20 epochs (between {final_loss_range[0]:.2f} and {final_loss_range[1]:.2f}).",
           "the standard init has variance 1/(3n): each tanh layer multiplies the gradient by about "
           "sqrt(1/3) = 0.58.",
           dict(_DEEP, depth=8, width=64, activation="tanh", init="uniform", optimizer="sgd", lr=0.01),
           gain=0.58, gain_tolerance=0.15, layer1_vs_xavier=0.1, final_loss=0.687, final_loss_range=(0.68, 0.69)),
    _story("xavier-tanh",
           "tanh with Xavier (normalised) init: the gradient keeps its size through the layers",
           "the bars: nearly level; the loss falling.",
           "averaged over the 20 epochs the hidden layers' gradients stay within a factor of {hidden_spread} of "
           "each other (the bars, the last epoch's: within {hidden_spread_last}), and the loss "
           "falls to {final_loss:.2f} (below {final_loss_max:.2f}) in 20 epochs, validation accuracy {val_accuracy:.0%}.",
           "Xavier's variance 2/(fan_in + fan_out) keeps each layer's gain near 1 for tanh around 0, where "
           "tanh' is near 1 (for sigmoid, whose slope is at most 0.25, it does not: see vanishing-sigmoid).",
           dict(_DEEP, depth=8, width=64, activation="tanh", init="xavier", optimizer="sgd", lr=0.01),
           hidden_spread=2, final_loss=0.29, final_loss_max=0.30, val_accuracy=0.882, hidden_spread_last=4.1),
    _story("edge-of-chaos",
           "30 tanh layers at the critical weight variance sigma_w^2 = 1: gradients neither vanish nor explode",
           "the error signal ||dL/dz|| with the theory overlay, and the phase readout: 'near the edge of chaos'.",
           "at step 1 layer 1's error signal is {delta_ratio[0]} to {delta_ratio[1]} of layer 30's: about "
           "0.95 per layer over 29 layers, where the ordered phase at sigma_w^2 = 0.5 would give {ordered_factor} per "
           "layer, {ordered_factor}^29 = {ordered_factor_29:sci}. Run on to epoch 20: the loss falls to {final_loss} (below {final_loss_max}), validation "
           "accuracy {val_accuracy:.0%}.",
           "mean-field theory (Poole et al. 2016; Schoenholz et al. 2017): chi_1 = 1 at sigma_w^2 = 1 for tanh "
           "without biases, the boundary between the ordered and the chaotic phase.",
           dict(_DEEP, depth=30, width=128, activation="tanh", init="lecun", optimizer="sgd", lr=0.01),
           delta_ratio=(0.15, 0.4), ordered_factor=0.71, ordered_factor_29=5e-5, final_loss=0.013, final_loss_max=0.05, val_accuracy=0.99),
    _story("adam-masks",
           "the deep sigmoid network with Adam: gradients still vanish, but the updates do not",
           "the gradient bars (vanishing) against the update-ratio plot (level), then the loss.",
           "for the first {early_epochs} epochs layer 1's gradient stays below {layer1_ratio:sci} of the output "
           "layer's, yet every hidden layer's update ratio is within a factor of {update_spread} of the others "
           "and layer 1's is above {update_ratio1:sci} (vanishing-sigmoid's: about 1e-10). The loss sits at "
           "chance (within {chance_margin}) for {chance_epochs} epochs, then falls (Run on past the lesson point, "
           "epoch {early_epochs}): below {final_loss_max} from epoch "
           "{below_from} on, about {final_loss} at epoch 20; by then layer 1's gradient is above {final_layer1_ratio} "
           "of the output layer's: it no longer vanishes.",
           "Adam divides each step by a running root-mean-square of the gradient, so its size hardly depends "
           "on the gradient's scale: it hides vanishing gradients in the update, not in the gradient.",
           dict(_DEEP, activation="sigmoid", init="xavier", optimizer="adam", lr=0.003),
           early_epochs=10, chance_epochs=11, chance_margin=0.01, layer1_ratio=1e-4, update_spread=20, update_ratio1=5e-3, final_loss=0.4,
           final_loss_max=0.45, below_from=16, final_layer1_ratio=0.1),   # epoch 20's loss: 0.376 - 0.426 as rounding varies
    _story("constant-init",
           "every weight starts at the same value: the units of each layer stay identical (symmetry is never broken)",
           "the loss against the chance line, and the prediction: straight stripes, not a curve.",
           "every unit of a layer gets the same gradient and stays a copy of its neighbours, to the last bit: "
           "the 16-unit layers compute what a single unit would, and the prediction depends on one direction "
           "of the input only. The loss falls slowly and levels off from epoch {plateau_epoch} at about "
           "{final_loss:.2f} (between {plateau_range[0]:.2f} and {plateau_range[1]:.2f}), validation accuracy "
           "{val_accuracy:.0%}: the best such a function does on the moons. The same network with Xavier init "
           "reaches {random_loss_20:.3f} by epoch 20. With all weights 0 (init zeros) it is worse still: no "
           "weight gets any gradient, only the output bias moves, and the loss stays at ln 2.",
           "with equal weights, the chain rule gives equal gradients to equal units: gradient descent cannot "
           "make them differ. Random initialisation breaks the symmetry.",
           dict(_DEEP, depth=4, width=16, activation="tanh", init="constant", optimizer="sgd", lr=0.1, epochs=100),
           plateau_epoch=70, final_loss=0.29, plateau_range=(0.28, 0.31), val_accuracy=0.882, random_loss_20=0.012),
] + RECURRENT_PRESETS + PRECISION_PRESETS}


# issue 22: the Transformer's stories (core/stories/transformer.py imports _story from here)
from core.stories.transformer import TRANSFORMER_PRESETS  # noqa: E402
PRESETS.update({p.name: p for p in TRANSFORMER_PRESETS})


# Issue 21: each story's lesson point (where its headline shows) and its view; a story not named here runs to its
# last epoch and shows the default view. STORY_VIEW: what the window shows unless a story says otherwise.
STORY_VIEW = dict(quantity="grad_norm", theory=False, loss_log=False, page="gradients", tab="Prediction", pace=0.0)
_LESSONS = {
    "vanishing-sigmoid": (("epochs", 20), {}),
    "relu-fix": (("epochs", 20), {}),
    "exploding": (("batches", 1), dict(quantity="delta_norms", pace=2.0)),
    "clipping-fix": (("epochs", 15), dict(loss_log=True)),
    "residual-fix": (("epochs", 20), {}),
    "batchnorm-fix": (("epochs", 20), {}),
    "layernorm-fix": (("epochs", 20), {}),
    "glorot-standard": (("epochs", 20), dict(tab="Chain rule", quantity="delta_norms")),
    "xavier-tanh": (("epochs", 20), {}),
    "edge-of-chaos": (("batches", 1), dict(quantity="delta_norms", theory=True)),
    "adam-masks": (("epochs", 10), {}),   # where the gradients still vanish; Run goes on to epoch 20
    "constant-init": (("epochs", 100), {}),
    "rnn-vanishing": (("batches", 1), {}),
    "lstm-fix": (("epochs", 5), {}),
    "gru-fix": (("epochs", 5), {}),
    "rnn-exploding": (("batches", 1), {}),
    "rnn-clipping": (("epochs", 3), {}),
    "irnn": (("epochs", 5), {}),
    "float32-lost-updates": (("epochs", 20), dict(tab="Precision")),
    "float16-underflow": (("epochs", 20), dict(tab="Precision")),
    "loss-scaling-fix": (("epochs", 20), dict(tab="Precision")),
    "bfloat16-no-master": (("epochs", 20), dict(tab="Precision")),
}
for _name, (_point, _view) in _LESSONS.items():
    if _name in PRESETS and PRESETS[_name].lesson_point is None:
        PRESETS[_name] = replace(PRESETS[_name], lesson_point=_point, view={**_view, **PRESETS[_name].view})


def lesson_point(preset: Preset) -> tuple:
    """("batches", n) or ("epochs", n): where the story's headline shows (default: its last epoch)."""
    return preset.lesson_point or ("epochs", preset.config().epochs)


def lesson_point_text(preset: Preset) -> str:
    """The lesson-point button's text: "Step batch once", "Step 3 batches", "Run to epoch 15"."""
    unit, n = lesson_point(preset)
    if unit == "batches":
        return "Step batch once" if n == 1 else f"Step {n} batches"
    return f"Run to epoch {n}"


def story_view(preset: Preset | None) -> dict:
    """The whole view a story sets: its own entries over STORY_VIEW (None: no story, the defaults)."""
    unknown = set(preset.view) - set(STORY_VIEW) if preset is not None else set()
    if unknown:
        raise ValueError(f"story {preset.name}: view has {sorted(unknown)}; allowed: {sorted(STORY_VIEW)}")
    return {**STORY_VIEW, **(preset.view if preset is not None else {})}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ConfigError("preset", f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]
