"""Each layer's gradient regime, relative to the network it is in.

An absolute threshold says little (1e-6 is tiny next to 1 and large next to 1e-12): a layer is
judged against the other layers of the same network. ``values`` are one per weight layer,
input side first, output layer last (``grad_norm`` or ``delta_norms``).

- 'nonfinite': NaN or infinite
- 'zero': exactly 0 (no gradient at all: not vanishing, not NaN)
- 'exploding': at least EXPLODING_RISE times the output layer's value (grown on the way to the input),
  or above EXPLODING_ABOVE whatever the other layers do: when every layer has blown up together
  (the exploding story's second step has ||dL/dW|| near 1e10 in all six layers) no layer stands out,
  and a relative rule alone would call them all healthy
- 'vanishing': below VANISHING_RATIO of the largest finite layer that is not exploding
- 'healthy': everything else
"""
from __future__ import annotations

import numpy as np

VANISHING_RATIO = 1e-3   # below this fraction of the largest (non-exploding) layer: vanishing
EXPLODING_RISE = 1e2     # at least this many times the output layer's value: exploding
# Above this a gradient norm is exploding on its own: a mean loss of order 1 on standardised inputs gives
# norms of order 1 (the eighteen stories' healthy runs stay below 300 over their first 60 steps; irnn's
# largest is 257), and at learning rate 0.01 a norm of 1e4 moves the layer's weights by 100 in one step.
EXPLODING_ABOVE = 1e4
REGIMES = ("healthy", "vanishing", "exploding", "zero", "nonfinite")
REGIME_TEXT = {
    "healthy": "within the network's normal range",
    "vanishing": f"below {VANISHING_RATIO:g} x the largest layer",
    "exploding": f"at least {EXPLODING_RISE:g} x the output layer, or above {EXPLODING_ABOVE:g}",
    "zero": "exactly 0",
    "nonfinite": "NaN or infinite",
}


def classify_layers(values) -> list[str]:
    """One label from REGIMES per layer (see the module's docstring for the rules)."""
    v = np.asarray(values, dtype=float)
    labels = np.full(v.shape, "healthy", dtype=object)
    finite = np.isfinite(v)
    labels[~finite] = "nonfinite"
    labels[finite & (v == 0)] = "zero"
    positive = finite & (v > 0)
    out = v[-1] if len(v) else np.nan
    exploding = np.zeros(v.shape, dtype=bool)
    if np.isfinite(out) and out > 0:
        exploding = positive & (v >= EXPLODING_RISE * out)
    exploding |= positive & (v > EXPLODING_ABOVE)
    labels[exploding] = "exploding"
    rest = positive & ~exploding
    if rest.any():
        labels[rest & (v < VANISHING_RATIO * v[rest].max())] = "vanishing"
    return labels.tolist()
