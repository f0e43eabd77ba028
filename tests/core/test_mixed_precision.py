"""Issue 24: the mixed-precision MLP's arithmetic, its records and the CSV columns."""
import csv
import io
import json

import numpy as np
import pytest

from core import ExperimentConfig, Trainer, round_to
from core.cli import main
from core.headless import output_bound
from core.io.records import history_csv
from core.nn.precision import SMALLEST


def small(**over):
    return ExperimentConfig(**{**dict(depth=3, width=8, samples=64, batch_size=16, epochs=2, activation="tanh",
                                     lr=0.05), **over})


@pytest.mark.parametrize("fmt,tol", [("float16", 3e-3), ("bfloat16", 3e-2)])
def test_gradient_is_float64_s_within_the_format_s_precision_and_held_in_it(fmt, tol):
    t64, tq = Trainer(small()), Trainer(small(dtype=fmt))
    tq.network.flat[...] = round_to(t64.network.flat, fmt)      # the same weights in both
    t64.network.flat[...] = tq.network.flat
    X, y = t64.data.X_train[:16], t64.data.y_train[:16]
    g64 = t64.network.backward(X, y).grad_flat
    r = tq.network.backward(X, y)
    g = r.grad_flat
    assert g.dtype == np.float32
    np.testing.assert_array_equal(round_to(g, fmt), g)      # every gradient entry is a value of the format
    rel = np.linalg.norm(g - g64) / np.linalg.norm(g64)
    assert rel < tol, rel
    # the activations kept for the backward pass are values of the format too
    for h in r.activations:
        np.testing.assert_array_equal(round_to(h, fmt), h)


def test_loss_scale_multiplies_the_gradient_and_the_trainer_divides_it_out():
    t = Trainer(small(dtype="float16", loss_scale=1024.0))
    X, y = t.data.X_train[:16], t.data.y_train[:16]
    plain = t.network.backward(X, y).grad_flat.copy()
    with t.precision.scaled_loss():
        r = t.network.backward(X, y)
    scaled = r.grad_flat.copy()
    deltas = r.delta_norms.copy()
    t.precision.unscale(r)
    assert t.network.loss_fn is t.precision._loss_fn      # the scaled loss function is for one pass only
    np.testing.assert_array_equal(r.grad_flat, scaled / 1024.0)
    np.testing.assert_allclose(r.delta_norms, deltas / 1024.0)
    # scaling by a power of two and dividing it out changes only what under- or overflowed
    assert np.allclose(scaled / 1024.0, plain, rtol=2e-3, atol=1e-7)
    assert np.count_nonzero(scaled) >= np.count_nonzero(plain)


def test_underflow_counts_exactly_the_entries_rounding_zeroed():
    t = Trainer(small(dtype="float16", activation="sigmoid", depth=6, init_gain=0.1))
    b = t.step_batch()
    net = t.network
    assert b.underflow[0] > 0.5 and b.grad_max_abs[0] == 0     # layer 1's gradient: far below 2^-24
    assert np.all(b.overflow == 0) and b.underflow[-1] == 0
    t32 = Trainer(small(dtype="float32", activation="sigmoid", depth=6, init_gain=0.1))
    b32 = t32.step_batch()
    assert b32.grad_max_abs[0] < 2 * SMALLEST["float16"] and np.all(b32.underflow == 0)
    assert net.rounding.shape == (2, net.n_layers)


def test_without_master_weights_the_weights_stay_in_the_format():
    t = Trainer(small(dtype="bfloat16", master_weights=False))
    t.run(1)
    np.testing.assert_array_equal(round_to(t.network.flat, "bfloat16"), t.network.flat)
    t2 = Trainer(small(dtype="bfloat16"))
    t2.run(1)
    assert np.any(round_to(t2.network.flat, "bfloat16") != t2.network.flat)   # master weights: float32


def test_master_weights_false_needs_a_low_precision_dtype():
    from core.config import ConfigError
    with pytest.raises(ConfigError, match="master_weights false needs dtype float16 or bfloat16") as e:
        small(master_weights=False)
    assert e.value.field == "master_weights"
    with pytest.raises(ConfigError, match="dtype 'bfloat16' is not supported with norm 'batch'"):
        small(dtype="bfloat16", norm="batch")


def test_dynamic_scaling_skips_a_non_finite_step_and_halves(monkeypatch):
    t = Trainer(small(dtype="float16", loss_scale="dynamic"))
    before = t.network.flat.copy()
    t.precision.scaler.scale = 1e30     # every gradient overflows float16
    b = t.step_batch()
    assert b.skipped and not b.diverged and b.loss_scale == 1e30 and t.precision.scaler.scale == 5e29
    np.testing.assert_array_equal(t.network.flat, before)       # a skipped step changes no weight
    assert np.all(np.isnan(b.lost_updates)) and np.all(b.update_ratio == 0)
    assert t.steps.scalar("skipped")[-1] == 1.0 and t.steps.scalar("loss_scale")[-1] == 1e30


def test_csv_has_precision_columns_for_runs_not_in_float64(tmp_path, capsys):
    out = tmp_path / "run.csv"
    assert main(["--headless", "--depth", "2", "--width", "4", "--samples", "64", "--epochs", "2",
                 "--dtype", "float16", "--loss-scale", "dynamic", "--out", str(out), "--quiet"]) == 0
    rows = list(csv.reader(out.open()))
    head = rows[0]
    assert head[-11:] == [f"{f}_{i}" for f in ("underflow", "overflow", "lost_updates") for i in (1, 2, 3)] + \
        ["loss_scale", "skipped_steps"]
    assert rows[1][-2] == "65536.0" and rows[1][-1] == "0"
    cfg = ExperimentConfig(depth=2, width=4, samples=64, epochs=2, dtype="float16", loss_scale="dynamic")
    assert out.stat().st_size <= output_bound(cfg, {"A": Trainer(cfg)}, True)
    t = Trainer(ExperimentConfig(depth=2, width=4, samples=64, epochs=1))
    t.run()
    assert "underflow_1" not in history_csv(t.history) and "underflow_1" in history_csv(t.history, True)


def test_jsonl_of_a_low_precision_run_fits_its_size_bound(tmp_path):
    out = tmp_path / "run.jsonl"
    assert main(["--headless", "--depth", "2", "--width", "4", "--samples", "64", "--epochs", "2",
                 "--dtype", "bfloat16", "--out", str(out), "--quiet"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["precision"]["steps"]) for r in records] == [2, 2]   # 51 training samples, batches of 32
    cfg = ExperimentConfig(depth=2, width=4, samples=64, epochs=2, dtype="bfloat16")
    assert out.stat().st_size <= output_bound(cfg, {"A": Trainer(cfg)}, False)


def test_chain_rule_names_the_smallest_product_each_format_holds():
    from core.measure.inspector import chain_from_step, format_floors
    chain = chain_from_step([1e-9, 1e-4, 1e-1, 2.0], [0.25, 0.25, 0.25, 1.0])
    floors = format_floors(chain)
    assert floors["float16"] == 2.0 ** -24 / 2.0 and floors["float32"] == 2.0 ** -149 / 2.0
    assert list(floors) == ["float64", "float32", "bfloat16", "float16"]
    # layer 1's product 5e-10 is below float16's 3e-8: its error signal underflows in float16 (and its norm is
    # 1e-9 < 2^-24), not in bfloat16
    link1 = chain.links[-1]
    assert link1.product < floors["float16"] and link1.delta_norm < 2.0 ** -24
    assert link1.product > floors["bfloat16"]
    assert format_floors(chain_from_step([0.0, 0.0], [1.0, 1.0])) == {}
