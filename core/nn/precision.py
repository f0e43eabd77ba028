"""Low-precision number formats, emulated exactly in float32, and loss scaling.

``round_to(x, fmt)`` returns the float32 values that ``x`` (rounded to float32 first) becomes in ``fmt``:

- ``float16``: IEEE half precision (5 exponent bits, 10 mantissa bits) as NumPy converts, round to nearest
  even, subnormals down to 2^-24 (about 6e-8), anything from 65520 up becomes inf; a NaN is quieted with its
  payload cut to 10 bits (as PyTorch converts: NumPy keeps a signalling NaN signalling);
- ``bfloat16``: float32's 8 exponent bits and 7 mantissa bits, as PyTorch converts float32 to bfloat16: the
  top 16 bits of the float32 after adding 0x7FFF plus the lowest kept bit (round to nearest, ties to even),
  every NaN becomes 0xFFFF (what torch 2.13's CPU conversion gives for every NaN, payload and sign alike).

``LossScaler`` multiplies the loss (and so every gradient) by a scale before the backward pass and divides
the weight gradients by it after: none (scale 1), static (a fixed number) or dynamic with the rules and
defaults of ``torch.amp.GradScaler`` (start 2^16; any inf/NaN gradient: skip the step and halve the scale;
2000 steps in a row without one: double it).
"""
from __future__ import annotations

import math

import numpy as np

LOW_PRECISION = ("float16", "bfloat16")
# the smallest positive value and the largest finite value each format holds (float32: subnormals included)
SMALLEST = {"float64": 2.0 ** -1074, "float32": 2.0 ** -149, "bfloat16": 2.0 ** -133, "float16": 2.0 ** -24}
LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max),
           "bfloat16": float(np.float32(3.3895313892515355e38)), "float16": 65504.0}
# half the distance from 1 to the next number: an update below this share of |w| rounds back to w
HALF_ULP = {"float64": 2.0 ** -53, "float32": 2.0 ** -24, "bfloat16": 2.0 ** -8, "float16": 2.0 ** -11}

_BF16_NAN = np.uint32(0xFFFF0000)   # bfloat16 0xFFFF, as torch 2.13 converts any float32 NaN


def round_to(x, fmt: str, out: np.ndarray | None = None) -> np.ndarray:
    """``x`` rounded to ``fmt`` ("float16" or "bfloat16"), as float32 (into ``out`` when given)."""
    x = np.asarray(x, dtype=np.float32)
    if fmt == "float16":
        return _float16(x, out)
    if fmt != "bfloat16":
        raise ValueError(f"format must be one of {', '.join(LOW_PRECISION)}, got {fmt!r}")
    return _bfloat16(x, out)


def _bfloat16(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    bits = x.view(np.uint32)
    r = (bits >> 16) & 1           # the lowest bit kept: ties go to the even neighbour
    r += 0x7FFF
    r += bits                      # wraps only for NaNs, which are replaced below
    r &= np.uint32(0xFFFF0000)
    if x.size and np.isnan(x.max()):   # one reduction: a NaN makes the max NaN
        r[np.isnan(x)] = _BF16_NAN
    if out is None:
        return r.view(np.float32)
    out[...] = r.view(np.float32)
    return out


_F16_OVERFLOW = np.float32(65520.0)   # from here up float16 rounds to inf (65504 is its largest number)
_F16_MIN_EXPONENT = np.uint32((127 - 14) << 23)   # float16's smallest normal exponent, 2^-14, in float32's field
_F16_LARGE = np.uint32((127 + 15) << 23)          # |x| from 2^15 up (overflow, inf, NaN among them): the slow way
_F16_MAGIC = np.uint32((13 << 23) | 0x00400000)   # exponent + 13 and mantissa .1: M = 1.5 * 2^(E+13)
_EXPONENT, _SIGN = np.uint32(0x7F800000), np.uint32(0x80000000)


def _float16(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """float16 rounding in float32 arithmetic (NumPy's float16 cast is 4-8x slower here), bit for bit NumPy's
    (and PyTorch's) result. For |x| in [2^E, 2^(E+1)), E at least -14, float16's step is 2^(E-10); with
    M = 1.5 * 2^(E+13), x + M stays in [2^(E+13), 2^(E+14)), whose float32 step is that step, so (x + M) - M is x
    rounded to it with float32's own round to nearest, ties to even (M is an even number of steps); below
    2^-14 E = -14 gives the subnormals' step 2^-24. The sign bit is put back (a zero keeps its sign). From 2^15
    up, inf and NaN: ``_float16_slow``."""
    bits = x.view(np.uint32)
    e = bits & _EXPONENT
    if e.size and e.max() >= _F16_LARGE:
        return _float16_slow(x, out)
    np.maximum(e, _F16_MIN_EXPONENT, out=e)
    e += _F16_MAGIC
    magic = e.view(np.float32)
    y = x + magic
    y -= magic
    y.view(np.uint32)[...] |= bits & _SIGN
    if out is None:
        return y
    out[...] = y
    return out


def _float16_slow(x: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """As _float16, for arrays with values of 2^15 or more, inf or NaN: |x| rounded with M capped at 1.5 * 2^29
    (a finite M; from 65520 up the result is inf anyway), then the specials."""
    a = np.abs(x)
    e = a.view(np.uint32) & _EXPONENT
    np.clip(e, _F16_MIN_EXPONENT, np.uint32((127 + 16) << 23), out=e)
    e += _F16_MAGIC
    magic = e.view(np.float32)
    with np.errstate(invalid="ignore"):   # NaN inputs: replaced below
        y = a + magic
        y -= magic
    np.copysign(y, x, out=y)
    _float16_specials(x, a, x.view(np.uint32), y.view(np.uint32), y)
    if out is None:
        return y
    out[...] = y
    return out


def _float16_specials(x, a, bits, r, y) -> None:
    big = a >= _F16_OVERFLOW
    y[big] = np.copysign(np.float32(np.inf), x[big])
    nan = np.isnan(x)
    if nan.any():   # a NaN is quieted and its payload cut to float16's 10 bits, as torch (F16C) converts
        r[nan] = (bits[nan] | 0x00400000) & 0xFFFFE000


def rounder(fmt: str):
    """round_to's function for ``fmt``, (x, out=None) -> rounded, for float32 arrays only (no conversion: the
    mixed-precision network calls it some 100 times a step)."""
    if fmt not in LOW_PRECISION:
        raise ValueError(f"format must be one of {', '.join(LOW_PRECISION)}, got {fmt!r}")
    return _float16 if fmt == "float16" else _bfloat16


DYNAMIC_INIT = 2.0 ** 16   # torch.amp.GradScaler's defaults
GROWTH_FACTOR = 2.0
BACKOFF_FACTOR = 0.5
GROWTH_INTERVAL = 2000


class LossScaler:
    """The loss scale of one run. ``setting``: "none", "dynamic" or a positive number (a static scale).

    Each step: ``scale`` multiplies dL/d(output); ``update(finite)`` after the backward pass says whether the
    step is applied (False: skipped, dynamic scaling only) and moves the scale as GradScaler does."""

    def __init__(self, setting="none"):
        self.setting = setting
        self.dynamic = setting == "dynamic"
        self.scale = DYNAMIC_INIT if self.dynamic else (1.0 if setting == "none" else float(setting))
        self.growth_tracker = 0     # steps in a row with finite gradients since the last change
        self.skipped = 0            # steps skipped so far

    def update(self, finite: bool) -> bool:
        """After a backward pass: True when the step is to be applied. Dynamic: a non-finite gradient skips the
        step and halves the scale; GROWTH_INTERVAL finite steps in a row double it (as GradScaler.update)."""
        if not self.dynamic:
            return True
        if not finite:
            self.scale *= BACKOFF_FACTOR
            self.growth_tracker = 0
            self.skipped += 1
            return False
        self.growth_tracker += 1
        if self.growth_tracker == GROWTH_INTERVAL:
            self.scale *= GROWTH_FACTOR
            self.growth_tracker = 0
        return True


def parse_loss_scale(value):
    """"none", "dynamic" or a positive finite number (float); ValueError otherwise."""
    if isinstance(value, str):
        t = value.strip().lower()
        if t in ("none", "dynamic"):
            return t
        try:
            value = float(t)
        except ValueError:
            raise ValueError(value) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(value)
    return float(value)


def changed_share(before: np.ndarray, after: np.ndarray, grad: np.ndarray, offsets, sizes) -> np.ndarray:
    """lost_updates per segment: among the weights whose gradient is non-zero, the share whose stored value is
    the same after the step as before (w + update rounded back to w); 0 where no weight has a gradient."""
    moved_not = (before == after) & (grad != 0)
    has_grad = grad != 0
    lost = np.add.reduceat(moved_not.view(np.uint8), offsets, dtype=np.int64) if len(offsets) else np.empty(0)
    counted = np.add.reduceat(has_grad.view(np.uint8), offsets, dtype=np.int64) if len(offsets) else np.empty(0)
    del sizes
    return np.divide(lost, counted, out=np.zeros(len(offsets)), where=counted > 0)


SMALLEST_NORMAL = {"float16": 2.0 ** -14, "bfloat16": 2.0 ** -126}


def rounding_shares(exact: np.ndarray, rounded: np.ndarray, offsets, fmt: str) -> np.ndarray:
    """(2, segments): per segment of the flat arrays (one layer's dL/dW each, starting at ``offsets``) the
    underflow and overflow shares of ``rounding_losses``, in a few vectorised passes over all layers."""
    n = len(offsets)
    sizes = np.diff(np.append(offsets, exact.size))
    zero = rounded == 0
    zero &= np.abs(exact) < SMALLEST_NORMAL[fmt]
    zero &= exact != 0
    over = np.isinf(rounded)
    over &= np.isfinite(exact)
    out = np.empty((2, n))
    out[0] = np.add.reduceat(zero.view(np.uint8), offsets, dtype=np.int64) / sizes
    out[1] = np.add.reduceat(over.view(np.uint8), offsets, dtype=np.int64) / sizes
    return out


def rounding_losses(exact: np.ndarray, rounded: np.ndarray, fmt: str) -> tuple[float, float]:
    """(underflow, overflow) shares of the entries of ``exact`` (the float32 value before rounding to the format):
    zero after rounding while non-zero and below the format's smallest normal number before (a zero that the
    rounded pass reaches by cancelling larger numbers is not underflow); finite before and inf after."""
    n = exact.size
    if n == 0:
        return 0.0, 0.0
    tiny = np.abs(exact) < SMALLEST_NORMAL[fmt]
    under = np.count_nonzero((rounded == 0) & (exact != 0) & tiny)
    over = np.count_nonzero(np.isinf(rounded) & np.isfinite(exact))
    return under / n, over / n
