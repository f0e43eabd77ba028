"""The "What am I looking at?" panel: the ideas behind each plot, in a few paragraphs.

Our own text (rich text is fine here: nothing in it comes from a file or a user). Each paragraph
names the plot it explains, by the title the window gives it. The regime thresholds are quoted
from core.measure.regimes, so the help says what the colours do.
"""
from core.measure.regimes import EXPLODING_ABOVE, EXPLODING_RISE, VANISHING_RATIO

HELP_HTML = f"""
<h3>What am I looking at?</h3>
<p><b>The symbols.</b> Layer l computes its <i>pre-activation</i> <code>z_l = o_(l−1) · W_l + b_l</code> and
its <i>post-activation</i> (output) <code>o_l = φ(z_l)</code>, with φ the activation function and
<code>o_0 = x</code> the input. The last layer is linear: its z is the network's <i>output</i> <code>ŷ</code>
(a logit for classification, a value for regression), and L is the loss of ŷ against the label y.</p>

<p><b>Learning is gradient descent</b> (<i>Update ratio</i> plot). Every step changes each weight by
<code>w_new = w_old − lr · dL/dw_old</code>. If <code>dL/dw</code> is tiny, <code>w_new ≈ w_old</code>:
that weight has stopped learning. The <i>Update ratio</i> plot shows ‖ΔW‖ / ‖W‖ per layer; a common rule
of thumb is about 1e-3; in <code>vanishing-sigmoid</code> layer 1's is about 1e-10: nothing moves.</p>

<p><b>The chain rule multiplies one factor per layer</b> (<i>Chain rule</i> tab). The error signal of a
layer is <code>δ_l = dL/dz_l</code>. Going down from the output,
<code>δ_l = (δ_(l+1) · W_(l+1)ᵀ) ⊙ φ′(z_l)</code>, and the weight gradient is
<code>dL/dW_l = o_(l−1)ᵀ · δ_l</code>. So for the first layer
<code>dL/dW_1 = xᵀ · (dL/dŷ · W_outᵀ ⊙ φ′(z_depth) · … · W_2ᵀ ⊙ φ′(z_1))</code>: every layer between
W_1 and the loss adds a factor φ′(z)·W. The <i>Chain rule</i> tab shows these factors (‖δ_l‖ / ‖δ_(l+1)‖)
for the latest batch, with their running product. If each is 0.1, four layers give
<code>0.1 · 0.1 · 0.1 · 0.1 = 0.0001</code>.</p>

<p><b>Two quantities per layer</b> (<i>Gradient bars</i> and <i>Gradient flow</i>). ‖dL/dW‖, the weight
gradient, is what the update uses. ‖dL/dz‖, the error signal δ, is the chain-rule product itself. They
can disagree: since <code>dL/dW_l = o_(l−1)ᵀ · δ_l</code>, a forward signal o that grows as fast as δ
shrinks keeps the ‖dL/dW‖ bars level while δ grows 10000-fold (<code>exploding</code>). Bars are judged
against the rest of the same network: a layer below {VANISHING_RATIO:g} of the largest layer is
<i>vanishing</i>, a layer {EXPLODING_RISE:g} or more times the output layer's is <i>exploding</i>, and so is
any layer above {EXPLODING_ABOVE:g} (when every layer has blown up together none stands out); an
exactly zero gradient is its own case (drawn at the floor, labelled 0), and NaN or inf is another.
<i>Gradient flow</i> shows the same per layer, epoch by epoch.</p>

<p><b>Why sigmoid vanishes</b> (<i>Gradient bars</i>, <i>Loss</i>). The sigmoid's derivative is at most
0.25 (at z = 0) and far smaller once a unit saturates. Ten sigmoid layers multiply to about
0.25<sup>10</sup> ≈ 1e-6: the bars sink from the output (right) toward layer 1 (left), and the
<i>Loss</i> stays on its dashed chance line. Try the <code>vanishing-sigmoid</code> story.</p>

<p><b>The chance line</b> (<i>Loss</i>). The dashed line is the loss of the best constant guess, which
ignores the input: for binary labels the entropy of the label frequencies (ln 2 = 0.693 when the classes
are balanced), for regression the variance of the targets. A curve on that line has learned nothing. The
loss axis starts at 0, so a plateau looks flat; <i>Fit to data</i> zooms in.</p>

<p><b>Why ReLU helps</b> (<i>Gradient bars</i>). ReLU's derivative is exactly 1 wherever a unit is active,
so the factors are set by the weights alone; with He initialisation (variance 2/fan_in) they average about
1 and the bars stay level (<code>relu-fix</code>).</p>

<p><b>How gradients explode</b> (<i>Step timeline</i>, <i>Gradient bars</i> with ‖dL/dz‖). With factors of
10 instead, <code>10 · 10 · 10 · 10 = 10000</code>. Weights drawn from N(0, 1) in a ReLU layer of 200 units
multiply the signal by about √(200/2) = 10 per layer. A single update is then drastic and the loss grows
step after step until it overflows: training <i>diverges</i>, and the status bar says at which epoch, step
and layer. The <i>Step timeline</i> shows the loss and the global gradient norm of every step, so the
divergence is a curve you see coming; run it slowly (<code>exploding</code>).</p>

<p><b>The fixes.</b> <i>Gradient clipping</i> rescales the whole gradient when its global norm exceeds a
threshold: the same direction, a bounded step; the <i>Step timeline</i> marks each clipped step
(<code>clipping-fix</code>). <i>Xavier/Glorot</i> initialisation (variance 2/(fan_in + fan_out)) keeps
tanh layers' factors near 1, because tanh′(0) = 1; it does <i>not</i> do so for sigmoid, whose slope is at
most 0.25, so each sigmoid layer still shrinks the gradient about fourfold (<code>vanishing-sigmoid</code>
uses Xavier). <i>He</i> initialisation does for ReLU what Xavier does for tanh. <i>Residual
connections</i> compute h + φ(hW + b), whose derivative is I + φ′W: the identity carries the gradient past
small factors (<code>residual-fix</code>). Adam rescales each step by the gradient's own size, hiding
vanishing gradients in the <i>Update ratio</i> plot but not in the <i>Gradient bars</i>
(<code>adam-masks</code>).</p>

<p><b>Symmetry</b> (<i>Prediction</i>). If every weight starts at the same value, every unit of a layer
computes the same thing and gets the same gradient, so they stay copies of each other: a wide layer acts
as a single unit. Random initialisation breaks the symmetry (<code>constant-init</code>).</p>

<p><b>Theory</b> (<i>Theory overlay</i> on the ‖dL/dz‖ bars). For wide random networks, mean-field
theory predicts the per-layer factor of the error signal δ, √χ<sub>1</sub>, with
χ<sub>1</sub> = σ<sub>w</sub><sup>2</sup> E[φ′(√q* z)<sup>2</sup>] (Poole et al. 2016; Schoenholz et al.
2017). It predicts ‖dL/dz‖, not ‖dL/dW‖, and says nothing about residual networks or non-random weights.
χ<sub>1</sub> &lt; 1 is the ordered phase (vanishing), &gt; 1 the chaotic phase (exploding), = 1 the edge
of chaos (<code>edge-of-chaos</code>).</p>

<p><b>Through time</b> (recurrent models: the <i>Time-step plot</i> of ‖dL/dh_t‖ and the
<i>Through time</i> tab). A recurrent layer computes <code>h_t = φ(x_t · W_x + h_(t−1) · W_h + b)</code> at
every step t = 1..T and the loss reads h_T. Each step back multiplies the gradient by
<code>diag(φ′) · W_hᵀ</code>, so dL/dh_1 is a product of T − 1 such factors: about 0.6 each gives
0.6<sup>99</sup> ≈ 1e-22 over 100 steps (<code>rnn-vanishing</code>); with ReLU and W_h = 1.2 I it grows
instead (<code>rnn-exploding</code>). Pascanu's bound: when ‖W_h‖₂ &lt; 1/γ (γ = max φ′) every factor is
below 1 and the gradient must vanish; above it the bound says nothing either way. An LSTM's cell
<code>c_t = f ⊙ c_(t−1) + i ⊙ g</code> is multiplied back through time by its forget gate, not by W_h
(<code>lstm-fix</code>).</p>

<p><b>Attention</b> (Transformer: the <i>Position plot</i>, <i>Gradient per block</i>, <i>Attention map</i>
and <i>Token similarity</i>). A block adds an attention branch and an MLP branch to the residual stream x. Attention
lets the position read out reach every earlier position in one step, so the gradient at position 1 does not pass
through T − 1 factors as in an RNN. <i>Gradient per block</i> shows ‖dL/dW‖ of one sub-layer (Q, K, V, O, W₁,
W₂, a LayerNorm) in every block. <i>Attention map</i>: how the last position spreads its attention over the
positions in one block (each row sums to 1). Without skip connections attention keeps averaging the tokens until
they all point the same way (<i>Token similarity</i> near 1, rank collapse), and the gradients of the queries and
keys vanish (Noci et al. 2022). Post-LN puts a LayerNorm on the skip path, and its gradients near the output are
large at initialisation, which is why it needs learning-rate warm-up (Xiong et al. 2020).</p>

<p><b>The other plots.</b> <i>Loss</i>: training (mean over the epoch) and validation (after it).
<i>Prediction</i>: the network's output over the input plane.</p>

<p><b>Inside the network</b> (<i>Forward signal</i>, <i>Distributions</i>, <i>Network</i>, <i>Rewind</i>).
<i>Forward signal</i> shows how large each layer's activations are (their standard deviation) and how many
units are saturated (tanh: |tanh| &gt; 0.97, as in Karpathy's makemore). <i>Distributions</i> shows the
spread of |dL/dW|, of the activations or of the pre-activations in each layer as percentile bands on a log
axis: a ridge sliding left toward layer 1 is a vanishing gradient. With Glorot &amp; Bengio's "standard"
init U[−1/√n, 1/√n] in tanh layers, δ and the activations both shrink by about √(1/3) per layer; the
normalized (Xavier) init keeps them level. <i>Network</i> draws the links coloured by the size of the
weights, gradients or updates. <i>Rewind</i> takes these three back to any recorded epoch or step.
For an RNN, LSTM, GRU or Transformer the page shows the network through time instead: the forward signal
(std of h_t, ‖dL/dh_t‖, saturated units and gates) per layer against the time step, the distributions per
layer over all time steps, and the network unrolled, layers × time steps (a Transformer: blocks × positions,
each block's input) coloured by the quantity chosen; rewind moves them too.</p>

<p><b>Low precision</b> (<i>Precision</i> tab, <i>Gradient bars</i>). In float32 a weight changes only if the
update is more than about 2^-24 ≈ 6e-8 of it: in vanishing-sigmoid (update ratio about 1e-10) 63 of layer 1's
64 weights never change (<code>float32-lost-updates</code>: <i>lost updates</i> near 1). float16 holds nothing below 2^-24: layer
1's gradient entries (about 1e-8) become exactly 0 (<i>underflow</i>, and the bar is labelled "underflow";
<code>float16-underflow</code>). Loss scaling multiplies the loss by 65536 before the backward pass and divides
the gradient after, which brings them back (<code>loss-scaling-fix</code>); bfloat16 has float32's range but
8 bits of mantissa, so without float32 master weights almost no update lands (<code>bfloat16-no-master</code>).</p>

<p><b>Keys.</b> Space run/pause · N step epoch · B step batch · R reset · F1 this help ·
Ctrl+O open · Ctrl+S save · Ctrl+E export CSV · Ctrl+Q quit.</p>
"""
