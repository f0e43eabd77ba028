"""core.stories.claims: each story's quoted numbers, read from the run, hold where the text says they do."""
import math

import pytest

from core import Trainer
from core.stories.claims import RunSoFar, claims, checks_of, CHECKS
from core.stories.presets import PRESETS, get_preset


def _full_run(name, **overrides):
    t = Trainer(get_preset(name).config(**overrides))
    t.initial_time_grad = t.time_gradient_norms()   # as the window's first snapshot measures it
    first = latest = None
    while t.epoch < t.config.epochs and not t.diverged:
        b = t.step_batch()
        first = first or b
        latest = b if not b.diverged else latest
    return t, first, latest


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_claim_of_a_story_holds_at_the_end_of_its_run(name):
    t, first, latest = _full_run(name)
    got = claims(get_preset(name), RunSoFar.of_trainer(t, first, latest, t.initial_time_grad))
    assert got and len(got) == len(checks_of(get_preset(name)))
    assert all(c.holds is True for c in got), got


def test_every_story_has_its_claims():
    assert set(CHECKS) <= set(PRESETS)
    assert {"vanishing-sigmoid", "exploding", "rnn-vanishing", "irnn"} <= set(CHECKS)


def test_a_claim_fails_on_a_run_that_does_not_show_it():
    t, first, latest = _full_run("relu-fix")   # relu-fix learns: vanishing-sigmoid's claims do not hold on it
    got = claims(get_preset("vanishing-sigmoid"), RunSoFar.of_trainer(t, first, latest, t.initial_time_grad))
    assert [c.holds for c in got[:2]] == [False, False], got


def test_claims_wait_for_the_point_they_speak_of():
    t = Trainer(get_preset("clipping-fix").config())
    run = RunSoFar.of_trainer(t)
    before = claims(get_preset("clipping-fix"), run)
    assert [c.holds for c in before] == [None, None] and before[0].value == "not yet measured"
    first = t.step_batch()
    while t.epoch < 1:
        t.step_batch()
    one = claims(get_preset("clipping-fix"), RunSoFar.of_trainer(t, first, first))
    assert one[0].holds is True and one[1].holds is None and "judged at epoch 15" in one[1].value
    assert float(one[1].value.split()[0]) == pytest.approx(t.history.scalar("train_loss")[-1], rel=1e-2)
    assert one[1].value.split()[0] != "nan" and math.isfinite(float(one[0].value))


def test_a_story_without_checks_shows_loss_and_accuracy_unjudged():
    from dataclasses import replace
    p = replace(get_preset("relu-fix"), name="someone-elses-story")
    t, first, latest = _full_run("relu-fix", epochs=2)
    got = claims(p, RunSoFar.of_trainer(t, first, latest, t.initial_time_grad))
    assert [c.holds for c in got] == [None, None] and [c.judged for c in got] == [False, False]
    assert got[0].value == f"{t.history.scalar('train_loss')[-1]:.3f}"


@pytest.mark.parametrize("overrides", [dict(depth=1, epochs=1), dict(depth=2, epochs=1, width=4)])
def test_claims_never_fail_on_a_run_of_other_settings(overrides):
    """A story's checks read any run (the window may show one whose settings departed): nothing raises."""
    t, first, latest = _full_run("relu-fix", **overrides)
    for p in PRESETS.values():
        for c in claims(p, RunSoFar.of_trainer(t, first, latest, t.time_gradient_norms())):
            assert isinstance(c.value, str) and c.holds in (True, False, None)
