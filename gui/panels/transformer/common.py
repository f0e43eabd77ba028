"""What the Transformer's views share: where their numbers come from, their captions, and controls that ignore the
wheel unless focused.

The numbers are core's ``core.training.transformer_stats.TransformerStats``: ``Snapshot.initial_transformer``
(one pass at initialisation, with REBUILT), then those of the statistics the layer bars show (the dashboard's
choice: the latest batch, the last epoch's mean, or the last finite batch before a divergence).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt

from gui.panels.panel import Panel

# The sub-layers of core.nn.transformer.measures.SUBLAYERS, in that order, in the window's words
SUBLAYER_LABELS = {"Wq": "Q (W_q)", "Wk": "K (W_k)", "Wv": "V (W_v)", "Wo": "O (W_o)", "W1": "MLP W₁",
                   "W2": "MLP W₂", "ln1": "LN₁ (γ, β)", "ln2": "LN₂ (γ, β)"}
RESIDUAL = "residual"   # the residual stream's ||dL/dx_l|| at each block's output, beside the sub-layers
INITIAL = "initialisation, first batch"


def block_values(stats, name: str):
    """(depth,) ||dL/dW|| of sub-layer ``name`` in blocks 1..L, or for RESIDUAL ||dL/dx_l|| of their outputs."""
    return stats.residual_grad_norm[1:] if name == RESIDUAL else stats.sublayer_grad_norm[name]


class TransformerPanel(Panel):
    """Keeps the latest TransformerStats of runs A and B (``stats_b``: None unless comparing with a Transformer as
    B) and what they are (``caption``); ``draw`` is the view's."""

    stats, stats_b, caption, comparing, labels = None, None, "", False, None

    def clear(self, snap) -> None:
        self.stats, self.caption, self.comparing = snap.initial_transformer, INITIAL, snap.b is not None
        self.stats_b = getattr(snap.b, "initial_transformer", None)   # issue 22: run B's at initialisation
        self.labels = (snap.b.label_a, snap.b.label) if snap.b is not None else None
        self.clear_plot()
        self.draw()

    def on_batch(self, f) -> None:
        stats = getattr(f.stats, "transformer", None)
        if stats is not None:
            if self.at is not None and self.REWINDS:   # rewound: the latest waits for Live
                self.live = (stats, f.caption)
                return
            self.stats, self.caption, self.comparing = stats, f.caption, f.snap.b is not None
            self.stats_b = getattr(f.other, "transformer", None) if f.snap.b is not None else None
            self.labels = (f.snap.b.label_a, f.snap.b.label) if f.snap.b is not None else None
            self.changed()

    at, live = None, None
    REWINDS = True   # issue 21: draws the rewound point's per-block numbers (the attention map does not keep them)

    def set_at(self, at) -> None:
        """Issue 21: rewound, the point's TransformerStats (its epoch's at an epoch's end); None: the latest."""
        if not self.REWINDS:
            return
        if self.at is None:
            self.live = (self.stats, self.caption)
        self.at = at
        point = getattr(at.point.stats, "transformer", None) if at is not None else None
        self.stats, self.caption = (point, at.caption) if point is not None else self.live
        self.changed()

    def title_caption(self) -> str:
        """While comparing, which run's numbers are drawn: both when B is a Transformer too, else A's only."""
        if not self.comparing:
            return self.caption
        return f"runs A and B, {self.caption}" if self.stats_b is not None else f"run A, {self.caption}"

    def clear_plot(self) -> None:
        self.plot.clear()


class _NoWheelUnfocused(QObject):
    """A spin or combo box takes the wheel only when it has focus: scrolling the dashboard changes nothing."""

    def eventFilter(self, obj, event) -> bool:   # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Wheel and not obj.hasFocus():
            event.ignore()
            return True
        return False


_FILTER = _NoWheelUnfocused()


def wheel_only_when_focused(widget):
    widget.setFocusPolicy(Qt.StrongFocus)
    widget.installEventFilter(_FILTER)
    return widget
