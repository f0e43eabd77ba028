"""networkDiagram: the network as a picture (issue 12).

Columns are layers (input left), nodes are bands of units (at most core.measure.distributions.MAX_BANDS per layer,
so 2 to 1024 units stay readable; the tooltip and caption say how many units a node stands for). A link
joins two bands of adjacent layers; its colour is the RMS, over the sampled entries of that block, of
the weights, the gradient or the update (switchable), on one log10 colour scale for the whole picture.
Hidden nodes are filled by their saturated share (white 0 to red 1); a node with half or more of its
units saturated is ringed. Run B is drawn below A. Few items: one scatter for nodes, one for rings and
COLOUR_BINS line items with connect="pairs" for the links, whatever the depth.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.measure.distributions import LINK_KINDS

from gui.widgets import named, plain_label
from gui.panels.plotting import layer_ticks, set_data

COLOUR_BINS = 8
FIELD = {"weights": "w_blocks", "gradients": "g_blocks", "updates": "u_blocks"}
MAP = pg.colormap.get("viridis")
SAT_STEPS = 5   # node fill in steps of 1/5: few distinct brushes, so the scatter's symbol cache is reused
SAT_BRUSHES = [pg.mkBrush(255, int(255 * (1 - k / SAT_STEPS)), int(255 * (1 - k / SAT_STEPS)))
               for k in range(SAT_STEPS + 1)]
NO_SAT = pg.mkBrush(200, 200, 200)   # input and output nodes: no saturation measured


def node_positions(bands: list, top: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """x (layer index) and y (spread over [top - 1, top + 1]) of every node, layer by layer."""
    xs = np.concatenate([np.full(b, float(l)) for l, b in enumerate(bands)])
    ys = np.concatenate([top + (np.linspace(-1, 1, b) if b > 1 else np.zeros(1)) for b in bands])
    return xs, ys


class NetworkDiagram:
    def __init__(self):
        self.widget = named(pg.PlotWidget(), "networkDiagram",
                            "The network: links coloured by the RMS of weights, gradients or updates (log scale), "
                            "nodes by their saturated share; wide layers are drawn as bands of units.")
        p = self.plot = self.widget.getPlotItem()
        p.hideAxis("left")
        p.setLabel("bottom", "layer (0 = input)")
        p.setMouseEnabled(x=True, y=True)
        colours = MAP.getLookupTable(0.0, 1.0, COLOUR_BINS)
        self.links = [p.plot([], [], pen=pg.mkPen(tuple(int(c) for c in colours[k][:3]), width=1),
                             connect="pairs") for k in range(COLOUR_BINS)]
        self.missing = p.plot([], [], pen=pg.mkPen((200, 200, 200), width=1, style=Qt.DotLine), connect="pairs")
        self.nodes = pg.ScatterPlotItem(size=12, pen=pg.mkPen((60, 60, 60)))
        self.rings = pg.ScatterPlotItem(size=20, brush=None, pen=pg.mkPen((192, 57, 43), width=2.5))
        p.addItem(self.nodes)
        p.addItem(self.rings)
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=MAP, interactive=False, label="log10 RMS")
        self.bar.setImageItem(pg.ImageItem(), insert_in=p)
        self.kindCombo = named(QComboBox(), "networkKindCombo", "Colour the links by the weights, the gradient "
                               "dL/dW or the update of the recorded step.")
        self.kindCombo.addItems(LINK_KINDS)
        self.kindCombo.setCurrentText("gradients")
        self.caption = plain_label("", "networkCaption", "What the colours mean.")
        self.kindCombo.setMinimumWidth(48)   # full text when there is room; the window stays narrow-able
        self.box = QWidget()
        v = QVBoxLayout(self.box)
        v.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("links:"))
        row.addWidget(self.kindCombo)
        row.addStretch(1)
        v.addLayout(row)
        v.addWidget(self.widget, 1)
        v.addWidget(self.caption)
        self.state = None
        self.drawn: dict = {}
        self._geometry: dict = {}   # (bands, top) -> link end points and node positions: fixed for a network
        self._ticks_for = self._levels = self._node_key = None
        self.kindCombo.currentIndexChanged.connect(self.redraw)

    def clear(self) -> None:
        self.state = None
        self.drawn = {}
        for c in self.links + [self.missing]:
            c.setData([], [])
        self.nodes.setData([], [])
        self.rings.setData([], [])
        self._node_key = None
        self.caption.setText("No step recorded yet.")

    def show(self, layout, rec: dict, what: str, layout_b=None, rec_b: dict | None = None) -> None:
        self.state = (layout, rec, what, layout_b, rec_b)
        self.redraw()

    def redraw(self, *_) -> None:
        if self.state is None:
            return
        layout, rec, what, layout_b, rec_b = self.state
        if self._ticks_for != layout.n_layers:   # set again, the same ticks would repaint the axis
            self._ticks_for = layout.n_layers
            ticks = [(0, "0")] + layer_ticks(layout.n_layers)   # whole layers only: the input is 0
            self.plot.getAxis("bottom").setTicks([ticks, []])
        field = FIELD[self.kindCombo.currentText()]
        runs = [(layout, rec, 0.0)] + ([(layout_b, rec_b, -3.0)] if rec_b is not None else [])
        segs = [self._segments(lay, r[field], top) for lay, r, top in runs]
        values = np.concatenate([v for _, _, v in segs])
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(values)
        ok = np.isfinite(logs)
        lo, hi = (float(logs[ok].min()), float(logs[ok].max())) if ok.any() else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
        scaled = np.where(ok, (logs - lo) / (hi - lo) * COLOUR_BINS, 0.0)
        idx = np.clip(scaled.astype(int), 0, COLOUR_BINS - 1)
        x = np.concatenate([s[0] for s in segs])
        y = np.concatenate([s[1] for s in segs])
        for k, c in enumerate(self.links):
            m = np.repeat(ok & (idx == k), 2)
            set_data(c, x[m], y[m])
        miss = np.repeat(~ok, 2)
        set_data(self.missing, x[miss], y[miss])
        if (lo, hi) != self._levels:
            self._levels = (lo, hi)
            self.bar.setLevels((lo, hi))
        self._nodes(runs)
        self.drawn = {"log10_range": (lo, hi), "values": values, "bins": np.where(ok, idx, -1)}
        widest = max(max(np.diff(e)) for e in layout.edges)
        self.caption.setText(
            f"At {what}. Links: RMS of the {self.kindCombo.currentText()} over the sampled entries of each block, "
            f"colour from 10^{lo:.1f} (dark) to 10^{hi:.1f} (yellow); dotted: no sample in the block. Nodes: "
            f"saturated share, white 0 to red 1 in steps of 0.2, ringed at 1/2 or more ({layout.saturation_rule})"
            + (f"; a node stands for up to {widest} units" if widest > 1 else "")
            + (". Lower network: run B." if rec_b is not None else "."))

    def _layout_geometry(self, layout, top: float) -> tuple:
        """Link end points (x pairs, y pairs, in the links' order) and node positions of one network."""
        key = (tuple(layout.bands), top)
        if key not in self._geometry:
            bands = layout.bands
            nx, ys = node_positions(bands, top)
            starts = np.concatenate([[0], np.cumsum(bands)])
            xs, yv = [], []
            for l in range(layout.n_layers):
                i, j = np.meshgrid(np.arange(bands[l]), np.arange(bands[l + 1]), indexing="ij")
                n = i.size
                xs.append(np.column_stack([np.full(n, float(l)), np.full(n, l + 1.0)]).ravel())
                yv.append(np.column_stack([ys[starts[l] + i.ravel()], ys[starts[l + 1] + j.ravel()]]).ravel())
            if len(self._geometry) > 4:   # networks come and go: keep a few
                self._geometry.clear()
            self._geometry[key] = (np.concatenate(xs), np.concatenate(yv), nx, ys)
        return self._geometry[key]

    def _segments(self, layout, blocks, top: float):
        """Endpoints (x pairs, y pairs) and values of every link of one network."""
        x, y, _, _ = self._layout_geometry(layout, top)
        vals = [np.asarray(layout.links(blocks, l), float).ravel() for l in range(layout.n_layers)]
        return x, y, np.concatenate(vals)

    def _nodes(self, runs) -> None:
        xs, ys, codes, marks = [], [], [], []
        for layout, rec, top in runs:
            _, _, x, y = self._layout_geometry(layout, top)
            bands = layout.bands
            share = np.full(len(x), np.nan)
            o = bands[0]
            share[o:o + sum(bands[1:-1])] = rec["node_saturation"]
            xs.append(x)
            ys.append(y)
            level = np.rint(np.nan_to_num(share, nan=0.0) * SAT_STEPS).astype(int)
            codes.append(np.where(np.isfinite(share), level, -1))   # -1: no saturation measured
            marks.append(np.isfinite(share) & (share >= 0.5))
        key = tuple(np.concatenate(a) for a in (xs, ys, codes, marks))
        old = self._node_key
        if old is None or any(len(a) != len(b) or not np.array_equal(a, b) for a, b in zip(old, key)):
            self._node_key = key   # fills (in steps of 1/5) and rings change far less often than the links
            x, y, code, marked = key
            self.nodes.setData(x, y, brush=[SAT_BRUSHES[k] if k >= 0 else NO_SAT for k in code])
            self.rings.setData(x[marked], y[marked])
        self.drawn_nodes = int(sum(len(x) for x in xs))

    def table(self) -> tuple[list, list]:
        if self.state is None:
            return [], []
        layout, rec, *_ = self.state
        rows = []
        for l in range(layout.n_layers):
            for name, f in FIELD.items():
                m = layout.links(rec[f], l)
                rows += [[l + 1, name, i + 1, j + 1, float(m[i, j])] for i in range(m.shape[0])
                         for j in range(m.shape[1])]
        return ["weight_layer", "quantity", "band_in", "band_out", "rms"], rows
