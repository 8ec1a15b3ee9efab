"""Host-side statistics of tensor summaries, for every tensor of a step at once.

After the step's one device-to-host copy, each summarised tensor is one or more rows of
``tensor_summary.MOMENT_FIELDS`` (one row per call of its module). Here, in float64 numpy,
all rows of a step become moments (count, mean, M2, min, max) and then statistics in a few
array operations, instead of a loop of Python arithmetic per tensor in the writer thread
(which holds the GIL the training thread needs). ``tensor_summary.combine`` / ``finalize``
are this code applied to one tensor.

Per row: a robust row (scale > 0) stores y = (x - shift) / scale, so mean = shift + scale *
mean(y) and M2 = scale^2 * (||y||^2 - sum(y) mean(y)); a fast row stores plain sum(x) and
||x||, trusted only well inside float32's range and without cancellation. Rows of one tensor
are merged with the parallel formula M2 = sum M2_i + sum n_i (mean_i - mean)^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fast rows are trusted while the tensor stays this far inside float32's range.
FAST_MAX = 1e15
FAST_MIN_MEAN_SQUARE = 1e-30
FAST_MAX_MEAN_TO_STD_SQUARED = 30.0
# a fast row's norm beyond these may have overflowed / underflowed in float32
_FAST_NORM_MAX = 1e19
_FAST_MIN_MEAN_SQUARE_SEEN = 1e-36
_CANCELLED = 1e-4  # M2 below this share of n * mean^2: cancellation ate the variance


@dataclass(frozen=True)
class MomentsBatch:
    """float64 moments of several tensors: ``n[i]``, ``mean[i]``, ``m2[i]`` = sum (x -
    mean)^2, exact ``min``/``max`` (NaN when a NaN is present), the sample's non-zero and
    saturated counts, and whether the moments can be trusted (fast rows)."""

    n: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    min: np.ndarray
    max: np.ndarray
    nonzero: np.ndarray
    sat: np.ndarray
    trusted: np.ndarray

    @property
    def var(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.m2 / np.maximum(self.n, 1), np.nan)

    @property
    def norm(self) -> np.ndarray:
        """sqrt(sum x^2) = sqrt(M2 + n mean^2): finite for finite input."""
        return np.sqrt(self.m2 + self.n * self.mean * self.mean)


def combine_rows(counts: np.ndarray, rows: np.ndarray, starts: np.ndarray) -> MomentsBatch:
    """Merge per-call rows into per-tensor moments.

    ``rows`` is (R, 8) float64, ``counts[r]`` the elements behind row r, and tensor i owns
    rows ``starts[i]:starts[i + 1]`` (the last one runs to R); every tensor has a row.
    """
    counts = np.asarray(counts, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.intp)
    shift, scale, s1, norm, mn, mx, nonzero, sat = rows.T
    present = counts > 0
    n_safe = np.where(present, counts, 1.0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        robust = scale > 0
        mean_y = mean_fast = s1 / n_safe  # of y (robust rows) or of x (fast rows)
        m2_fast = np.maximum(norm * norm - s1 * mean_fast, 0.0)
        constant = (mn == mx) & np.isfinite(mn)  # all zeros, a saturated unit...
        trusted_fast = (
            np.isfinite(norm)
            & (norm < _FAST_NORM_MAX)
            & (norm * norm / n_safe > _FAST_MIN_MEAN_SQUARE_SEEN)
            & (m2_fast > _CANCELLED * n_safe * mean_fast * mean_fast)
        )
        mean = np.where(robust, shift + scale * mean_y, np.where(constant, mn, mean_fast))
        m2 = np.where(
            robust,
            scale * scale * np.maximum(norm * norm - s1 * mean_y, 0.0),
            np.where(constant, 0.0, m2_fast),
        )
    trusted = robust | constant | trusted_fast | ~present  # an empty call says nothing
    mean = np.where(present, mean, 0.0)
    m2 = np.where(present, m2, 0.0)
    n = np.add.reduceat(counts, starts)
    n_rows = np.diff(np.append(starts, len(counts)))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        merged_mean = np.add.reduceat(counts * mean, starts) / np.where(n > 0, n, 1.0)
        owner = np.repeat(np.arange(len(starts)), n_rows)
        spread = counts * (mean - merged_mean[owner]) ** 2
        merged_m2 = np.add.reduceat(m2 + spread, starts)
    single = n_rows == 1  # one call: its own row, untouched by the merge
    return MomentsBatch(
        n=n,
        mean=np.where(single, mean[starts], merged_mean),
        m2=np.where(single, m2[starts], merged_m2),
        # an empty call has no min/max (NaN in its row): it must not read as a NaN present
        min=np.where(n > 0, np.minimum.reduceat(np.where(present, mn, np.inf), starts), np.nan),
        max=np.where(n > 0, np.maximum.reduceat(np.where(present, mx, -np.inf), starts), np.nan),
        nonzero=np.add.reduceat(nonzero, starts),
        sat=np.add.reduceat(sat, starts),
        trusted=np.logical_and.reduceat(trusted, starts),
    )


def fast_path_ok_batch(m: MomentsBatch) -> np.ndarray:
    """Per tensor: may its next summary take the fast (unshifted, unscaled) path?

    True when every element is finite, the tensor sits well inside float32's range (room
    for many orders of magnitude of change before the next recorded step) and its mean is
    not much larger than its spread.
    """
    finite = np.isfinite(m.min) & np.isfinite(m.max) & (m.n > 0)
    zero = (m.min == 0.0) & (m.max == 0.0)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        amax = np.maximum(np.abs(m.min), np.abs(m.max))
        mean_square = (m.m2 + m.n * m.mean * m.mean) / np.where(m.n > 0, m.n, 1.0)
        inside = (
            m.trusted
            & (amax < FAST_MAX)
            & (mean_square > FAST_MIN_MEAN_SQUARE)
            & (m.mean * m.mean <= FAST_MAX_MEAN_TO_STD_SQUARED * m.var)
        )
    return finite & (zero | inside)


# what finalize_batch returns, in this order (sat_frac only for bounded activations)
STAT_SUFFIXES = ("numel", "nan", "inf", "mean", "std", "min", "max", "norm", "zero_frac")


def finalize_batch(
    m: MomentsBatch, n_sample: np.ndarray, nan_sampled: np.ndarray, inf_sampled: np.ndarray
) -> dict[str, np.ndarray]:
    """suffix -> per-tensor values (``STAT_SUFFIXES`` and ``sat_frac``).

    Moments are over all elements, in float64; with NaN/Inf present they are reported as
    NaN (meaningless) and the counts carry the signal: exact in exact mode, else the
    sample's scaled to the tensor, at least 1 when the exact min/max show the value present,
    0 when they show it absent. Fractions are of the sample.
    """
    n_sample = np.asarray(n_sample, dtype=np.float64)
    total = m.n
    has_nan = (np.isnan(m.min) | np.isnan(m.max)) & (total > 0)  # empty: nothing present
    has_inf = ~has_nan & (np.isinf(m.min) | np.isinf(m.max))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where((n_sample > 0) & (n_sample < total), total / n_sample, 1.0)
        nan = np.where(has_nan, np.rint(nan_sampled * scale), 0.0)
        # with a NaN present the min/max cannot tell whether an Inf is: trust the sample
        inf = np.where(has_nan | has_inf, np.rint(inf_sampled * scale), 0.0)
        nan = np.where(has_nan & (nan == 0), 1.0, nan)  # present, missed by the sample
        inf = np.where(has_inf & (inf == 0), 1.0, inf)
        clean = ~(has_nan | has_inf) & (total > 0)
        good = clean & m.trusted
        fraction = np.where(n_sample > 0, 1.0 / np.maximum(n_sample, 1.0), np.nan)
        return {
            "numel": total.astype(np.float64),
            "nan": nan,
            "inf": inf,
            "mean": np.where(good, m.mean, np.nan),
            "std": np.where(good, np.sqrt(m.var), np.nan),
            "min": np.where(clean, m.min, np.nan),
            "max": np.where(clean, m.max, np.nan),
            "norm": np.where(good, m.norm, np.nan),
            "zero_frac": (n_sample - m.nonzero) * fraction,
            "sat_frac": m.sat * fraction,
        }
