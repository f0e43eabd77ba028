"""The simulator's engine: pure NumPy, no Qt. Its public Python API is importable from here:

    from core import ExperimentConfig, Trainer
    trainer = Trainer(ExperimentConfig(depth=10, activation="sigmoid"))
    stats = trainer.step_epoch()
    [layer.grad_norm for layer in stats.layers]

``import core`` itself loads nothing: each name is imported from its module on first use (PEP 562), so an
entry point can import ``core.runtime.setup`` and set the BLAS threads before NumPy loads, and importing
core never tunes the allocator (the entry points call ``core.runtime.setup.configure_process``).
"""
import importlib

# name -> (module, attribute): where each public name lives
_PUBLIC = {
    **{n: ("core.config", n) for n in ("ConfigError", "ExperimentConfig")},
    **{n: ("core.nn.activations", n) for n in ("ACTIVATIONS", "Activation", "get_activation")},
    "INITIALIZERS": ("core.nn.initializers", "INITIALIZERS"),
    "OPTIMIZERS": ("core.nn.optimizers", "OPTIMIZERS"),
    "build_model": ("core.nn.kinds", "build_model"),
    **{n: ("core.nn.kinds", n) for n in ("KINDS", "kind_of")},
    "MLP": ("core.nn.mlp", "MLP"),
    "RecurrentNetwork": ("core.nn.recurrent", "RecurrentNetwork"),
    **{n: ("core.data.datasets", n) for n in ("DATASETS", "Dataset", "make_dataset")},
    "load_csv": ("core.data.userdata", "load_csv"),
    **{n: ("core.training.statistics", n) for n in ("BatchStats", "Divergence", "EpochStats", "LayerStats")},
    **{n: ("core.training.trainer", n) for n in ("LIVE_FIELDS", "Trainer")},
    "Comparison": ("core.training.compare", "Comparison"),
    **{n: ("core.stories.presets", n) for n in ("PRESETS", "Preset", "get_preset")},
    **{n: ("core.measure.theory", n) for n in ("chi1", "phase", "Phase", "depth_scale", "critical_sigma_w2",
                                                "predicted_profile", "trainability_boundary")},
    "chain_rule": ("core.measure.inspector", "chain_rule"),
    **{n: ("core.io.records", n) for n in ("save_experiment", "load_experiment", "history_csv")},
    **{n: ("core.sweep", n) for n in ("make_plan", "run_sweep", "make_executor", "SerialExecutor",
                                      "LocalExecutor", "DaskExecutor", "plan_from_csv", "metric_grid",
                                      "SWEEP_PRESETS")},
    "measure_cell": ("core.sweep", "measure"),   # core.measure is the measurement package: another name here
    "configure_process": ("core.runtime.setup", "configure_process"),
    **{n: ("core.measure.jacobian", n) for n in ("jacobian_spectrum", "isometry_share")},
    **{n: ("core.stories.reproductions", n) for n in ("REPRODUCTIONS", "run_reproduction")},
    "seed_delta_norms": ("core.measure.seeds", "seed_delta_norms"),
    **{n: ("core.nn.precision", n) for n in ("round_to", "LossScaler")},   # issue 24
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    try:
        module, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'core' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value   # the next lookup is an ordinary one
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(__all__))
