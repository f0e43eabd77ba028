"""Issue 24: the formats' rounding, bit for bit against PyTorch (test-only), the loss scaler against
torch.amp.GradScaler, lost_updates and the rounding shares on hand-made cases."""
import numpy as np
import pytest

from core import round_to
from core.nn.precision import LossScaler, changed_share, rounding_losses


def float32_classes() -> np.ndarray:
    """Every class of float32: zeros, normals, subnormals, ties in both formats, the overflow edges, inf, NaNs."""
    bits = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x00000001,
            0x807FFFFF, 0x00400000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FBFFFFF,
            0xFFC12345,
            0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF,   # bfloat16 ties to even (down, up), just above, below
            0x3F801000, 0x3F803000, 0x3F801001,               # float16 ties (13 dropped bits)
            0x7F7F8000, 0x7F7F7FFF,                           # bfloat16: rounds up to inf / stays finite
            0x477FE000, 0x477FEFFF, 0x477FF000,               # float16: 65504, just below 65520, 65520 -> inf
            0x33800000, 0x33000000, 0x33000001, 0x337FFFFF,   # float16 subnormal edges: 2^-24, 2^-25 (tie -> 0)
            0x38800000, 0x387FC000, 0x00008000, 0x00018000]
    rng = np.random.default_rng(0)
    random = rng.integers(0, 2**32, size=20000, dtype=np.uint64).astype(np.uint32)
    return np.concatenate([np.array(bits, dtype=np.uint32), random]).view(np.float32)


@pytest.mark.parametrize("fmt", ["bfloat16", "float16"])
def test_rounding_is_pytorchs_bit_for_bit(fmt):
    torch = pytest.importorskip("torch")
    x = float32_classes()
    ours = round_to(x, fmt)
    theirs = torch.from_numpy(x.copy()).to(getattr(torch, fmt)).float().numpy()
    assert ours.dtype == np.float32
    mismatch = np.flatnonzero(ours.view(np.uint32) != theirs.view(np.uint32))
    assert mismatch.size == 0, [(hex(x.view(np.uint32)[i]), hex(ours.view(np.uint32)[i]),
                                 hex(theirs.view(np.uint32)[i])) for i in mismatch[:5]]


def test_rounding_without_torch():
    one_tie = np.float32(1 + 2 ** -8)            # halfway between bfloat16 1 and 1 + 2^-7: to even (1)
    assert round_to([one_tie], "bfloat16")[0] == 1.0
    assert round_to([np.float32(1 + 3 * 2 ** -8)], "bfloat16")[0] == np.float32(1 + 2 ** -6)   # tie up to even
    assert round_to([1e-8], "float16")[0] == 0.0 and round_to([1e-8], "bfloat16")[0] != 0.0
    assert np.isinf(round_to([70000.0], "float16")[0]) and round_to([70000.0], "bfloat16")[0] == 70144.0
    assert np.isnan(round_to([np.nan], "bfloat16")[0])
    with pytest.raises(ValueError, match="format must be one of float16, bfloat16"):
        round_to([1.0], "float8")


def _gradscaler_scales(pattern):
    torch = pytest.importorskip("torch")
    w = torch.nn.Parameter(torch.ones(1))
    opt = torch.optim.SGD([w], lr=0.0)
    scaler = torch.amp.GradScaler("cpu")
    scales = []
    for finite in pattern:
        opt.zero_grad()
        scales.append(scaler.get_scale())
        loss = (w * (1.0 if finite else float("inf"))).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    scales.append(scaler.get_scale())
    return scales


def test_dynamic_scale_follows_gradscaler():
    pattern = [True] * 2003 + [False, True, False, False] + [True] * 2001 + [False] + [True] * 10
    ours = LossScaler("dynamic")
    scales, skipped = [], 0
    for finite in pattern:
        scales.append(ours.scale)
        skipped += not ours.update(finite)
    scales.append(ours.scale)
    assert scales == _gradscaler_scales(pattern)
    assert skipped == pattern.count(False) == ours.skipped
    assert scales[0] == 65536.0 and scales[2000] == 131072.0   # GradScaler's defaults: 2^16, doubled after 2000


def test_static_and_no_scaling_never_skip():
    for setting, scale in (("none", 1.0), (128.0, 128.0)):
        s = LossScaler(setting)
        assert s.update(False) and s.update(True) and s.scale == scale and s.skipped == 0


def test_lost_updates_on_a_hand_made_case():
    # two layers of 3 weights: layer 1: one weight moved, one did not, one has no gradient (not counted)
    before = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=np.float32)
    after = np.array([1.5, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=np.float32)
    grad = np.array([0.1, 1e-12, 0.0, 0.0, 0.0, 0.0], dtype=np.float32)
    lost = changed_share(before, after, grad, np.array([0, 3]), np.array([3, 3]))
    assert lost.tolist() == [0.5, 0.0]    # layer 2: no weight with a gradient: 0, not NaN
    w = np.float32(1.0)
    assert w + np.float32(1e-8) == w      # below float32's half-ulp of 1: the update is lost


def test_rounding_shares():
    exact = np.array([1e-9, 0.0, 1.0, 1e5, np.inf], dtype=np.float32)
    rounded = round_to(exact, "float16")
    under, over = rounding_losses(exact, rounded, "float16")
    assert under == pytest.approx(1 / 5) and over == pytest.approx(1 / 5)   # 0.0 is a true zero, inf was inf


@pytest.mark.parametrize("below", [None, 2.0 ** 15])
def test_float16_is_numpys_cast_on_every_non_nan_float32_class(below):
    """``below``: only values under 2^15, so the whole array takes the fast path (one value of 2^15 or more, inf or
    NaN sends an array the slow way); many random ones in every binade of float32's range."""
    x = float32_classes()
    x = x[~np.isnan(x)]
    if below is not None:
        rng = np.random.default_rng(1)
        exponents = rng.integers(0, 127 + 15, size=200000, dtype=np.uint32) << 23
        more = (exponents | rng.integers(0, 2 ** 23, size=200000, dtype=np.uint32)
                | (rng.integers(0, 2, size=200000, dtype=np.uint32) << 31)).view(np.float32)
        x = np.concatenate([x[np.abs(x) < below], more])
    with np.errstate(over="ignore"):
        expected = x.astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(round_to(x, "float16").view(np.uint32), expected.view(np.uint32))
