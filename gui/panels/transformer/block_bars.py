"""The gradient per block: one bar per Transformer block of ||dL/dW|| of a chosen sub-layer (Q, K, V, O, the
MLP's W1 and W2, the LayerNorms) or of the residual stream's ||dL/dx_l||, on a log scale.

The same drawing as the time-step plot (gui/panels/recurrent/time_bars.py): log10 bars from a floor, colours by
core.measure.regimes' relative rule with the last block in the place of the output layer. The numbers are core's
TransformerStats (gui/panels/transformer/common.py says which).
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from gui.panels.plotting import with_controls
from gui.panels.recurrent.time_bars import TimeGradientBars, Wording
from gui.panels.transformer.common import (RESIDUAL, SUBLAYER_LABELS, TransformerPanel, block_values,
                                           wheel_only_when_focused)
from gui.widgets import named

CHOICES = {**{k: f"‖dL/dW‖ of {v}" for k, v in SUBLAYER_LABELS.items()}, RESIDUAL: "‖dL/dx_l‖ residual stream"}


def wording(choice: str) -> Wording:
    what = CHOICES[choice]
    symbol = what.split(" ")[0] if choice == RESIDUAL else f"‖dL/dW‖ {SUBLAYER_LABELS[choice]}"
    return Wording(title=f"Gradient per block: {what}", left=f"{what.split(' ')[0]} (log scale)",
                   bottom="block l (1 = next to the input, L = next to the read-out)",
                   tip="One bar per Transformer block: log10 of the chosen sub-layer's weight-gradient norm (a "
                       "LayerNorm: its γ and β together), or of the residual stream's ‖dL/dx_l‖ at block l's output, "
                       "of the step or epoch the layer bars show. Colour: relative to this network's own blocks (see the "
                       "legend). Hover a bar for its value.", symbol=symbol, index="block", last="block L")


class BlockBarsPanel(TransformerPanel):
    def __init__(self):
        self.plot = TimeGradientBars(wording("Wq"), "blockGradientPlot")
        self.sublayerCombo = wheel_only_when_focused(named(
            QComboBox(), "blockSublayerCombo",
            "Which sub-layer's gradient the bars show, in every block: the attention's Q, K, V, O, the MLP's W₁ "
            "and W₂, the LayerNorms, or the residual stream."))
        for key, text in CHOICES.items():
            self.sublayerCombo.addItem(text, key)
        # as wide as its longest choice: "‖dL/dx_l‖ residual stream" was cut at 14 characters (issue 21)
        self.sublayerCombo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.widget = with_controls(self.plot.widget, self.sublayerCombo)
        self.sublayerCombo.currentIndexChanged.connect(lambda _: self.draw())

    @property
    def choice(self) -> str:
        return self.sublayerCombo.currentData()

    def draw(self) -> None:
        self.plot.set_wording(wording(self.choice))
        if self.stats is None:
            self.plot.clear()
            return
        b = self.stats_b
        self.plot.set_run_labels(self.labels if b is not None else None)   # issue 22: run B's line, labelled
        self.plot.update(block_values(self.stats, self.choice), self.title_caption(),
                         block_values(b, self.choice) if b is not None else None)
