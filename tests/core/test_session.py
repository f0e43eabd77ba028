"""The session decides rebuild-or-apply, the run state and where Run stops; no Qt."""
import pytest

from core import ConfigError, ExperimentConfig
from core.training.session import Change, RunState, Session, divergence_message

SMALL = ExperimentConfig(depth=3, width=6, samples=64, batch_size=16, epochs=2, seed=1)


def test_live_settings_apply_without_rebuilding_and_the_rest_rebuild():
    s = Session(SMALL)
    s.step_epoch()
    weights = s.a.network.flat.copy()
    assert s.change(lr=0.02, optimizer="adam") is Change.APPLIED
    assert s.a.epoch == 1 and (s.a.network.flat == weights).all() and s.a.config.lr == 0.02
    assert s.config == SMALL.replace(lr=0.02, optimizer="adam")
    assert s.change(lr=0.02) is Change.NONE
    assert s.change(depth=4) is Change.REBUILT
    assert s.a.epoch == 0 and len(s.history()) == 0 and s.a.network.n_layers == 5 and s.state is RunState.READY


def test_a_bad_change_raises_and_changes_nothing():
    s = Session(SMALL)
    with pytest.raises(ConfigError, match="depth must be an integer from 1 to 300, got 0"):
        s.change(depth=0)
    assert s.config == SMALL and s.a.config == SMALL


def test_run_to_stops_at_the_target_epoch_and_states_follow():
    s = Session(SMALL)
    assert s.state is RunState.READY and s.next_target() == 2
    s.run_to(s.next_target())
    assert s.state is RunState.RUNNING
    while s.state is RunState.RUNNING:
        s.train_one_batch()
    assert s.state is RunState.DONE and s.a.epoch == 2 and len(s.history()) == 2
    assert s.next_target() == 4
    s.run_to(s.next_target())
    s.train_one_batch()
    s.pause()
    assert s.state is RunState.PAUSED and s.a.epoch == 2


def test_compare_steps_b_in_lockstep_and_keeps_b_own_value():
    s = Session(SMALL, compare=("activation", "relu"))
    s.step_epoch()
    assert s.a.step == s.b.step and s.b.config.activation == "relu"
    assert s.change(lr=0.05) is Change.APPLIED and s.b.config.lr == 0.05
    assert s.label("B") == "B: activation = relu"
    assert s.change(activation="relu") is Change.REBUILT
    assert "B must differ from A" in s.notice and "comparison ended" in s.notice and s.b is None and s.compare is None


def test_divergence_stops_the_run_and_refuses_with_one_wording():
    s = Session(SMALL.replace(lr=100.0, init="normal", init_gain=50.0, activation="relu", depth=6, width=32))
    s.run_to(50)
    for _ in range(500):
        if s.state is not RunState.RUNNING:
            break
        s.train_one_batch()
    assert s.state is RunState.DIVERGED
    d = s.a.divergence
    assert s.refusal() == divergence_message(d) and f"layer {d.layer}" in s.refusal()
    with pytest.raises(ConfigError, match="Diverged at epoch"):
        s.run_to(60)


def test_replay_matches_a_recording_and_notices_a_difference():
    s = Session(SMALL)
    s.step_epoch()
    s.step_epoch()
    recorded = s.history()
    again = Session(SMALL)
    again.step_epoch()
    assert not again.matches(recorded)  # one epoch short
    again.step_epoch()
    assert again.matches(recorded)
    assert not Session(SMALL.replace(seed=2)).matches(recorded)
