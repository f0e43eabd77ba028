"""Two runs that differ in one setting, stepped together on the same data and seed."""
from __future__ import annotations

from core.config import ConfigError, ExperimentConfig
from core.training.trainer import Trainer

# Settings B may change; the others fix the data, the batches and the seed, so both runs
# see the same samples in the same order.
COMPARABLE = ("activation", "init", "init_gain", "optimizer", "lr", "clip_norm", "residual", "norm", "depth", "width",
              "dtype", "model", "recurrent_init", "recurrent_gain", "forget_bias")


class Comparison:
    def __init__(self, config_a: ExperimentConfig, field: str, value, data=None):
        config_b = self.check(config_a, field, value)
        self.field, self.value = field, value
        self.runs = {"A": Trainer(config_a, data), "B": Trainer(config_b, data)}

    @staticmethod
    def check(config_a: ExperimentConfig, field: str, value) -> ExperimentConfig:
        """B's config, or ConfigError naming what is not allowed."""
        if field not in COMPARABLE:
            raise ConfigError(field, f"compare: the setting must be one of {', '.join(COMPARABLE)}, got {field!r}")
        # another kind: B's fields that kind does not use go back to their defaults (ExperimentConfig.for_kind)
        config_b = config_a.for_kind(value)[0] if field == "model" else config_a.replace(**{field: value})
        if config_b == config_a:
            raise ConfigError(field, f"compare: B must differ from A in {field}, but both are {value!r}")
        return config_b
