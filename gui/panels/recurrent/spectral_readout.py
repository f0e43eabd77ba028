"""The spectral norm of each recurrent layer's W_h against Pascanu's bound, in words (core.measure.through_time)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from core.nn.kinds import kind_of
from core.measure.through_time import readout_lines

from gui.widgets import named
from gui.panels.panel import Panel

HEADER = "Pascanu's bound (‖W_h‖₂ < 1/γ, γ = max φ′, guarantees a vanilla RNN's gradient vanishes):"


class SpectralReadoutPanel(Panel):
    """One line per recurrent layer, from the snapshot's ThroughTime (current weights)."""

    def __init__(self):
        self.widget = named(QLabel(""), "spectralLabel",
                            "The largest singular value of each recurrent layer's W_h against 1/gamma "
                            "(Pascanu, Mikolov & Bengio 2013). Below it, vanishing is guaranteed; above it, "
                            "the bound says nothing. LSTM and GRU: the bound does not apply.")
        self.widget.setTextFormat(Qt.PlainText)
        self.widget.setWordWrap(True)

    def clear(self, snap) -> None:
        self.widget.setText("")
        self.at, self.live_text, self.comparing = None, "", snap.b is not None

    at, live_text, comparing = None, "", False

    def set_at(self, at) -> None:
        """Issue 21: rewound, the readout of that step's ‖W_h‖₂ (after the step); live again, the latest."""
        self.at = at
        through = at.point.through_time() if at is not None else None
        if at is None:
            self.widget.setText(self.live_text)
        elif through is not None:
            self._set(through.spectral, f"{at.point.step_caption()}: ")

    def on_batch(self, f) -> None:
        through = f.snap.through_time
        if "spectral" in kind_of(f.snap.config).views and through is not None and through[0] is not None:
            self.comparing = f.snap.b is not None
            self._set(through[0].spectral)
            self.live_text = self.widget.text()
            if self.at is not None:
                self.set_at(self.at)

    def _set(self, spectral, prefix: str = "") -> None:
        lines = readout_lines(spectral)
        if self.comparing:   # while comparing, this is A's network
            lines = [f"run A, {line}" for line in lines]
        header = prefix + HEADER
        self.widget.setText(" ".join([header] + lines) if len(lines) == 1 else "\n".join([header] + lines))

    def on_epochs(self, f) -> None:
        pass
