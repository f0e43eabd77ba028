"""The Chain rule tab: the chain rule of the latest batch with its real numbers, as a table."""
from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser

from core.measure.inspector import format_floors   # issue 24

from gui.widgets import named
from gui.panels.panel import Panel


def chain_html(chain) -> str:
    """The chain rule as a table: from the loss down to layer 1, with the running product."""
    rows = "".join(
        f"<tr><td align=right>{l.layer}</td><td align=right>{l.deriv_abs_mean:.3g}</td>"
        f"<td align=right>{'—' if i == 0 else f'{l.gain:.3g}'}</td><td align=right>{l.product:.3g}</td></tr>"
        for i, l in enumerate(chain.links))
    return (f"<p><b>{chain.text()}</b></p>"
            "<p>Each layer multiplies the back-propagated gradient δ = dL/dz by its gain "
            "‖δ<sub>l</sub>‖ / ‖δ<sub>l+1</sub>‖; the product is how much reaches layer 1.</p>"
            "<table cellspacing=0 cellpadding=3 border=1>"
            "<tr><th>layer</th><th>mean |φ′(z)|</th><th>gain</th><th>product</th></tr>"
            f"{rows}</table>" + floors_html(chain))


def floors_html(chain) -> str:
    """Issue 24: the smallest product each format can hold (core.measure.inspector.format_floors), and the first
    layer whose product is below it."""
    floors = format_floors(chain)
    if not floors:
        return ""
    rows = []
    for fmt, floor in floors.items():
        below = next((l.layer for l in chain.links if l.product < floor), None)
        rows.append(f"<tr><td>{fmt}</td><td align=right>{floor:.3g}</td>"
                    f"<td>{'none' if below is None else f'layer {below} and below'}</td></tr>")
    return ("<p>The smallest product each format can hold: below it ‖δ‖ itself, and so every entry of δ, is "
            "smaller than the format's smallest positive number and underflows to 0.</p>"
            "<table cellspacing=0 cellpadding=3 border=1><tr><th>format</th><th>smallest product</th>"
            f"<th>all of δ underflows</th></tr>{''.join(rows)}</table>")



class ChainPanel(Panel):
    def __init__(self):
        self.widget = named(QTextBrowser(), "chainView", "The chain rule for the latest batch with its real numbers: "
                            "each layer's mean |phi'|, its backward gain, and the running product from the output "
                            "down.")

    def clear(self, snap) -> None:
        self.widget.clear()

    def on_batch(self, f) -> None:
        if f.snap.chain is not None:
            self.chain = f.snap.chain
            self.changed()

    def draw(self) -> None:
        if self.at is not None:   # issue 21: rewound, that step's chain (from its own numbers, core's)
            chain = self.at.point.chain()
            head = f"<p><i>{self.at.point.step_caption()}</i></p>"
            self.widget.setHtml(head + (chain_html(chain) if chain is not None else
                                        "<p>This step recorded no error signal per layer.</p>"))
            return
        self.widget.setHtml(chain_html(self.chain))

    at = None

    def set_at(self, at) -> None:   # issue 21
        self.at = at
        if at is not None or hasattr(self, "chain"):
            self.changed()
