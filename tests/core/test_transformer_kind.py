"""The Transformer as a model kind (issue 22): settings, warm-up, its statistics in the step, epoch and records."""
import json
import math

import numpy as np
import pytest

from core.cli import main
from core.config import ConfigError, ExperimentConfig
from core.io.formats import CSV, JSONL, read_statistics, write_statistics
from core.nn.kinds import KINDS, MEAN_FIELD, PASCANU, kind_of, transformer_param_count
from core.nn.transformer import SUBLAYERS
from core.runtime.resources import check_fits, memory_needed
from core.training.trainer import Trainer
from core.training.transformer_stats import csv_columns

SMALL = dict(model="transformer", dataset="recall", seq_len=6, samples=60, depth=2, width=8, heads=2,
             batch_size=16, epochs=2, activation="tanh", optimizer="adam", lr=0.01)


def test_heads_must_divide_the_width_and_the_message_names_both():
    with pytest.raises(ConfigError) as e:
        ExperimentConfig(**{**SMALL, "heads": 3})
    assert e.value.field == "heads" and "heads 3" in str(e.value) and "width 8" in str(e.value)
    assert ExperimentConfig(**{**SMALL, "heads": 8}).heads == 8
    with pytest.raises(ConfigError, match="norm_position must be one of pre, post"):
        ExperimentConfig(**{**SMALL, "norm_position": "middle"})
    with pytest.raises(ConfigError, match="heads 2 does not apply to model 'mlp' .only transformer uses it"):
        ExperimentConfig(heads=2)


def test_cli_flags_follow_from_the_field_specs(capsys):
    rc = main(["--headless", "--model", "transformer", "--dataset", "recall", "--seq-len", "6", "--samples", "60",
               "--depth", "2", "--width", "8", "--heads", "4", "--norm-position", "post", "--branch-scale",
               "rezero", "--warmup-steps", "3", "--epochs", "1"])
    out = capsys.readouterr().out
    assert rc == 0 and len(json.loads(out.splitlines()[0])["transformer"]["token_similarity"]) == 2
    rc = main(["--headless", "--model", "transformer", "--dataset", "recall", "--width", "8", "--heads", "3"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "heads 3 must divide the width 8" in err


def test_the_registry_entry():
    k = kind_of("transformer")
    assert k.sequences and k.gates == 0 and "time_steps" in k.views
    assert "does not apply to a Transformer" in k.theory_reason(MEAN_FIELD)
    assert "no recurrent weights" in k.theory_reason(PASCANU)
    assert {"heads", "norm_position", "branch_scale", "warmup_steps", "activation"} <= set(k.fields)
    assert all("warmup_steps" in kind.fields for kind in KINDS.values())


@pytest.mark.parametrize("norm,scale", [("pre", "one"), ("post", "rezero"), ("pre", "none")])
def test_the_memory_estimate_counts_the_parameters(norm, scale):
    cfg = ExperimentConfig(**{**SMALL, "norm_position": norm, "branch_scale": scale})
    t = Trainer(cfg)
    assert transformer_param_count(1, 2, 8, 1, norm == "pre", scale == "rezero") == t.network.flat.size
    need = memory_needed(cfg)
    assert need["parameters"] == (4 + 2) * t.network.flat.size * 8   # adam: 2 states


def test_a_too_large_transformer_is_refused_naming_what_to_reduce():
    big = ExperimentConfig(model="transformer", dataset="recall", seq_len=1000, depth=48, width=256, heads=8,
                           batch_size=256, samples=4096)
    assert sum(memory_needed(big).values()) > 100 * 2**30
    with pytest.raises(ConfigError) as e:
        check_fits(big, available=16 * 2**30)
    assert e.value.field == "batch_size" and "GiB" in str(e.value) and "reduce batch_size" in str(e.value)
    check_fits(ExperimentConfig(**SMALL), available=16 * 2**30)   # a small one fits


def test_warm_up_sets_the_learning_rate_of_step_k_for_every_kind():
    for model in ("transformer", "rnn", "mlp"):
        extra = {} if model == "transformer" else {"heads": 4, "width": 8}
        base = {**SMALL, **extra, "model": model, "warmup_steps": 4, "lr": 0.02}
        if model == "mlp":
            base.update(dataset="circles", activation="tanh")
        if model != "transformer":
            base.pop("heads")
        t = Trainer(ExperimentConfig(**base))
        rates = []
        for _ in range(6):
            t.step_batch()
            rates.append(t.optimizer.lr)
        assert rates == pytest.approx([0.005, 0.01, 0.015, 0.02, 0.02, 0.02], rel=1e-15), model
        assert t.lr_at(0) == 0.0 and t.lr_at(2) == 0.01
    sgd = Trainer(ExperimentConfig(**{**SMALL, "optimizer": "sgd", "lr": 0.1, "warmup_steps": 10}))
    before = sgd.network.flat.copy()
    b = sgd.step_batch()
    grad = sgd._grad.copy()
    assert np.allclose(sgd.network.flat - before, -0.01 * grad, rtol=1e-9, atol=1e-15)   # step 1: lr / 10
    assert b.update_ratio[0] > 0


def test_the_step_statistics_are_the_gradient_and_update_of_each_sub_layer():
    t = Trainer(ExperimentConfig(**SMALL))
    net = t.network
    before = net.flat.copy()
    b = t.step_batch()
    tf = b.transformer
    g = dict((n, v) for n, v in net.layout.named(t._grad))
    group = {"Wq": "attn.", "Wk": "attn.", "Wv": "attn.", "Wo": "attn.", "W1": "mlp.", "W2": "mlp."}
    for name, parts in SUBLAYERS.items():
        for i in range(2):
            direct = math.sqrt(sum(float(np.sum(g[f"block{i + 1}.{group.get(p, '')}{p}"] ** 2)) for p in parts))
            assert tf.sublayer_grad_norm[name][i] == pytest.approx(direct, rel=1e-12)
    upd, w0 = net.sublayer_norms(net.flat - before), net.sublayer_norms(before)
    for name in SUBLAYERS:
        assert np.allclose(tf.sublayer_update_ratio[name], upd[name] / w0[name], rtol=1e-9)
    assert tf.residual_grad_norm.shape == (3,) and tf.position_grad_norm.shape == (3, 6)
    assert np.allclose(tf.position_grad_norm[0], b.time_grad_norm)
    assert tf.attention_entropy.shape == (2, 2) and np.all(tf.attention_entropy >= 0)
    assert np.all(tf.attention_entropy <= np.log(6))
    assert tf.last_attention.shape == (2, 2, 6) and np.allclose(tf.last_attention.sum(axis=-1), 1.0)
    assert tf.token_similarity.shape == (2,) and np.all(np.abs(tf.token_similarity) <= 1 + 1e-12)


def test_the_epoch_is_the_mean_of_its_steps_and_the_history_keeps_it():
    t = Trainer(ExperimentConfig(**SMALL))
    batches = [t.step_batch() for _ in range(t.batches_per_epoch)]
    e = t.history[0]
    for name in SUBLAYERS:
        assert np.allclose(e.transformer.sublayer_grad_norm[name],
                           np.mean([b.transformer.sublayer_grad_norm[name] for b in batches], axis=0))
    assert np.allclose(e.transformer.token_similarity, np.mean([b.transformer.token_similarity for b in batches], 0))
    t.step_epoch()
    assert t.history.transformer("sublayer_grad_norm", "Wq").shape == (2, 2)
    assert t.history.transformer("attention_entropy").shape == (2, 2, 2)
    assert t.history[0].transformer.position_grad_norm.size == 0            # older epochs: compact
    assert t.history[1].transformer.position_grad_norm.shape == (3, 6)      # the latest: whole
    assert Trainer(ExperimentConfig(dataset="circles", epochs=1)).history.transformer("token_similarity").shape == (0, 0)


def test_the_records_carry_the_transformer_columns():
    t = Trainer(ExperimentConfig(**SMALL))
    t.run()
    rows = read_statistics(write_statistics(t.history, CSV), CSV)
    cols = csv_columns(2, 2)
    assert len(cols) == 8 * 2 * 2 + 3 + 2 + 4 and all(c in rows[0] for c in cols)
    last = t.history[1].transformer
    assert rows[1]["tf_grad_norm_W2_2"] == pytest.approx(last.sublayer_grad_norm["W2"][1], rel=1e-15)
    assert rows[1]["tf_attention_entropy_2_1"] == pytest.approx(last.attention_entropy[1, 0], rel=1e-15)
    assert rows[1]["time_grad_norm_6"] == pytest.approx(t.history[1].time_grad_norm[5], rel=1e-15)
    recs = read_statistics(write_statistics(t.history, JSONL), JSONL)
    assert recs[1]["transformer"]["residual_grad_norm"] == pytest.approx(last.residual_grad_norm.tolist())
    assert "position_grad_norm" in recs[1]["transformer"] and "position_grad_norm" not in recs[0]["transformer"]
    mlp = Trainer(ExperimentConfig(epochs=1, samples=40))
    mlp.run()
    assert not any(c.startswith("tf_") for c in read_statistics(write_statistics(mlp.history, CSV), CSV)[0])


def test_the_runner_sends_the_transformer_statistics_and_they_pickle():
    import pickle
    from tests.core.test_runner import Recorder, drive, same
    from core.runtime.runner import Kind, Rebuild, Runner, Step
    cfg = ExperimentConfig(**SMALL)
    channel = Recorder()
    runner = Runner(channel, cfg)
    runner._start()
    drive(runner, channel, Rebuild(cfg, None), Step(epoch=True))
    rebuilt = [s for s in channel.snapshots if s.kind is Kind.REBUILT][-1]
    init = rebuilt.initial_transformer
    fresh = Trainer(cfg).measure().transformer
    assert np.array_equal(init.token_similarity, fresh.token_similarity)
    assert np.array_equal(init.last_attention, fresh.last_attention)
    assert all(np.all(v == 0) for v in init.sublayer_update_ratio.values())
    epochs = [e for s in channel.snapshots for e in s.new_epochs]
    assert epochs and epochs[-1].transformer.sublayer_grad_norm["Wq"].shape == (2,)
    last = channel.snapshots[-1]
    assert last.last_batch.transformer.last_attention.shape == (2, 2, 6) and not channel.failures
    for snap in channel.snapshots:
        same(snap, pickle.loads(pickle.dumps(snap)))
    assert Trainer(ExperimentConfig(samples=40, epochs=1)).transformer_measures() is None


@pytest.mark.parametrize("config", [ExperimentConfig(**SMALL), ExperimentConfig(samples=40, norm="batch"),
                                    ExperimentConfig(model="lstm", dataset="adding", samples=40)])
def test_the_initial_measures_of_one_pass_are_those_of_three(config):
    t = Trainer(config)
    grad, delta, tf = t.initial_measures()
    assert np.array_equal(grad, t.gradient_norms()) and np.array_equal(delta, t.error_signal_norms())
    other = t.transformer_measures()
    assert (tf is None) == (other is None)
    if tf is not None:
        assert np.array_equal(tf.residual_grad_norm, other.residual_grad_norm)
