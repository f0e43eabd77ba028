"""The model-kind registry: every kind x setting acts or is refused; theories only where they hold."""
import ast
import dataclasses
import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.config import FIELD_SPECS, ConfigError, ExperimentConfig
from core.measure.theory import DOES_NOT_APPLY, predicted_delta_norms, readout_phase
from core.nn.kinds import KINDS, MEAN_FIELD, PASCANU, kind_of
from core.nn.model import Model
from core.runtime.resources import memory_needed
from core.stories.presets import PRESETS
from core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {f.name: f.default for f in fields(ExperimentConfig)}
# Small enough to train a whole run in milliseconds; a sequence task, which every kind can read.
BASE = dict(depth=2, width=4, samples=40, seq_len=4, dataset="adding", batch_size=8, epochs=1)
# A value other than the base's for every field (choices: picked below, skipping values a kind accepts as a no-op)
OTHER = {"depth": 3, "width": 5, "init_gain": 2.0, "bias_std": 0.5, "lr": 0.05, "batch_size": 4, "epochs": 2,
         "clip_norm": 1e-3, "residual": True, "samples": 60, "noise": 0.5, "val_fraction": 0.4, "seed": 7,
         "seq_len": 6, "recurrent_gain": 2.0, "forget_bias": 3.0}
OTHER.update({"width": 8, "heads": 2, "warmup_steps": 3})   # issue 22: 8 and 4 keep the default 4 heads dividing


# Issue 24: fields that act only with another setting: both runs take it (for the kinds that use the field)
CONTEXT = {"master_weights": {"dtype": "bfloat16"}, "loss_scale": {"dtype": "float16"}}
OTHER.update(master_weights=False, loss_scale=1024.0)


def _other_value(kind, name):
    if name in OTHER:
        return OTHER[name]
    base = {**DEFAULTS, **BASE, "model": kind.name}[name]
    spec = FIELD_SPECS[name]
    assert spec.kind == "choice", f"give {name} a value in OTHER"
    return next(c for c in spec.choices if c != base and c not in kind.accepts.get(name, ())
                and (name != "dataset" or c in ("recall", "adding")))


def _run(config):
    """What a run does: its data, its initial and final weights, its losses."""
    t = Trainer(config)
    start = t.network.flat.copy()
    epochs = t.run()
    return (t.data.X_train, t.data.y_train, start, t.network.flat.copy(), [e.train_loss for e in epochs])


def _same(a, b) -> bool:
    return all(np.shape(x) == np.shape(y) and np.asarray(x).dtype == np.asarray(y).dtype
               and np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


def test_every_field_is_used_by_some_kind_and_each_kind_says_why_not_the_others():
    for name in FIELD_SPECS:
        assert any(k.uses(name) for k in KINDS.values()), f"no kind uses {name}"
    for kind in KINDS.values():
        assert set(kind.fields) <= set(FIELD_SPECS)
        for name in FIELD_SPECS:
            # a field another kind brings (a transformer's heads) is refused with "only <that kind> uses it"
            assert kind.uses(name) or name in kind.unused or any(k.uses(name) for k in KINDS.values()), \
                f"{kind.name}: say why it does not use {name}"


def test_a_field_only_another_kind_uses_is_refused_naming_who_uses_it():
    assert KINDS["rnn"].why_unused("forget_bias") == "it has no gate that keeps the old state (only lstm and gru have one)"
    assert KINDS["mlp"].why_unused("heads") == "only transformer uses it"
    assert KINDS["mlp"].why_unused("no_such_field") == "no model uses it"
    bare = dataclasses.replace(KINDS["mlp"], unused={})   # a kind that says nothing of the recurrent fields
    assert bare.why_unused("recurrent_gain") == "only rnn and lstm and gru use it"
    assert bare.why_unused("forget_bias") == "only lstm and gru use it"


@pytest.mark.parametrize("kind,name", [(k, f) for k in KINDS.values() for f in FIELD_SPECS],
                         ids=[f"{k}-{f}" for k in KINDS for f in FIELD_SPECS])
def test_a_setting_changes_the_run_or_is_refused(kind, name):
    base = ExperimentConfig(**BASE, model=kind.name, **(CONTEXT.get(name, {}) if kind.uses(name) else {}))
    value = _other_value(kind, name)
    try:
        changed = base.replace(**{name: value})
    except ConfigError as e:
        assert not kind.uses(name), f"{kind.name} uses {name} but refuses {value!r}: {e}"
        assert e.field == name and name in str(e) and repr(kind.name) in str(e) and "\n" not in str(e)
        return
    assert kind.uses(name) or name == "model", f"{kind.name} accepts {name}={value!r} it does not use"
    assert not _same(_run(base), _run(changed)), f"{kind.name}: {name}={value!r} changed nothing"


@pytest.mark.parametrize("kind", [k for k in KINDS.values() if k.accepts], ids=lambda k: k.name)
def test_an_accepted_value_of_an_unused_field_is_what_the_kind_does_anyway(kind):
    for name, values in kind.accepts.items():
        base = ExperimentConfig(**BASE, model=kind.name)
        for value in values:
            assert _same(_run(base), _run(base.replace(**{name: value})))


def test_the_refusal_names_the_setting_its_value_the_kind_and_what_is_allowed():
    with pytest.raises(ConfigError) as e:
        ExperimentConfig(model="rnn", dataset="adding", norm="batch")
    assert e.value.field == "norm"
    assert str(e.value) == ("norm 'batch' does not apply to model 'rnn' (it has no normalisation layers); "
                            "allowed for rnn: 'none'")
    with pytest.raises(ConfigError, match=r"activation 'relu' does not apply to model 'lstm' .*'sigmoid' "
                                          r"\(the default\) or 'tanh'"):
        ExperimentConfig(model="lstm", dataset="adding", activation="relu")


def test_for_kind_resets_the_fields_the_new_kind_does_not_use():
    mlp = ExperimentConfig(dataset="recall", norm="batch", bias_std=0.5, residual=True)
    rnn, reset = mlp.for_kind("rnn")
    assert rnn.model == "rnn" and sorted(reset) == ["bias_std", "norm", "residual"]
    assert (rnn.norm, rnn.bias_std, rnn.residual) == ("none", 0.0, False)
    back, reset = ExperimentConfig(model="gru", dataset="adding", forget_bias=3.0).for_kind("mlp")
    assert back.forget_bias == 1.0 and reset == ["forget_bias"]
    with pytest.raises(ConfigError, match="model must be one of"):
        mlp.for_kind("cnn")


@pytest.mark.parametrize("argv", [["--model", "rnn", "--norm", "batch"], ["--model", "rnn", "--bias-std", "0.7"],
                                  ["--model", "rnn", "--forget-bias", "3"], ["--model", "lstm", "--activation",
                                                                              "relu"],
                                  ["--model", "gru", "--norm", "layer"], ["--recurrent-gain", "2"]])
def test_cli_refuses_a_setting_the_kind_does_not_use_in_one_line(argv, capsys):
    rc = main(["--headless", "--dataset", "adding", "--epochs", "1", "--samples", "40"] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "does not apply to model" in err and argv[-2].lstrip("-").replace("-", "_") in err


def test_a_config_file_with_a_setting_the_kind_does_not_use_is_refused(tmp_path, capsys):
    path = tmp_path / "c.json"
    path.write_text('{"model": "rnn", "dataset": "recall", "forget_bias": 2.0}')
    rc = main(["--headless", "--config", str(path), "--epochs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "forget_bias 2.0 does not apply to model 'rnn'" in err


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_story_reads_a_phase_only_where_mean_field_theory_holds(name):
    config = PRESETS[name].config()
    p = readout_phase(config)
    holds = config.model == "mlp" and not config.residual and config.norm == "none"
    assert (p.name != DOES_NOT_APPLY) == holds
    if holds:
        assert p.reason == "" and str(p) and not str(p).startswith("does not apply")
    else:
        assert "does not apply" in str(p) and "\n" not in str(p) and math.isnan(p.factor)
        assert np.isnan(predicted_delta_norms(config, np.ones(config.depth + 1))).all()


def test_the_readouts_of_three_stories():
    assert str(readout_phase(PRESETS["rnn-exploding"].config())) == (
        "does not apply to an RNN (the theory is for feed-forward networks without residual connections or "
        "normalisation)")
    assert str(readout_phase(PRESETS["residual-fix"].config())).startswith("does not apply with residual")
    assert readout_phase(PRESETS["vanishing-sigmoid"].config()).name == "ordered"


def test_pascanu_holds_only_for_the_vanilla_rnn_and_matches_the_network():
    for kind in KINDS.values():
        holds = kind.theory_reason(PASCANU) is None
        assert holds == (kind.name == "rnn")
        t = Trainer(ExperimentConfig(**BASE, model=kind.name))
        assert math.isfinite(t.network.vanishing_bound) == holds
    assert KINDS["mlp"].theory_reason(MEAN_FIELD, ExperimentConfig()) is None


def test_every_kind_builds_a_network_with_the_interface_the_trainer_reads():
    for kind in KINDS.values():
        net = Trainer(ExperimentConfig(**BASE, model=kind.name)).network
        assert isinstance(net, Model)
        assert kind.sequences == (kind.name != "mlp") and kind.gates == {"mlp": 0, "rnn": 1, "lstm": 4,
                                                                          "gru": 3, "transformer": 0}[kind.name]
        for name in ("flat", "params", "w_offsets", "n_weights", "task", "dtype", "activation", "norm_params",
                     "loss_fn", "layer_params", "vanishing_bound", "recurrent_weights"):
            assert hasattr(net, name), f"{kind.name}: {name}"


def test_memory_comes_from_the_kind():
    rnn = ExperimentConfig(model="rnn", dataset="adding", width=16, depth=2)
    lstm = rnn.replace(model="lstm")
    assert memory_needed(lstm)["parameters"] > memory_needed(rnn)["parameters"]
    assert "history" in memory_needed(ExperimentConfig()) and "history" not in memory_needed(rnn)


def _imports(module: str) -> set:
    tree = ast.parse((ROOT / module).read_text())
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
           {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def test_model_modules_form_no_import_circle():
    assert not _imports("core/nn/model.py") & {"core.nn.mlp", "core.nn.recurrent", "core.nn.kinds"}
    for module in ("core/nn/mlp.py", "core/nn/recurrent.py"):
        assert "core.nn.kinds" not in _imports(module) and "core.config" not in _imports(module)


def test_no_module_outside_the_registry_compares_the_kind_by_name():
    import re
    pattern = re.compile(r'model ?[!=]= ?"|\bin RECURRENT\b|\.model in \(')
    for path in list((ROOT / "core").rglob("*.py")) + list((ROOT / "gui").rglob("*.py")):
        if path.name == "kinds.py":
            continue
        hits = [line for line in path.read_text().splitlines() if pattern.search(line)]
        assert not hits, f"{path.relative_to(ROOT)}: {hits}"
