"""Recurrent networks: BPTT against central differences (float64) and PyTorch, statistics, data, files, CLI."""
import csv
import io
import json

import numpy as np

from core.training.session import Session
import pytest

from tests.gradcheck import numeric_grads

from core import ACTIVATIONS, ConfigError, ExperimentConfig, Trainer, get_activation, make_dataset
from core.cli import main
from core.training.compare import Comparison
from core.nn.recurrent import RecurrentNetwork
from core.io.records import history_csv, load_experiment, save_experiment


_finite_difference_grads = numeric_grads  # tests/gradcheck.py


def _small_net(kind, activation="tanh", task="classification", depth=2, seed=1):
    net = RecurrentNetwork(kind, 2, depth, 3, get_activation(activation), init_gain=1.5, recurrent_init="normal",
                           recurrent_gain=0.7, forget_bias=0.5, task=task, rng=np.random.default_rng(seed))
    net.flat[net.n_weights:] = 0.5 * np.random.default_rng(seed + 1).standard_normal(net.flat.size - net.n_weights)
    return net


CASES = [("rnn", a) for a in sorted(ACTIVATIONS)] + [("lstm", "tanh"), ("gru", "tanh")]


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("kind,activation", CASES)
def test_bptt_matches_central_differences(kind, activation, task):
    rng = np.random.default_rng(3)
    net = _small_net(kind, activation, task)
    X = rng.standard_normal((3, 4, 2))
    y = (rng.random(3) > 0.5).astype(float) if task == "classification" else rng.standard_normal(3)
    loss, grads = net.loss_and_grads(X, y)
    assert loss == pytest.approx(net.loss(X, y), rel=1e-12)
    numeric = _finite_difference_grads(net, X, y)
    for ours, theirs in zip(grads, numeric):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            scale = max(np.linalg.norm(a), np.linalg.norm(b))
            assert np.linalg.norm(a - b) <= 1e-6 * scale + 1e-8, (kind, activation)  # 1e-8: the differences' noise


@pytest.mark.parametrize("kind,shapes", [
    ("rnn", [[(2, 3), (3, 3), (3,)], [(3, 3), (3, 3), (3,)], [(3, 1), (1,)]]),
    ("lstm", [[(2, 12), (3, 12), (12,)], [(3, 12), (3, 12), (12,)], [(3, 1), (1,)]]),
    ("gru", [[(2, 9), (3, 9), (9,), (9,)], [(3, 9), (3, 9), (9,), (9,)], [(3, 1), (1,)]]),
])
def test_parameter_layout_is_the_issues(kind, shapes):
    net = _small_net(kind)
    assert [[p.shape for p in layer] for layer in net.params] == shapes
    for layer in net.params:  # views into the one flat buffer
        for p in layer:
            assert np.shares_memory(p, net.flat)
    assert net.n_layers == 3 and net.flat.size == sum(p.size for layer in net.params for p in layer)


def test_time_grad_norm_is_the_norm_of_dL_dh_t_of_the_top_layer():
    """Perturb h_t by adding eps * v to the input of step t+1's recurrence is awkward; instead check the
    definition through the head at t = T and through W_h one step back for a one-layer RNN."""
    net = _small_net("rnn", "tanh", depth=1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 5, 2)), (rng.random(4) > 0.5).astype(float)
    r = net.backward(X, y)
    out, layers = net._forward(X)
    _, dout = net.loss_fn(out, y)
    W_x, W_h, b = net.params[0]
    dh_T = dout[:, None] @ net.params[1][0].T
    assert r.time_grad_norm[-1] == pytest.approx(np.linalg.norm(dh_T), rel=1e-12)
    H = layers[0][1]
    dz_T = dh_T * (1 - H[-1] ** 2)
    assert r.time_grad_norm[-2] == pytest.approx(np.linalg.norm(dz_T @ W_h.T), rel=1e-12)
    assert r.layer_time_grad_norm.shape == (1, 5)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_same_loss_and_gradients_as_pytorch_modules(kind):
    torch = pytest.importorskip("torch")
    H, n_in, T, N = 4, 3, 6, 5
    net = RecurrentNetwork(kind, n_in, 2, H, get_activation("tanh"), recurrent_init="normal", recurrent_gain=0.4,
                           forget_bias=0.3, rng=np.random.default_rng(7))
    net.flat[net.n_weights:] = 0.3 * np.random.default_rng(8).standard_normal(net.flat.size - net.n_weights)
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        n_in, H, num_layers=2, batch_first=True).double()
    with torch.no_grad():
        for k, layer in enumerate(net.params[:-1]):  # PyTorch stores W^T and splits b into b_ih + b_hh
            getattr(module, f"weight_ih_l{k}").copy_(torch.tensor(layer[0].T))
            getattr(module, f"weight_hh_l{k}").copy_(torch.tensor(layer[1].T))
            getattr(module, f"bias_ih_l{k}").copy_(torch.tensor(layer[2]))
            getattr(module, f"bias_hh_l{k}").copy_(torch.tensor(layer[3] if kind == "gru" else 0 * layer[2]))
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((N, T, n_in)), (rng.random(N) > 0.5).astype(float)
    W_y, b_y = (torch.tensor(p, requires_grad=True) for p in net.params[-1])
    seq, _ = module(torch.tensor(X))
    seq.retain_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits((seq[:, -1] @ W_y + b_y)[:, 0], torch.tensor(y))
    loss.backward()
    r = net.backward(X, y)
    assert r.loss == pytest.approx(loss.item(), rel=1e-12)
    for k, g in enumerate(r.grads[:-1]):
        np.testing.assert_allclose(g[0], getattr(module, f"weight_ih_l{k}").grad.numpy().T, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(g[1], getattr(module, f"weight_hh_l{k}").grad.numpy().T, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(g[2], getattr(module, f"bias_ih_l{k}").grad.numpy(), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(r.grads[-1][0], W_y.grad.numpy(), rtol=1e-9)
    # at t = T, dL/dh_T comes from the head alone: PyTorch's gradient of the output sequence there
    # (earlier steps' totals include the recurrence, which seq.grad does not; benchmarks/bench_rnn.py
    # checks every step against a PyTorch loop that keeps each h_t's gradient)
    assert r.time_grad_norm[-1] == pytest.approx(seq.grad[:, -1].norm().item(), rel=1e-12)


# -- the trainer, statistics and divergence ------------------------------------------------------

@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
def test_trainer_measures_time_gates_and_spectral_norm(model):
    cfg = ExperimentConfig(model=model, dataset="recall", depth=2, width=6, seq_len=7, samples=80, epochs=2,
                           batch_size=16, activation="tanh", optimizer="adam", lr=0.01)
    t = Trainer(cfg)
    b = t.step_batch()
    assert b.grad_norm.shape == (3,) and np.all(b.grad_norm > 0)
    assert b.time_grad_norm.shape == (7,) and b.layer_time_grad_norm.shape == (2, 7)
    np.testing.assert_array_equal(b.time_grad_norm, b.layer_time_grad_norm[-1])
    assert b.spectral_norm.shape == (2,)
    np.testing.assert_allclose(b.spectral_norm, [np.linalg.svd(W, compute_uv=False)[0]
                                                 for W in t.network.recurrent_weights()])
    gates = {"rnn": set(), "lstm": {"i", "f", "o"}, "gru": {"r", "z"}}[model]
    assert set(b.gate_saturation) == gates
    assert all(a.shape == (2,) and np.all((a >= 0) & (a <= 1)) for a in b.gate_saturation.values())
    assert (b.vanishing_bound == 1.0) if model == "rnn" else np.isnan(b.vanishing_bound)
    e = t.step_epoch()
    assert e.time_grad_norm.shape == (7,) and len(t.history.series("time_grad_norm")[0]) == 7
    rec = e.to_record()
    assert len(rec["time_grad_norm"]) == 7 and len(rec["layers"]) == 3


def test_sigmoid_rnn_bound_and_saturated_gates_are_counted():
    net = _small_net("rnn", "sigmoid")
    assert net.vanishing_bound == 4.0  # 1 / max sigmoid' = 1 / 0.25
    t = Trainer(ExperimentConfig(model="lstm", dataset="recall", depth=1, width=4, seq_len=5, samples=40,
                                 forget_bias=50.0))
    b = t.step_batch()
    assert b.gate_saturation["f"][0] == 1.0 and b.gate_saturation["i"][0] < 1.0  # sigma(50): stuck open


def test_mlp_stats_have_no_time_statistics_and_its_records_are_unchanged():
    t = Trainer(ExperimentConfig(depth=2, width=4, samples=40))
    b = t.step_batch()
    assert b.time_grad_norm.size == 0 and b.spectral_norm.size == 0 and b.gate_saturation == {}
    assert t.time_chain() is None and t.time_gradient_norms().size == 0
    record = t.step_epoch().to_record()
    assert set(record) == {"epoch", "step", "train_loss", "val_loss", "val_accuracy", "diverged", "layers",
                           "precision"}   # issue 24: underflow, overflow, lost_updates for every dtype
    assert t.history.series("time_grad_norm").shape == (len(t.history), 0)


def test_chain_through_time_multiplies_the_per_step_factors():
    t = Trainer(ExperimentConfig(model="rnn", dataset="recall", seq_len=8, depth=1, width=5, samples=40))
    g = t.time_gradient_norms()
    chain = t.time_chain()
    assert [l.step for l in chain.links] == list(range(8, 0, -1))
    assert chain.links[0].factor == 1.0 and chain.total == pytest.approx(g[0] / g[-1], rel=1e-12)
    assert chain.links[3].factor == pytest.approx(g[4] / g[5], rel=1e-12)


def test_an_mlp_reads_a_sequence_task_as_one_long_input():
    t = Trainer(ExperimentConfig(dataset="recall", seq_len=6, depth=2, width=8, samples=64))
    assert t.data.X_train.shape[1] == 6 and t.network.sizes[0] == 6
    assert t.prediction_grid() is None  # no input plane to draw
    t.step_epoch()


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
def test_recurrent_divergence_names_the_first_bad_layer(model):
    cfg = ExperimentConfig(model=model, dataset="recall", depth=3, width=4, seq_len=6, samples=40)
    t = Trainer(cfg)
    t.network.params[1][1][0, 0] = np.inf  # layer 2's W_h: layer 1 stays finite
    b = t.step_batch()
    assert b.diverged and t.divergence.quantity == "loss" and t.divergence.layer == 2
    assert np.isinf(t.network.params[1][1][0, 0]) and np.isfinite(t.network.params[0][1]).all()  # state kept


# -- config, data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("changes,field,text", [
    ({"model": "cnn"}, "model", "model must be one of mlp, rnn, lstm, gru, transformer"),
    ({"seq_len": 0}, "seq_len", "seq_len must be an integer from 1 to 1000, got 0"),
    ({"seq_len": 1001}, "seq_len", "seq_len must be an integer from 1 to 1000"),
    ({"recurrent_init": "eye"}, "recurrent_init", "identity"),
    ({"recurrent_gain": 0}, "recurrent_gain", "recurrent_gain must be a number greater than 0"),
    ({"model": "lstm"}, "dataset", "dataset must be a sequence task (recall, adding) for model lstm, got 'circles'"),
    ({"model": "gru", "dataset": "adding", "residual": True}, "residual", "residual True does not apply to model 'gru'"),
])
def test_recurrent_fields_are_checked(changes, field, text):
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(changes)
    assert text in str(info.value) and info.value.field == field


def test_recall_and_adding_are_seeded_with_splits():
    a = make_dataset("recall", np.random.default_rng(0), 100, 0.3, 0.2, seq_len=9)
    b = make_dataset("recall", np.random.default_rng(0), 100, 0.3, 0.2, seq_len=9)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.X_train.shape == (80, 9, 1) and a.X_val.shape == (20, 9, 1) and a.task == "classification"
    X, y = np.concatenate([a.X_train, a.X_val]), np.concatenate([a.y_train, a.y_val])
    np.testing.assert_array_equal(y, X[:, 0, 0] > 0)
    assert 0.4 < y.mean() < 0.6
    d = make_dataset("adding", np.random.default_rng(1), 50, 0.0, 0.2, seq_len=12)
    X, y = np.concatenate([d.X_train, d.X_val]), np.concatenate([d.y_train, d.y_val])
    assert X.shape == (50, 12, 2) and d.task == "regression"
    np.testing.assert_array_equal(X[:, :, 1].sum(axis=1), 2.0)
    np.testing.assert_array_equal(X[:, :6, 1].sum(axis=1), 1.0)  # one marker in each half
    np.testing.assert_allclose(y, (X[:, :, 0] * X[:, :, 1]).sum(axis=1))


# -- files and the command line ------------------------------------------------------------------

RNN_FLAGS = ["--model", "gru", "--dataset", "recall", "--seq-len", "5", "--depth", "1", "--width", "4",
             "--samples", "40", "--epochs", "2", "--recurrent-init", "identity", "--recurrent-gain", "0.9",
             "--forget-bias", "2", "--quiet"]


def test_cli_flags_follow_from_the_table_and_records_carry_time(capsys):
    assert main(["--headless"] + RNN_FLAGS) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 2 and all(len(r["time_grad_norm"]) == 5 for r in records)
    assert len(records[0]["spectral_norm"]) == 1 and set(records[0]["gate_saturation"]) == {"r", "z"}


def test_cli_bad_recurrent_input_is_one_line_exit_2(capsys):
    assert main(["--headless", "--model", "lstm", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "dataset must be a sequence task" in err
    assert main(["--headless", "--seq-len", "abc"]) == 2
    assert "seq_len must be an integer from 1 to 1000, got 'abc'" in capsys.readouterr().err


def test_csv_gains_time_columns_and_compare_pads_them(tmp_path, capsys):
    out = tmp_path / "run.csv"
    assert main(["--headless", "--out", str(out), "--compare", "model=mlp"] + RNN_FLAGS) == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    header = rows[0]
    assert header[0] == "run" and header[-5:] == [f"time_grad_norm_{t}" for t in range(1, 6)]
    a = [r for r in rows[1:] if r[0] == "A"]
    b = [r for r in rows[1:] if r[0] == "B"]
    assert len(a) == len(b) == 2 and all(c for c in a[0][-5:]) and b[0][-5:] == [""] * 5


def test_save_open_and_replay_a_recurrent_run(tmp_path):
    cfg = ExperimentConfig(model="lstm", dataset="adding", seq_len=6, depth=1, width=4, samples=48, epochs=3)
    t = Trainer(cfg)
    t.run()
    path = tmp_path / "exp.json"
    save_experiment(str(path), cfg, t.history)
    config, history = load_experiment(str(path))
    assert config == cfg and len(history) == 3
    np.testing.assert_array_equal(history.series("time_grad_norm"), t.history.series("time_grad_norm"))
    replay = Trainer(config)
    replay.run(len(history))
    np.testing.assert_array_equal(replay.history.series("time_grad_norm"), history.series("time_grad_norm"))
    np.testing.assert_array_equal(replay.history.layer("grad_norm"), history.layer("grad_norm"))
    assert history_csv(history).splitlines()[0].endswith("time_grad_norm_6")
    doc = json.loads(path.read_text())
    doc["config"]["seq_len"] = 7  # the recorded steps no longer match the config
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="time_grad_norm of epoch 1 has 6 time steps, the config has 7"):
        load_experiment(str(path))


def test_compare_two_recurrent_models_on_the_same_data():
    cfg = ExperimentConfig(model="rnn", dataset="recall", seq_len=5, depth=1, width=4, samples=40)
    c = Comparison(cfg, "model", "lstm")
    a, b = c.runs["A"], c.runs["B"]
    np.testing.assert_array_equal(a.data.X_train, b.data.X_train)
    session = Session(cfg, ("model", "lstm"))  # steps A and B in lockstep
    session.step_epoch()
    assert session.b.last_epoch.time_grad_norm.shape == (5,)


# -- the sequence stories: each claim its text makes, on the preset's own run -------------------------

def _expect(name):
    """The numbers the story's text quotes (core/stories/presets.py formats its text from them)."""
    from core.stories.presets import get_preset
    return get_preset(name).expect


def _story(name):
    from core.stories.presets import get_preset
    t = Trainer(get_preset(name).config())
    g = t.time_gradient_norms()  # at initialisation, on the first batch
    batches = []
    while t.epoch < t.config.epochs and not t.diverged:
        batches.append(t.step_batch())
    return t, g[0] / g[-1], batches


@pytest.fixture(scope="module")
def vanishing():
    return _story("rnn-vanishing")


def test_rnn_vanishing_story(vanishing):
    t, ratio, _ = vanishing
    e = _expect("rnn-vanishing")
    assert t.config.seq_len == 100 and t.config.epochs == e["epochs"] and t.config.model == "rnn"
    assert ratio < e["ratio_max"]                              # "below 1e-15"
    assert e["per_step"][0] < ratio ** (1 / 99) < e["per_step"][1]  # "about 0.55x to 0.65x per step"
    radius = np.abs(np.linalg.eigvals(Trainer(t.config).network.params[0][1])).max()  # W_h at initialisation
    assert radius == pytest.approx(1 / np.sqrt(3), rel=0.15)  # "within about 1/sqrt(3) = 0.58 of 0"
    assert t.history.scalar("val_accuracy").max() <= e["val_accuracy_max"]  # "stays at chance (at most 0.7)"


@pytest.mark.parametrize("name", ["lstm-fix", "gru-fix"])
def test_gated_fix_stories(name, vanishing):
    from core.stories.presets import get_preset
    base = get_preset("rnn-vanishing").fields
    cfg = get_preset(name).config()
    assert all(getattr(cfg, k) == base[k] for k in ("dataset", "seq_len", "noise", "samples", "width", "seed",
                                                    "optimizer", "lr", "batch_size", "epochs"))
    assert cfg.forget_bias == 3.0 and 1 / (1 + np.exp(-3.0)) == pytest.approx(0.95, abs=0.005)  # "sigma(3) = 0.95"
    t, ratio, _ = _story(name)
    assert np.all(Trainer(cfg).network.params[0][2][32:64] == 3.0)   # the bias of the gate that keeps the old state
    e = _expect(name)
    assert ratio > e["gain_vs_rnn"] * vanishing[1]             # "more than 1e10 times rnn-vanishing's"
    assert t.history.scalar("val_accuracy").max() >= e["val_accuracy_min"]  # "passes 0.9 within 5 epochs"
    assert t.config.epochs == e["epochs"]
    if "init_ratio_min" in e:                                  # lstm-fix: "step 1 keeps more than 0.1 of step 100's"
        assert ratio > e["init_ratio_min"]


def test_rnn_exploding_story():
    t, ratio, batches = _story("rnn-exploding")
    e = _expect("rnn-exploding")
    assert ratio > e["ratio_min"]                              # "more than 1e6 times"
    assert ratio == pytest.approx(1.2 ** 99, rel=0.5)          # "1.2^99 is about 7e7"
    assert batches[0].grad_norm_total > 1e6                    # "the first update is huge"
    assert t.diverged and t.divergence.epoch == e["divergence_epoch"] and t.divergence.quantity == "loss"  # "the loss overflows"


def test_rnn_clipping_story():
    t, ratio, batches = _story("rnn-clipping")
    ex, ex_ratio, ex_batches = _story("rnn-exploding")
    assert ratio == ex_ratio and batches[0].grad_norm_total == ex_batches[0].grad_norm_total  # the same gradient
    assert batches[0].clipped and batches[0].grad_norm_total > 1e6
    assert not t.diverged and t.epoch == _expect("rnn-clipping")["epochs"] and np.isfinite(t.network.flat).all()  # "all 3 epochs ... finite"


def test_irnn_story():
    t, ratio, _ = _story("irnn")
    cfg = t.config
    assert cfg.activation == "relu" and cfg.recurrent_init == "identity" and cfg.recurrent_gain == 1.0
    e = _expect("irnn")
    assert ratio > e["ratio_min"]                              # "above 0.1"
    assert t.history.scalar("val_accuracy").max() >= e["val_accuracy_min"] and cfg.epochs == e["epochs"]
    late = t.history.series("time_grad_norm")[-1]              # the last epoch's mean ||dL/dh_t||
    assert late[0] / late[-1] > e["late_ratio_min"]            # "more than 1e3 times ... once it has learned"


def test_memory_estimate_counts_recurrent_parameters_and_steps():
    from core.runtime.resources import check_fits, memory_needed
    c = ExperimentConfig(model="lstm", dataset="adding", seq_len=10, depth=2, width=5, batch_size=4, samples=100)
    net = Trainer(c).network
    assert memory_needed(c)["parameters"] == 4 * net.flat.size * 8  # parameters, gradient, update, scratch (SGD)
    g = c.replace(model="gru")
    assert memory_needed(g)["parameters"] == 4 * Trainer(g).network.flat.size * 8
    big = c.replace(seq_len=1000, width=1024, depth=100, batch_size=100_000, samples=1_000_000)
    with pytest.raises(ConfigError) as info:
        check_fits(big, available=2 * 2**30)
    assert info.value.field == "batch_size"
    mlp = ExperimentConfig(dataset="recall", seq_len=50, depth=1, width=4)
    assert memory_needed(mlp)["parameters"] == 4 * ((50 * 4 + 4) + (4 + 1)) * 8  # 50 inputs per sample


@pytest.mark.parametrize("model,dataset", [("mlp", "moons"), ("mlp", "recall"), ("rnn", "recall"),
                                           ("lstm", "adding"), ("gru", "recall")])
def test_every_network_offers_the_model_interface(model, dataset):
    from core.nn.model import Model
    t = Trainer(ExperimentConfig(model=model, dataset=dataset, depth=2, width=4, seq_len=3, samples=40))
    net = t.network
    assert isinstance(net, Model)
    assert len(net.params) == net.n_layers and len(net.w_offsets) == net.n_layers
    ends = list(net.w_offsets[1:]) + [net.n_weights]
    for k, layer in enumerate(net.params):  # layer k's weights are flat[w_offsets[k]:ends[k]], biases after n_weights
        weights = [p for p in layer if p.ndim == 2]
        assert sum(w.size for w in weights) == ends[k] - net.w_offsets[k]
        assert all(np.shares_memory(w, net.flat[net.w_offsets[k]:ends[k]]) for w in weights)
        assert all(np.shares_memory(b, net.flat[net.n_weights:]) for b in layer if b.ndim == 1)
