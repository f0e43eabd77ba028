"""Issue 25, second pass: the losses take their mean as a sum over the count, the same number as np.mean."""
import numpy as np
import pytest

from core.nn.losses import _mean


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("shape", [(1,), (7,), (64,), (4, 1), (33, 5), (8193,), (30, 7, 3)])
def test_the_losses_mean_is_np_mean_bit_for_bit(dtype, shape):
    rng = np.random.default_rng(len(shape) + shape[0])
    x = (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)).astype(dtype)
    assert _mean(x) == float(np.mean(x))
    if x.ndim > 1:
        assert _mean(np.asfortranarray(x)) == float(np.mean(np.asfortranarray(x)))
    assert isinstance(_mean(x), float)
