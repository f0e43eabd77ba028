"""Issue 24 in the window: the Precision view, the underflow mark on the gradient bars, the loss scale on the
step timeline, the loss-scale editor."""
import numpy as np

from core.stories.presets import get_preset
from core.training.precision_step import zeroed_by_underflow

from .conftest import epochs_stepped, rebuilt_with_config


def test_float16_underflow_is_marked_on_the_bars_and_shown_in_the_precision_view(window, qtbot):
    cfg = get_preset("float16-underflow").config(samples=128)
    rebuilt_with_config(window, qtbot, cfg)
    epochs_stepped(window, qtbot, 1)
    d = window.dashboard
    d.lessonTabs.setCurrentWidget(d.precision.widget)
    qtbot.waitUntil(lambda: d.precision.plot.caption.startswith("float16"), timeout=5000)
    batch = window.last_snapshot.last_batch
    marked = zeroed_by_underflow(batch)
    assert marked[0] and not marked[-1]
    bars = d.bars.plot
    shown = [m for m in bars.underflow_marks if m.isVisible()]
    assert len(shown) == int(marked.sum()) and shown[0].pos().x() == 1
    assert any("underflow" in text for _, text in bars.entries)
    under, _ = d.precision.plot.bars["underflow"]
    np.testing.assert_allclose(under.opts["height"], batch.underflow)
    lost, _ = d.precision.plot.bars["lost_updates"]
    assert len(lost.opts["height"]) == np.isfinite(batch.lost_updates).sum()
    assert "holds 6e-08 to 6.55e+04" in d.precision.plot.caption


def test_a_float64_run_has_no_underflow_mark_and_no_scale_on_the_timeline(small_window, qtbot):
    epochs_stepped(small_window, qtbot, 1)
    d = small_window.dashboard
    assert not any(m.isVisible() for m in d.bars.plot.underflow_marks)
    assert not d.timeline.plot.scaled


def test_dynamic_loss_scale_is_drawn_on_the_timeline(window, qtbot):
    cfg = get_preset("loss-scaling-fix").config(samples=128)
    rebuilt_with_config(window, qtbot, cfg)
    epochs_stepped(window, qtbot, 1)
    plot = window.dashboard.timeline.plot
    plot_widget_visible = window.dashboard.timeline.widget
    qtbot.waitUntil(lambda: plot.scaled, timeout=5000)
    x, y = plot.scale.getData()
    assert np.allclose(y, np.log10(65536.0)) and len(x) == window.last_snapshot.step
    assert plot_widget_visible is not None


def test_loss_scale_editor_sends_what_is_typed(window, qtbot):
    editor = window.controls.editors["loss_scale"] if hasattr(window, "controls") else None
    if editor is None:
        from gui.controls.control_panel import ControlPanel
        editor = window.findChild(ControlPanel).editors["loss_scale"]
    seen = []
    editor.edited.connect(lambda f, v: seen.append((f, v)))
    editor.combo.setEditText("1024")
    editor.combo.textActivated.emit("1024")
    editor.combo.textActivated.emit("dynamic")
    assert seen == [("loss_scale", 1024.0), ("loss_scale", "dynamic")]
