"""The Transformer's stories (issue 22), in the form of core.stories.presets (which appends them to PRESETS).

Every number is measured with this engine (tests/core/test_transformer_stories.py checks each against a fresh
run). Where the issue's words did not hold here they are replaced by what was measured: Post-LN at Adam lr 1e-3
learns this task (val accuracy 1.0 by epoch 2), so the Post-LN story uses lr 3e-3, where it does not.
"""
from __future__ import annotations

from core.stories.presets import _story

# 12 blocks of width 32 with 4 heads, tanh, Xavier, on `recall` with T = 16 (the label is the sign of the first
# input): small enough to train in seconds.
_TF = dict(model="transformer", dataset="recall", seq_len=16, noise=0.2, samples=256, depth=12, width=32, heads=4,
           batch_size=32, activation="tanh", init="xavier", optimizer="adam", seed=0)

TRANSFORMER_PRESETS = [
    _story("transformer-post-ln",
           "a 12-block Post-LN Transformer: large gradients near the output at initialisation; with Adam at lr "
           "3e-3 and no warm-up it does not learn",
           "the per-block ||dL/dW2|| at step 1 (the last block's against the first's), then the loss against the "
           "chance line.",
           "at initialisation the last block's ||dL/dW2|| is {post_over_pre:.1f}x Pre-LN's and {last_over_first:.1f}x "
           "the first block's (Pre-LN's last block: {pre_last_over_first:.2f}x its first). Trained with Adam at lr "
           "3e-3 the loss stays at chance (at least {chance_loss_min:.2f} in every epoch) and validation accuracy "
           "at most {val_accuracy_max:.0%} for {epochs} epochs. At lr 1e-3 the same network does learn "
           "(validation accuracy {lr1e3_accuracy:.0%} at epoch 2): the issue's 'no learning at 1e-3' did not hold "
           "with this engine and task.",
           "Post-LN puts a LayerNorm on the skip path after every block: the gradient reaching a block is divided "
           "by the norms above it, and the output blocks' gradients are the largest (Xiong et al. 2020). Adam makes "
           "every parameter's first updates about lr in size whatever its gradient; Xiong et al. argue that "
           "these early full-size steps on top of the large output gradients are what fails (this run shows "
           "the failure and the gradients, not that cause).",
           dict(_TF, norm_position="post", lr=0.003, epochs=6),
           post_over_pre=4.3, last_over_first=3.2, pre_last_over_first=0.31, chance_loss_min=0.69,
           val_accuracy_max=0.57, epochs=6, lr1e3_accuracy=1.0),
    _story("transformer-pre-ln",
           "the same 12 blocks with Pre-LN and the same lr 3e-3, no warm-up: the gradients stay level and it learns",
           "the per-block ||dL/dW2|| at step 1, then the loss against transformer-post-ln's.",
           "at initialisation the last block's ||dL/dW2|| is {last_over_first:.2f}x the first block's (Post-LN's: "
           "3.2x). Without any warm-up validation accuracy reaches {val_accuracy:.0%} at epoch {learned_epoch} and "
           "the loss is below {final_loss_max} at epoch {epochs}; Post-LN at the same rate stays at chance.",
           "x + f(LN(x)) leaves the skip path without a norm: the gradient reaches every block through the identity, "
           "and no block's gradient is scaled up by the norms above it (Xiong et al. 2020).",
           dict(_TF, lr=0.003, epochs=10),
           last_over_first=0.31, val_accuracy=1.0, learned_epoch=7, final_loss_max=0.01, epochs=10),
    _story("transformer-warmup",
           "the same Post-LN Transformer with 40 steps of learning-rate warm-up: it learns",
           "the loss and validation accuracy against transformer-post-ln's.",
           "with the rate rising linearly over the first 40 steps ({steps_per_epoch} steps an epoch: nearly all "
           "{epochs} epochs), validation accuracy reaches {val_accuracy:.0%} at epoch {learned_epoch} and the loss "
           "falls below {final_loss_max} by epoch {epochs}, where without warm-up it stays at chance.",
           "small first steps let Adam's moment estimates settle before the updates reach full size (the classic "
           "fix for Post-LN, Vaswani et al. 2017; Xiong et al. 2020).",
           dict(_TF, norm_position="post", lr=0.003, warmup_steps=40, epochs=6),
           steps_per_epoch=7, val_accuracy=1.0, learned_epoch=3, final_loss_max=0.01, epochs=6),
    _story("transformer-rank-collapse",
           "12 attention blocks without skip connections: every token becomes the same, and nothing is learned",
           "the token-similarity meter per block, block 1's ||dL/dWq||, and the loss.",
           "at initialisation the last block's tokens have mean cosine similarity above {similarity_min} (with skips: "
           "{similarity_skips:.3f}), and block 1's ||dL/dWq|| is {wq_fall:.0f}x below the same network's with "
           "skips. Over {epochs} epochs the loss stays at chance (at least {chance_loss_min:.2f}).",
           "attention averages the tokens; without x + f(x) nothing keeps them apart, so depth drives them to one "
           "direction (rank collapse), and the softmax's gradient to the queries and keys vanishes with it "
           "(Dong et al. 2021; Noci et al. 2022). See transformer-skips for the fix.",
           dict(_TF, branch_scale="none", lr=0.001, epochs=6),
           similarity_min=0.99999, similarity_skips=0.945, wq_fall=168, epochs=6, chance_loss_min=0.68),
    _story("transformer-skips",
           "the same 12 blocks with skip connections (Pre-LN): the tokens stay apart and it learns",
           "the token-similarity meter and the loss against transformer-rank-collapse's.",
           "the last block's token similarity is {similarity:.3f} at initialisation, and validation accuracy "
           "reaches {val_accuracy:.0%} at epoch {learned_epoch}.",
           "x + f(LN(x)) carries every token's own representation past each block: attention adds to it instead "
           "of replacing it.",
           dict(_TF, lr=0.001, epochs=6),
           similarity=0.945, val_accuracy=1.0, learned_epoch=3),
    _story("attention-vs-rnn",
           "one attention block on recall with T = 100: the first position's gradient is about {ratio:.2f} of the "
           "last's, against rnn-vanishing's {rnn_ratio:sci}",
           "the position plot: nearly level, where rnn-vanishing's time-step plot falls 21 orders of magnitude.",
           "at the initial weights (step 1) ||dL/dx_1|| / ||dL/dx_100|| of the embedded input is about {ratio:.2f} "
           "(1/T = 0.01: the "
           "last query spreads its attention over the 100 positions), against rnn-vanishing's {rnn_ratio:sci}; "
           "validation accuracy reaches {val_accuracy:.0%} by epoch {epochs}.",
           "attention joins every position to the last in one step, so the gradient to position 1 is divided "
           "among T keys, not multiplied by 99 Jacobians.",
           dict(dataset="recall", seq_len=100, noise=0.2, samples=1024, depth=1, width=32, batch_size=32, seed=0,
                model="transformer", heads=4, activation="tanh", optimizer="adam", lr=0.001, epochs=3),
           ratio=0.02, rnn_ratio=2e-21, val_accuracy=1.0, epochs=3),
]
