"""The simulator's engine: pure NumPy, no Qt.

    from core import ExperimentConfig, Trainer
    trainer = Trainer(ExperimentConfig(depth=10, activation="sigmoid"))
    stats = trainer.step_epoch()
    [layer.grad_norm for layer in stats.layers]
"""
from core.runtime import setup as _allocator
from core.nn.activations import ACTIVATIONS, Activation, get_activation
from core.config import ConfigError, ExperimentConfig
from core.data.datasets import DATASETS, Dataset, make_dataset
from core.nn.initializers import INITIALIZERS
from core.nn.kinds import build_model
from core.nn.mlp import MLP
from core.nn.recurrent import RecurrentNetwork
from core.nn.optimizers import OPTIMIZERS
from core.training.statistics import BatchStats, Divergence, EpochStats, LayerStats
from core.training.trainer import LIVE_FIELDS, Trainer

_allocator.tune()

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation", "ConfigError", "ExperimentConfig",
    "DATASETS", "Dataset", "make_dataset", "INITIALIZERS", "MLP", "RecurrentNetwork", "build_model", "OPTIMIZERS",
    "BatchStats", "Divergence", "EpochStats", "LayerStats", "LIVE_FIELDS", "Trainer",
]
