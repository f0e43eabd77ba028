"""The simulator's engine: pure NumPy, no Qt.

    from core import ExperimentConfig, Trainer
    trainer = Trainer(ExperimentConfig(depth=10, activation="sigmoid"))
    stats = trainer.step_epoch()
    [layer.grad_norm for layer in stats.layers]
"""
from . import _allocator
from .activations import ACTIVATIONS, Activation, get_activation
from .config import ConfigError, ExperimentConfig
from .datasets import DATASETS, Dataset, make_dataset
from .initializers import INITIALIZERS
from .model import build_model
from .network import MLP
from .recurrent import RecurrentNetwork
from .optimizers import OPTIMIZERS
from .statistics import BatchStats, Divergence, EpochStats, LayerStats
from .trainer import LIVE_FIELDS, Trainer

_allocator.tune()

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation", "ConfigError", "ExperimentConfig",
    "DATASETS", "Dataset", "make_dataset", "INITIALIZERS", "MLP", "RecurrentNetwork", "build_model", "OPTIMIZERS",
    "BatchStats", "Divergence", "EpochStats", "LayerStats", "LIVE_FIELDS", "Trainer",
]
