import pytest

from core import ConfigError, ExperimentConfig, Trainer
from core.runtime.resources import check_fits, memory_needed


def test_the_estimate_counts_parameters_buffers_and_activations():
    c = ExperimentConfig(depth=2, width=10, batch_size=4, samples=100, optimizer="adam")
    need = memory_needed(c)
    params = (2 * 10 + 10) + (10 * 10 + 10) + (10 * 1 + 1)
    assert need["parameters"] == 6 * params * 8  # 4 buffers + Adam's two moments, float64
    assert need["activations"] == 5 * 2 * 4 * 10 * 8
    assert memory_needed(c.replace(dtype="float32"))["parameters"] == 6 * params * 4


@pytest.mark.parametrize("config,field", [
    (ExperimentConfig(depth=100, width=1024, samples=1_000_000, batch_size=100_000), "batch_size"),
    (ExperimentConfig(depth=100, width=1024, batch_size=1, optimizer="adam"), "width"),
])
def test_too_large_for_the_memory_left_is_refused_naming_the_field(config, field):
    with pytest.raises(ConfigError) as info:
        check_fits(config, available=2 * 2**30)
    assert info.value.field == field and "GiB" in str(info.value) and "reduce" in str(info.value)


def test_a_normal_config_fits_and_the_trainer_checks():
    check_fits(ExperimentConfig(), available=2 * 2**30)
    with pytest.raises(ConfigError, match="batch_size: this network needs about"):
        Trainer(ExperimentConfig(depth=100, width=1024, samples=1_000_000, batch_size=100_000))


def test_evaluation_of_a_large_set_goes_in_chunks():
    import numpy as np
    t = Trainer(ExperimentConfig(depth=2, width=8, samples=100))
    X = np.random.default_rng(0).standard_normal((20_000, 2))
    out = t.network.forward(X)
    np.testing.assert_allclose(out, t.network._forward(X)[0], rtol=1e-12)


def test_the_recorded_history_counts_and_a_run_too_long_to_record_is_refused_naming_epochs():
    c = ExperimentConfig(depth=100, width=1, samples=10, epochs=1_000_000)
    # 24 GB: one row of numbers an epoch (7 statistics and issue 24's 3 per layer, 7 scalars)
    assert memory_needed(c)["history"] == 3 * 1_000_000 * (10 * 101 + 7) * 8
    with pytest.raises(ConfigError) as info:
        check_fits(c, available=8 * 2**30)
    assert info.value.field == "epochs" and "reduce epochs or depth" in str(info.value)
    check_fits(c.replace(epochs=10_000), available=8 * 2**30)
