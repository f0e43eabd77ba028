"""The view registry: every plot of the window, once. Qt-free, so the command line's help reads it before Qt loads.

One row per view: ``name`` (what ``--record-plot`` and scripts call it), ``label`` (the File > Export plot
menu's text), ``object_name`` (the widget's objectName, also the window's attribute: tests and users'
scripts find widgets by it), ``place`` (page/area of the dashboard), ``kinds`` (which networks show it) and
``factory`` ("module:callable": called with the dashboard being built, it returns the view's Panel or the group
that makes it; imported only then).
The dashboard, the export menu, the recorder and the CLI's ``--record-plot`` help all read this table:
a new view is one row here and its panel class.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

ALL = "all"   # every model kind shows the view; otherwise the name of a view in core.nn.kinds' ``views``


@dataclass(frozen=True)
class View:
    name: str
    label: str
    object_name: str
    place: str
    kinds: str
    factory: str

    def supports(self, model: str) -> bool:
        """Whether a network of this model kind shows the view: the kind registry says (imported here, not at
        the top, so the command line's help reads this table before NumPy loads)."""
        from core.nn.kinds import kind_of
        return self.kinds == ALL or self.kinds in kind_of(model).views

    def shown_for(self) -> str:
        """The model kinds that show the view, in words (for messages)."""
        from core.nn.kinds import KINDS
        return "every model" if self.kinds == ALL else ", ".join(k for k, kind in KINDS.items()
                                                                  if self.kinds in kind.views)

    def make(self):
        """The callable that builds the view's panel (a lazy import: Qt loads only here)."""
        module, _, attr = self.factory.partition(":")
        return getattr(import_module(module), attr)


_F = "gui.panels.factories:"
_TIME, _INSIDE = _F + "time_views", _F + "inside_views"
VIEWS: tuple[View, ...] = (
    View("gradients", "Gradient bars", "gradientPlot", "gradients/top", ALL, _F + "bars"),
    View("loss", "Loss", "lossPlot", "gradients/bottom", ALL, _F + "loss"),
    View("heatmap", "Gradient flow", "heatmapPlot", "gradients/top", ALL, _F + "heatmap"),
    View("updates", "Update ratio", "updatePlot", "gradients/bottom", ALL, _F + "updates"),
    View("boundary", "Prediction", "boundaryPlot", "gradients/lesson", ALL, _F + "boundary"),
    View("timeline", "Step timeline", "timelinePlot", "gradients/top", ALL, _F + "timeline"),
    View("time-gradients", "Gradient through time", "timeGradientPlot", "gradients/time", "time_steps", _TIME),
    View("time-heatmap", "Gradient through time per epoch", "timeHeatmapPlot", "gradients/time", "time_heatmap", _TIME),
    View("sequence-score", "Validation score (sequences)", "sequenceScorePlot", "gradients/lesson",
         "sequence_prediction", _TIME),
    View("distributions", "Distributions", "distributionPlot", "inside/top", "inside", _INSIDE),
    View("activations", "Forward signal", "activationPlot", "inside/top", "inside", _INSIDE),
    View("network", "Network", "networkDiagram", "inside/bottom", "inside", _INSIDE),
    View("jacobian", "Jacobian spectrum", "jacobianPanel", "gradients/lesson", "jacobian", _F + "jacobian"),
    View("precision", "Precision", "precisionPlot", "gradients/lesson", "precision", _F + "precision"),   # issue 24: mlp only
)
# issue 22, the window: the Transformer's views (gui/panels/transformer), made together by one factory
_TRANSFORMER = _F + "transformer_views"
VIEWS += (
    View("block-gradients", "Gradient per block", "blockGradientPlot", "gradients/transformer", "transformer_blocks",
         _TRANSFORMER),
    View("similarity", "Token similarity", "tokenSimilarityPlot", "gradients/lesson", "token_similarity",
         _TRANSFORMER),
    View("attention", "Attention map", "attentionMapPlot", "gradients/transformer", "attention_map", _TRANSFORMER),
)
# issue 21: the Inside page of recurrent models and the Transformer (gui/panels/inside/sequence_*.py, made with
# the MLP's by the same factory; each place shows one or the other)
VIEWS += (
    View("time-signal", "Forward signal through time", "timeSignalPlot", "inside/top", "inside_time", _INSIDE),
    View("time-distributions", "Distributions per layer (sequences)", "sequenceDistributionPlot", "inside/top",
         "inside_time", _INSIDE),
    View("unrolled", "Network unrolled through time", "unrolledNetwork", "inside/bottom", "inside_time", _INSIDE),
)
NAMES: tuple[str, ...] = tuple(v.name for v in VIEWS)
BY_NAME: dict[str, View] = {v.name: v for v in VIEWS}


def by_name(name: str) -> View | None:
    """The row named ``name`` (read at call time: a row added to VIEWS is found)."""
    return next((v for v in VIEWS if v.name == name), None)


def names() -> tuple[str, ...]:
    return tuple(v.name for v in VIEWS)
