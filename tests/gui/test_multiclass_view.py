"""The decision-boundary view draws k classes from the core's class probabilities."""
import numpy as np


def test_multiclass_prediction_is_drawn_in_class_colours(qtbot):
    """k classes: each class's colour weighted by its probability, points in their class's colour."""
    from gui.panels.plotting import class_colour
    from gui.panels.prediction import KEEP, SMOOTH_SIDE, DecisionBoundary, class_mix
    prob = np.zeros((2, 3, 3))
    prob[0, 0] = [1, 0, 0]
    prob[0, 1] = [0, 0, 1]
    prob[1, :] = 1 / 3
    rgb = class_mix(prob)
    fade = lambda c: 1 - (1 - np.array(class_colour(c).getRgbF()[:3])) * KEEP
    np.testing.assert_allclose(rgb[0, 0], fade(0), atol=1e-6)
    np.testing.assert_allclose(rgb[0, 1], fade(2), atol=1e-6)
    np.testing.assert_allclose(rgb[1, 0], (fade(0) + fade(1) + fade(2)) / 3, atol=1e-6)
    view = DecisionBoundary()
    qtbot.addWidget(view.widget)
    view.set_data(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]), np.array([0.0, 1.0, 2.0]))
    assert view.multi and "each class's colour" in view.widget.toolTip()
    brushes = [b.color().name() for b in view.points.data["brush"]]
    assert brushes == [class_colour(c).name() for c in range(3)]
    view.update((np.linspace(0, 2, 3), np.linspace(0, 1, 2), prob))
    drawn = view.image.image   # the 2 x 3 grid drawn with SMOOTH_SIDE samples a side, its corners the grid's own
    assert drawn.shape == (SMOOTH_SIDE, SMOOTH_SIDE, 3) and view.image.lut is None
    np.testing.assert_allclose(drawn[0, 0], rgb[0, 0], atol=1e-6)
    np.testing.assert_allclose(drawn[-1, -1], rgb[-1, -1], atol=1e-6)
    view.set_data(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0.0, 1.0]))  # back to binary: the colour map
    view.update((np.linspace(0, 2, 3), np.linspace(0, 1, 2), np.full((2, 3), 0.5)))
    assert not view.multi and view.image.image.ndim == 2 and view.image.lut is not None
