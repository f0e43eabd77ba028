"""The Transformer (issue 22): exact NumPy forward and backward, with its own gradient statistics.

network  the model (the interface of core.nn.model, plus named_params())
layers   LayerNorm, causal multi-head attention, the MLP, positions: each backward under its forward
layout   where each parameter lives in the flat buffer
measures what one pass measures (TransformerPass)
"""
from core.nn.transformer.measures import SUBLAYERS, TransformerBackward, TransformerPass, sublayer_norms
from core.nn.transformer.network import BRANCH_SCALES, NORM_POSITIONS, Transformer, check_settings

__all__ = ["BRANCH_SCALES", "NORM_POSITIONS", "SUBLAYERS", "Transformer", "TransformerBackward",
           "TransformerPass", "check_settings", "sublayer_norms"]
