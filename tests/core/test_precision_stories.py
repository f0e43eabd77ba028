"""Issue 24: every claim of the low-precision stories, measured on a fresh run."""
import numpy as np
import pytest

from core.stories.presets import get_preset
from core.training.trainer import Trainer


def _run(name, epochs=20, **over):
    p = get_preset(name)
    t = Trainer(p.config(**over))
    w0 = t.network.params[0][0].copy()
    return p.expect, t, t.run(epochs), w0


def test_float32_lost_updates():
    e, t, epochs, w0 = _run("float32-lost-updates")
    lo, hi = e["lost1"]
    assert all(lo <= ep.lost_updates[0] <= hi for ep in epochs)
    assert np.count_nonzero(t.network.params[0][0] == w0) == e["unchanged"] and w0.size == e["n_weights"]
    assert all(np.all(ep.underflow == 0) for ep in epochs)
    # the same run in float64 moves every weight of layer 1
    t64 = Trainer(get_preset("float32-lost-updates").config(dtype="float64"))
    t64.run(1)
    assert np.count_nonzero(t64.network.params[0][0] == w0) == 0


def test_float16_underflow():
    e, t, epochs, _ = _run("float16-underflow", epochs=3)
    for ep in epochs:
        assert ep.underflow[0] >= e["underflow12"] and ep.underflow[1] >= e["underflow12"]
        assert ep.grad_max_abs[0] == 0.0   # layer 1: exactly 0 all epoch
        assert abs(ep.underflow[2] - e["underflow3"]) < 0.1
    assert t.last_batch.grad_max_abs[0] == 0.0   # layer 1's gradient: exactly 0
    assert np.all(t.last_batch.grad_mean_abs[3:] > 0)


def test_loss_scaling_fixes_underflow():
    e, t, epochs, _ = _run("loss-scaling-fix")
    f32 = Trainer(get_preset("float32-lost-updates").config()).run(20)
    assert max(float(np.max(ep.underflow)) for ep in epochs) <= e["underflow_max"]
    assert sum(ep.skipped_steps for ep in epochs) == 0 and epochs[-1].loss_scale == e["scale"]
    ratio = np.array([a.grad_norm[0] / b.grad_norm[0] for a, b in zip(epochs, f32)])
    assert np.all(np.abs(ratio - 1) < e["agree"])


def test_bfloat16_without_master_weights():
    e, t, epochs, w0 = _run("bfloat16-no-master")
    assert all(np.all(ep.underflow == 0) for ep in epochs)
    assert np.all(epochs[0].lost_updates >= e["lost_min"])
    assert np.count_nonzero(t.network.params[0][0] == w0) == e["unchanged"] == e["n_weights"]
    # with master weights the same run loses no more than float32 does
    with_master = Trainer(get_preset("bfloat16-no-master").config(master_weights=True)).run(1)[0]
    assert with_master.lost_updates[-1] < 0.1


def test_float16_overflows_before_float32():
    p = get_preset("float16-exploding")
    e = p.expect
    runs = {}
    for dtype in ("float16", "float32"):
        t = Trainer(p.config(dtype=dtype))
        steps = []
        while not t.diverged:
            steps.append(t.step_batch())
        finite = [s.grad_norm_total for s in steps if np.isfinite(s.grad_norm_total)]
        runs[dtype] = (t.divergence.step, max(finite))
    assert runs["float16"][0] == e["f16_step"] and runs["float32"][0] == e["f32_step"]
    assert e["f16_grad"] / 3 < runs["float16"][1] < e["f16_grad"] * 3
    assert e["f32_grad"] / 3 < runs["float32"][1] < e["f32_grad"] * 3


def test_low_precision_is_refused_where_not_emulated():
    from core.config import ConfigError, ExperimentConfig
    with pytest.raises(ConfigError, match="dtype 'float16' is not supported by model 'rnn'"):
        ExperimentConfig(model="rnn", dataset="recall", dtype="float16")
    with pytest.raises(ConfigError, match="loss_scale must be none, dynamic or a number greater than 0, got -1"):
        ExperimentConfig(loss_scale=-1)
    assert ExperimentConfig(loss_scale="1024").loss_scale == 1024.0


def test_jsonl_record_carries_every_step():
    t = Trainer(get_preset("loss-scaling-fix").config(epochs=1))
    rec = t.step_epoch().to_record()["precision"]
    assert len(rec["steps"]) == t.batches_per_epoch and rec["steps"][0]["loss_scale"] == 65536.0
    assert [l["layer"] for l in rec["layers"]] == list(range(1, 12))
