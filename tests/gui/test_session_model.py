"""The session model's typed signals and actions, without a window."""
import pytest

from core.training.session import RunState

from .conftest import SMALL

pytestmark = pytest.mark.wiring   # a session model is the window's side of the wiring


@pytest.fixture
def model(qtbot):
    from gui.bridge.session_model import SessionModel
    m = SessionModel(SMALL)
    with qtbot.waitSignal(m.rebuilt, timeout=5000) as first:
        pass
    assert first.args[0].config == SMALL and first.args[0].n_layers == SMALL.n_weight_layers
    yield m
    assert m.shutdown()


def test_step_run_and_reset_through_the_actions_emit_typed_signals(model, qtbot):
    with qtbot.waitSignal(model.epochsAdded, timeout=5000) as added:
        model.actions["stepEpochButton"].trigger()
    assert added.args == [1] and len(model.history) == 1 and model.state is RunState.PAUSED
    states, messages = [], []
    model.stateChanged.connect(states.append)
    model.message.connect(lambda text, error: messages.append(text))
    with qtbot.waitSignal(model.stateChanged, timeout=10000,
                          check_params_cb=lambda s: s is RunState.DONE):
        model.actions["runButton"].trigger()
    assert states[0] is RunState.RUNNING and len(model.history) == SMALL.epochs
    assert messages[0] == f"Running to epoch {SMALL.epochs}." and messages[-1].startswith("Reached epoch 5.")
    assert model.actions["runButton"].text() == "Run" and model.actions["stepBatchButton"].isEnabled()
    with qtbot.waitSignal(model.rebuilt, timeout=5000):
        model.actions["resetButton"].trigger()
    assert len(model.history) == 0 and model.state is RunState.READY


def test_live_and_rebuilding_changes_and_a_refused_value(model, qtbot):
    configs, messages = [], []
    model.configChanged.connect(configs.append)
    model.message.connect(lambda text, error: messages.append((text, error)))
    with qtbot.waitSignal(model.measured, timeout=5000,
                          check_params_cb=lambda snap: snap.kind == "applied") as applied:
        model.change("lr", 0.02)
    assert applied.args[0].config.lr == 0.02 and messages[-1] == ("lr = 0.02: applied to the running network.", False)
    with qtbot.waitSignal(model.rebuilt, timeout=5000) as rebuilt:
        model.change("depth", 5)
    assert rebuilt.args[0].n_layers == 6 and "history cleared" in messages[-1][0]
    model.change("depth", 0)
    assert messages[-1] == ("depth must be an integer from 1 to 300, got 0", True)
    assert configs[-1] == model.config == SMALL.replace(lr=0.02, depth=5)


def test_comparing_follows_the_session(model, qtbot):
    seen = []
    model.comparingChanged.connect(seen.append)
    with qtbot.waitSignal(model.rebuilt, timeout=5000) as rebuilt:
        assert model.start_compare("activation", "relu")
    assert rebuilt.args[0].b is not None and model.comparing and seen[-1] is True
    assert not model.start_compare("dataset", "moons") and seen[-1] is True   # refused: still comparing
    with qtbot.waitSignal(model.rebuilt, timeout=5000):
        model.stop_compare()
    assert not model.comparing and seen[-1] is False and model.history_b is None


def test_a_start_config_too_large_for_memory_falls_back_visibly(qtbot, monkeypatch):
    import core.runtime.resources
    from core import ExperimentConfig
    from gui.bridge.session_model import SessionModel
    monkeypatch.setattr(core.runtime.resources, "available_memory", lambda: 64 * 2**20)   # a 64 MiB machine
    m = SessionModel(SMALL.replace(width=1024, depth=50))
    said, built = [], []
    m.message.connect(lambda text, error: said.append((text, error)))
    m.rebuilt.connect(built.append)
    try:
        qtbot.waitUntil(lambda: bool(said and built), timeout=5000)
        assert said[0][1] and "width: this network needs about" in said[0][0]
        assert m.config == ExperimentConfig() == built[0].config
    finally:
        assert m.shutdown()
