"""Pause is answered by the worker within one layer's work, even in the middle of a long step."""
import time

import pytest

from core import ExperimentConfig
from core.training.session import RunState

pytestmark = pytest.mark.wiring   # pause crosses to the trainer

# Long steps for a test (about 6 million weights, batch 1: tens of milliseconds each, a few hundred MB):
# the same mechanism as depth 100 x width 1024, where one step takes seconds (benchmarks/bench_pause.py).
LONG_STEPS = ExperimentConfig(depth=40, width=384, batch_size=1, samples=400, epochs=50, lr=0.01)


def test_pause_during_long_steps_is_acknowledged_at_once_and_the_picture_follows(qtbot):
    from gui.bridge.session_model import SessionModel
    from gui.bridge.worker import Kind
    m = SessionModel(LONG_STEPS)
    snaps = []
    try:
        with qtbot.waitSignal(m.rebuilt, timeout=30000):
            pass
        m.measured.connect(snaps.append)
        with qtbot.waitSignal(m.measured, timeout=30000, check_params_cb=lambda s: s.kind == Kind.PROGRESS
                              and s.step > 2):
            m.toggle_run()
        waits = []
        for _ in range(3):
            if m.state is not RunState.RUNNING:
                m.toggle_run()
                qtbot.waitUntil(lambda: snaps[-1].kind == Kind.PROGRESS and snaps[-1].state is RunState.RUNNING,
                                timeout=30000)
            time.sleep(0.05)   # somewhere inside a step
            started = time.perf_counter()
            with qtbot.waitSignal(m.measured, timeout=30000, check_params_cb=lambda s: s.kind == Kind.PAUSED):
                m.toggle_run()
            waits.append(time.perf_counter() - started)
            paused = snaps[-1]
            assert paused.state is RunState.PAUSED and m.worker.is_running is False
            # the window gets the picture of the paused weights: sent before, with the pause, or (costly) after it
            qtbot.waitUntil(lambda: any(s.boundary is not None and s.step == paused.step for s in snaps),
                            timeout=30000)
            assert snaps[-1].step == paused.step   # nothing trained after the pause was answered
        assert max(waits) < 0.5, waits  # generous: a layer's work here is about a millisecond
    finally:
        assert m.shutdown(timeout_ms=30000)
