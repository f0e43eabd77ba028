"""The chain rule back through time, with the real numbers of the latest batch (core.measure.inspector.TimeChain).

Going back from the last step T, each step multiplies ||dL/dh|| by a factor
||dL/dh_t|| / ||dL/dh_{t+1}||; their running product is ||dL/dh_t|| / ||dL/dh_T||. The table
shows every step for short sequences, the last and first ten otherwise.
"""
from __future__ import annotations

from PySide6.QtWidgets import QTextBrowser

from core.nn.kinds import kind_of

from gui.widgets import named
from gui.panels.panel import Panel, Rewinds

SHOWN = 10   # steps shown at each end of a long sequence


def _row(link, first: bool) -> str:
    factor = "—" if first else f"{link.factor:.3g}"
    return (f"<tr><td align=right>{link.step}</td><td align=right>{link.grad_norm:.3e}</td>"
            f"<td align=right>{factor}</td><td align=right>{link.product:.3g}</td></tr>")


def time_chain_html(chain) -> str:
    """The chain as a paragraph and a table, from t = T (the loss's side) down to t = 1."""
    links = chain.links
    T = len(links)
    factors = [f"{l.factor:.2g}" for l in links[1:]]
    if len(factors) > 8:
        factors = factors[:3] + ["…"] + factors[-3:]
    product = " × ".join(factors) if factors else "1"
    rows = [_row(l, i == 0) for i, l in enumerate(links)]
    if T > 2 * SHOWN:
        rows = rows[:SHOWN] + [f"<tr><td colspan=4 align=center>… {T - 2 * SHOWN} steps …</td></tr>"] \
            + rows[-SHOWN:]
    return (f"<p><b>‖dL/dh<sub>1</sub>‖ = ‖dL/dh<sub>{T}</sub>‖ × {product} = {chain.total:.3g} × "
            f"‖dL/dh<sub>{T}</sub>‖</b></p>"
            "<p>Each step back through time multiplies the gradient by a factor "
            "‖dL/dh<sub>t</sub>‖ / ‖dL/dh<sub>t+1</sub>‖ (a vanilla RNN multiplies it by diag(φ′) "
            "W<sub>h</sub><sup>T</sup> at each step); the running product is how much of the last step's "
            "gradient reaches step t. Latest batch, current weights.</p>"
            "<table cellspacing=0 cellpadding=3 border=1>"
            "<tr><th>t</th><th>‖dL/dh<sub>t</sub>‖</th><th>factor</th><th>product</th></tr>"
            f"{''.join(rows)}</table>")


class TimeChainPanel(Rewinds, Panel):
    """The inspector's 'Through time' tab (shown for recurrent models only)."""

    def __init__(self):
        self.widget = named(QTextBrowser(), "timeChainView",
                            "The chain rule back through time for the latest batch: each step's factor "
                            "||dL/dh_t|| / ||dL/dh_t+1|| and the running product from the last step back to t.")

    def clear(self, snap) -> None:
        self.widget.clear()   # the new network's chain follows in on_batch (a rebuild's snapshot carries it)

    def on_batch(self, f) -> None:
        through = f.snap.through_time
        if "time_chain" in kind_of(f.snap.config).views and through is not None and through[0] is not None:
            self.chain = through[0].chain
            self.changed()

    def draw(self) -> None:
        through = self.at.point.through_time() if self.at is not None else None
        if through is not None:   # issue 21: the rewound step's chain, from its own numbers (core's)
            self.widget.setHtml(f"<p><i>{self.at.point.step_caption()}</i></p>" + time_chain_html(through.chain))
        elif hasattr(self, "chain"):
            self.widget.setHtml(time_chain_html(self.chain))

