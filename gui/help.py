"""The "What am I looking at?" panel: the ideas behind each plot, in a few paragraphs."""

HELP_HTML = """
<h3>What am I looking at?</h3>
<p><b>Learning is gradient descent.</b> Every step changes each weight by
<code>w_new = w_old − lr · dL/dw_old</code>. If <code>dL/dw</code> is tiny, <code>w_new ≈ w_old</code>:
that weight has stopped learning. The <i>update ratio</i> plot shows ‖ΔW‖ / ‖W‖ per layer; around
1e-3 is healthy, far below it nothing moves.</p>

<p><b>The chain rule multiplies one factor per layer.</b> For the first layer,
<code>dL/dw1 = dL/dy · dy/dz · dz/do · do/dw1</code>: every layer between w1 and the loss adds a factor
φ′(z)·W. The <i>Chain rule</i> tab shows these factors for the latest batch, with their running product.
If each is 0.1, four layers give <code>0.1 · 0.1 · 0.1 · 0.1 = 0.0001</code>.</p>

<p><b>Why sigmoid vanishes.</b> The sigmoid's derivative is at most 0.25 (at z = 0) and far smaller once
a unit saturates. Ten sigmoid layers multiply to about 0.25<sup>10</sup> ≈ 1e-6: the <i>gradient bars</i>
sink from the output (right) toward layer 1 (left), the <i>gradient-flow history</i> turns dark at the bottom,
and the <i>loss</i> plateaus. Try the <code>vanishing-sigmoid</code> story.</p>

<p><b>Why ReLU helps.</b> ReLU's derivative is exactly 1 wherever a unit is active, so the factors are
set by the weights alone; with He initialisation (variance 2/fan_in) they average about 1 and the bars
stay level (<code>relu-fix</code>).</p>

<p><b>How gradients explode.</b> With factors of 10 instead, <code>10 · 10 · 10 · 10 = 10000</code>. Weights
drawn from N(0, 1) in a layer of 256 units multiply the signal by about √128 ≈ 11 per layer; the bars turn
red, a single update is drastic and the loss overflows: training <i>diverges</i>, and the status bar says
at which epoch, step and layer (<code>exploding</code>).</p>

<p><b>The fixes.</b> <i>Gradient clipping</i> rescales the whole gradient when its norm exceeds a
threshold: the same direction, a bounded step (<code>clipping-fix</code>). <i>Xavier/Glorot</i> initialisation
(variance 2/(fan_in + fan_out)) keeps tanh and sigmoid layers' factors near 1, <i>He</i> does the same for
ReLU. <i>Residual connections</i> compute h + φ(hW + b), whose derivative is I + φ′W: the identity
carries the gradient past small factors (<code>residual-fix</code>). Adam rescales each step by the
gradient's own size, hiding vanishing gradients in the updates but not in the gradients
(<code>adam-masks</code>).</p>

<p><b>Theory.</b> For wide random networks, mean-field theory predicts the per-layer factor √χ<sub>1</sub>,
with χ<sub>1</sub> = σ<sub>w</sub><sup>2</sup> E[φ′(√q* z)<sup>2</sup>] (Poole et al. 2016; Schoenholz et al.
2017). Tick <i>Theory overlay</i> to draw it over the bars: χ<sub>1</sub> &lt; 1 is the ordered phase
(vanishing), &gt; 1 the chaotic phase (exploding), = 1 the edge of chaos.</p>

<p><b>The plots.</b> Gradient bars: log<sub>10</sub> ‖dL/dW‖ per layer, layer 1 on the left; blue below
1e-6, red above 1e2, black for NaN/inf. Gradient-flow history: the same, epoch by epoch. Loss: training
(mean over the epoch) and validation (after it). Prediction: the network's output over the input plane.</p>

<p><b>Keys.</b> Space run/pause · N step epoch · B step batch · R reset · F1 this help ·
Ctrl+O open · Ctrl+S save · Ctrl+E export CSV · Ctrl+Q quit.</p>
"""
