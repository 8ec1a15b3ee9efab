"""On-device summaries of tensors: exact moments per tensor, batched histograms per step.

Two halves, both free of host synchronisation:

* ``TensorSummary.of(x)`` (called in a hook): element count, a shifted and scaled first and
  second moment, min and max over *every* element, the zero and saturation counts and a
  small copy of a systematic sample of the elements (at most ``max_sample``; stride coprime
  with the per-sample size, so it spreads over channels and positions).
* ``batch_histograms(samples, scale)`` (called once per recorded step): the fixed-edge
  histograms of many samples at once plus their NaN / Inf counts, in a handful of kernel
  launches instead of a dozen per tensor.

Numerics (why the moments look the way they do). Float32 ``sum(x**2)`` overflows for
|x| ~ 1e20, underflows to 0 for |x| ~ 1e-23, and ``E[x^2] - mean^2`` cancels when
mean >> std. The *robust* path therefore stores, per call, a shift ``c`` (the mean of a
systematic sample: close to the true mean; the C kernel uses 64 spaced elements), a scale
``r = max|x - c|`` (from the exact min / max), and ``sum(y)``, ``||y||`` of
``y = (x - c) / r`` (every |y| <= 1: no overflow, no underflow that matters, no
cancellation). The host recombines in float64 and merges several calls with the parallel
formula (``probes.summary_stats``, every tensor of a step in one batch). Every moment is
finite for every finite tensor whose range (max - min) is below float32's maximum. The *fast* path (``robust=False``) stores plain
``sum(x)`` and ``||x||`` (two passes less); the recorder uses it only for tensors whose
previous recorded step was well inside float32's safe range (``fast_path_ok``), and
``finalize`` reports NaN rather than a wrong number if a fast row turns out unsafe.

On the CPU both halves run in C (``probes.native``): one pass per tensor gives the robust
row with float64 accumulators (no fast path needed) and copies the sample; the histograms
of a step are one call. The eager kernels here are the CUDA path (no host sync) and the
fallback where no C compiler is available.

Exactness: count, moments, min, max always cover every element; whether a NaN/Inf is
present is exact (min/max become NaN or infinite). Histogram, zero / saturation fractions
and NaN / Inf counts come from the sample unless ``max_sample`` is None (exact mode); a
count is never 0 when the exact min/max show the value present, never > 0 when they show it
absent. For a fraction p estimated from n sampled elements the standard error is
sqrt(p(1-p)/n) <= 0.5/sqrt(n): 0.8 percentage points at the default n = 4096.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from inspector.probes import native
from inspector.probes.bins import LOG_ABS_LAYOUT, SYMLOG_LAYOUT, edges_for
from inspector.probes.summary_stats import (
    STAT_SUFFIXES,
    MomentsBatch,
    combine_rows,
    fast_path_ok_batch,
    finalize_batch,
)

DEFAULT_MAX_SAMPLE = 4096
# Device row per call: shift, scale (< 0: fast row, unshifted), sum(y), ||y||, min, max,
# non-zero and saturated counts in the sample; y = (x - shift) / scale.
MOMENT_FIELDS = ("shift", "scale", "sum", "norm", "min", "max", "nonzero", "sat")
ROW = len(MOMENT_FIELDS)
_TINY = 2.0**-126  # smallest normal float32: the scale never divides by a subnormal


@dataclass(frozen=True)
class SummarySpec:
    """What to summarise: histogram scale and, for bounded activations, the asymptotes."""

    scale: str = "value"  # "value" (symlog of x) or "log_abs" (log10 |x|)
    bounds: tuple[float, float] | None = None  # saturation asymptotes (lo, hi)
    sat_tolerance: float = 0.01  # share of (hi - lo) counted as "at the asymptote"
    max_sample: int | None = DEFAULT_MAX_SAMPLE


@functools.lru_cache(maxsize=4096)
def sample_stride(numel: int, per_item: int, max_sample: int | None) -> int:
    """Stride of the systematic sample: >= numel / max_sample, coprime with ``per_item``."""
    if max_sample is None or numel <= max_sample:
        return 1
    stride = math.ceil(numel / max_sample)
    while math.gcd(stride, per_item) != 1:
        stride += 1
    return stride


_CONST: dict[tuple[float, torch.device], torch.Tensor] = {}


def _const(value: float, device: torch.device) -> torch.Tensor:
    """A cached 0-d float32 constant (stacked into fast rows without a kernel per call)."""
    key = (value, device)
    t = _CONST.get(key)
    if t is None:
        t = _CONST[key] = torch.tensor(value, dtype=torch.float32, device=device)
    return t


@dataclass
class TensorSummary:
    """Device-side summary of one tensor (or of several calls, merged)."""

    n: int  # elements
    parts: list[torch.Tensor]  # 0-d device tensors, one MOMENT_FIELDS row per call
    samples: list[torch.Tensor]  # float32 copies of the sampled elements
    counts: list[int] = field(default_factory=list)  # elements per call (row)

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [self.n]

    @property
    def moments(self) -> torch.Tensor:
        """The rows as one float32 vector (the recorder joins a whole step's rows at once)."""
        return join_parts(self.parts).float()

    @property
    def length(self) -> int:
        """Numbers in ``parts`` (``ROW`` per call)."""
        return sum(p.numel() for p in self.parts)

    @property
    def n_sample(self) -> int:
        return sum(s.numel() for s in self.samples)

    @classmethod
    def of(
        cls, x: torch.Tensor, spec: SummarySpec, copy: bool = True, robust: bool = True
    ) -> TensorSummary:
        """Summarise ``x``; ``copy=False`` when ``x`` cannot change before the flush.

        ``robust=False`` skips the shift and scale (see the module docstring): only for
        tensors known to be far inside float32's range, with a mean not >> their std.
        """
        flat = x.detach().reshape(-1)
        if flat.dtype != torch.float32:
            flat = flat.float()  # fp16/bf16 under autocast, float64: statistics in float32
        numel = flat.numel()
        if numel == 0:
            nan = torch.full((2,), float("nan"), device=flat.device)
            zeros = torch.zeros(2, device=flat.device)
            head = torch.tensor([0.0, -1.0, 0.0, 0.0], device=flat.device)
            return cls(0, list(torch.cat([head, nan, zeros]).unbind()), [], [0])
        per_item = max(1, numel // x.shape[0]) if x.dim() > 0 and x.shape[0] > 0 else 1
        stride = sample_stride(numel, per_item, spec.max_sample)
        if native.usable(flat):  # CPU: the robust row and the sample in one C pass
            row, sample = native.summarize(flat, stride, spec.bounds, spec.sat_tolerance)
            return cls(numel, [row], [sample], [numel])
        if stride > 1:
            sample = flat[::stride].contiguous()
        else:
            sample = flat.clone() if copy and flat.data_ptr() == x.data_ptr() else flat
        if robust:
            mn, mx = torch.aminmax(flat)
            # shift by the sample mean (float64: finite for finite x), scale by max|x - c|
            shift = sample.mean(dtype=torch.float64).to(torch.float32)
            scale = torch.maximum(mx - shift, shift - mn).clamp_min_(_TINY)
            y = torch.sub(flat, shift).div_(scale)
            head = [shift, scale, y.sum(), torch.linalg.vector_norm(y)]
            head += [mn, mx]
        else:
            head = [_const(0.0, flat.device), _const(-1.0, flat.device)]
            mn, mx = torch.aminmax(flat)
            head += [flat.sum(), torch.linalg.vector_norm(flat), mn, mx]
        # zeros = sample size - non-zeros (on the host): count_nonzero is one fast kernel
        parts = [*head, torch.count_nonzero(sample)]
        if spec.bounds is not None:  # |x - midpoint| >= half range - tolerance
            lo, hi = spec.bounds
            near = (hi - lo) / 2 - spec.sat_tolerance * (hi - lo)
            parts.append(torch.count_nonzero(torch.sub(sample, (lo + hi) / 2).abs_() >= near))
        else:
            parts.append(_const(0.0, flat.device))
        return cls(numel, parts, [sample], [numel])

    def merge(self, other: TensorSummary) -> TensorSummary:
        """Combine with the summary of another call of the same module in the same step.

        Rows are kept per call (one ``cat``) and combined exactly on the host (Chan et al.).
        """
        return TensorSummary(
            self.n + other.n,
            self.parts + other.parts,
            self.samples + other.samples,
            self.counts + other.counts,
        )


def join_parts(parts: Sequence[torch.Tensor]) -> torch.Tensor:
    """Summary parts (0-d numbers from the eager path, whole rows from the C kernel) as one
    vector, in one kernel when they are all of one kind."""
    if all(p.dim() == 0 for p in parts):
        return torch.stack(list(parts))
    return torch.cat([p.reshape(-1) for p in parts])


@dataclass(frozen=True)
class Moments:
    """Host-side float64 moments of one tensor: count, mean, M2 = sum (x - mean)^2, min, max."""

    n: int
    mean: float
    m2: float
    min: float
    max: float
    nonzero: float  # non-zero elements of the sample
    sat: float
    trusted: bool  # False: a fast row left float32's safe range; mean/std/norm unknown

    @property
    def var(self) -> float:
        return self.m2 / self.n if self.n else float("nan")

    @property
    def norm(self) -> float:
        """sqrt(sum x^2) = sqrt(M2 + n mean^2), in float64: finite for finite input."""
        return math.sqrt(self.m2 + self.n * self.mean * self.mean)


def _one(counts: Sequence[int], moments: np.ndarray) -> MomentsBatch:
    rows = np.asarray(moments, dtype=np.float64).reshape(-1, ROW)
    return combine_rows(np.asarray(counts, dtype=np.float64), rows, np.zeros(1, np.intp))


def combine(counts: Sequence[int], moments: np.ndarray) -> Moments:
    """Merge per-call rows (``TensorSummary.moments`` on the host) into float64 moments
    (``summary_stats.combine_rows`` for one tensor)."""
    m = _one(counts, moments)
    return Moments(
        int(sum(counts)),
        float(m.mean[0]),
        float(m.m2[0]),
        float(m.min[0]),
        float(m.max[0]),
        float(m.nonzero[0]),
        float(m.sat[0]),
        bool(m.trusted[0]),
    )


def _batch(m: Moments) -> MomentsBatch:
    def one(v: float) -> np.ndarray:
        return np.array([v], dtype=np.float64)

    return MomentsBatch(
        one(m.n),
        one(m.mean),
        one(m.m2),
        one(m.min),
        one(m.max),
        one(m.nonzero),
        one(m.sat),
        np.array([m.trusted]),
    )


def fast_path_ok(counts: Sequence[int], moments: np.ndarray | Moments) -> bool:
    """Whether the fast (unshifted, unscaled) path is safe for this tensor's next summary
    (``summary_stats.fast_path_ok_batch``); ``moments`` may be the rows or their
    ``combine``."""
    m = _batch(moments) if isinstance(moments, Moments) else _one(counts, moments)
    return bool(fast_path_ok_batch(m)[0])


def _bin_position(
    values: torch.Tensor, scale: str, out: torch.Tensor | None = None
) -> torch.Tensor:
    """Float32 histogram bin of each value (NaN stays NaN, +-Inf go to the open end bins).

    Few, mostly in-place float32 kernels: the bin count of a symlog value is
    ``n_mag + 1 + sign(x) * (clamp(floor(t), -1, n_mag) + 1)`` with ``t`` the value's
    position in eighths of a decade above 1e-3 (|x| < 1e-3 and zeros land in the central
    bin); a log-magnitude bin is ``clamp(t, -1, n_edges).floor() + 1``.
    """
    t = torch.abs(values, out=out).log10_() if out is not None else values.abs().log10_()
    if scale == "log_abs":
        lo, per_decade, n_edges = LOG_ABS_LAYOUT
        return t.sub_(lo).mul_(per_decade).clamp_(-1.0, n_edges).floor_().add_(1.0)
    lo, per_decade, n_mag = SYMLOG_LAYOUT  # edges -M40..-M0, M0..M40, M_i = 10**(lo+i/8)
    t.sub_(lo).mul_(per_decade).floor_().clamp_(-1.0, n_mag).add_(1.0)
    return t.copysign_(values).add_(n_mag + 1)


def bin_index(values: torch.Tensor, scale: str) -> torch.Tensor:
    """Histogram bin of each value, by arithmetic on the fixed edges of ``probes.bins``.

    Equals ``torch.bucketize(values, edges, right=True)`` (tested against it, up to
    rounding exactly at an edge) at a fraction of its cost. Non-finite values get some valid
    index; callers route them elsewhere.
    """
    return _bin_position(values.float(), scale).nan_to_num_(nan=0.0).long()


_SEGMENT_CACHE: dict[tuple, torch.Tensor] = {}
_WORKSPACE: dict[tuple, torch.Tensor] = {}


def _workspace(name: str, numel: int, device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A reused buffer of at least ``numel`` elements: the step's histogram temporaries are
    the same size every step, and fresh large allocations cost page faults on CPU."""
    key = (name, device, dtype)
    buf = _WORKSPACE.get(key)
    if buf is None or buf.numel() < numel:
        buf = _WORKSPACE[key] = torch.empty(numel, dtype=dtype, device=device)
    return buf[:numel]


def _segments(
    owners: tuple[int, ...], lengths: tuple[int, ...], width: int, device
) -> torch.Tensor:
    """``group * width`` for every element of the concatenated samples, float32 (cached:
    shapes repeat step after step)."""
    key = (owners, lengths, width, device)
    seg = _SEGMENT_CACHE.get(key)
    if seg is None:
        ids = np.repeat(np.asarray(owners, dtype=np.float32) * width, lengths)
        seg = torch.from_numpy(ids).to(device, non_blocking=True)
        if len(_SEGMENT_CACHE) > 64:
            _SEGMENT_CACHE.clear()
        _SEGMENT_CACHE[key] = seg
    return seg


def batch_histograms(groups: list[list[torch.Tensor]], scale: str) -> torch.Tensor:
    """Histogram + [nan, inf] counts for each group of samples: (groups, bins + 2) float64.

    Every sample of a group counts into the group's row. Finite values land in the fixed
    bins (which therefore sum to the number of finite sampled elements); NaN and Inf are
    counted in the last two columns. One ``cat``, a dozen float32 element-wise kernels and
    one ``bincount`` for all groups together.
    """
    n_bins = len(edges_for(scale)) + 1
    width = n_bins + 2
    flat_groups = [(g, s) for g, samples in enumerate(groups) for s in samples]
    if not flat_groups:
        return torch.zeros((len(groups), width), dtype=torch.float64)
    if all(native.usable_1d(s) for _, s in flat_groups):  # CPU: one C pass, no cat
        return native.histograms(groups, scale, n_bins)
    total = sum(s.numel() for _, s in flat_groups)
    device = flat_groups[0][1].device
    values = torch.cat([s.float() for _, s in flat_groups], out=_workspace("v", total, device))
    owners = tuple(g for g, _ in flat_groups)
    seg = _segments(owners, tuple(s.numel() for _, s in flat_groups), width, device)
    pos = _bin_position(values, scale, out=_workspace("p", total, device))
    pos.nan_to_num_(nan=n_bins).masked_fill_(values.isinf(), n_bins + 1).add_(seg)
    keys = _workspace("k", total, device, torch.int32).copy_(pos)  # exact: ints < 2**24
    counts = torch.bincount(keys, minlength=len(groups) * width)
    return counts.to(torch.float64).view(len(groups), width)


def finalize(
    n: int | Sequence[int],
    n_sample: int,
    moments: np.ndarray | Moments,
    extra: np.ndarray,
    prefix: str,
    with_saturation: bool,
) -> dict[str, float]:
    """Host-side statistics of one tensor (``summary_stats.finalize_batch``), named
    ``<prefix>_<stat>``.

    ``n`` is the element count, or the per-call counts of a merged summary (``counts``);
    ``moments`` the rows (``TensorSummary.moments``) or their ``combine``; ``extra`` the row
    of ``batch_histograms`` (bins..., nan, inf).
    """
    counts = [int(n)] if isinstance(n, (int, np.integer)) else [int(c) for c in n]
    m = _batch(moments) if isinstance(moments, Moments) else _one(counts, moments)
    values = finalize_batch(
        m, np.array([n_sample]), np.array([float(extra[-2])]), np.array([float(extra[-1])])
    )
    keys = STAT_SUFFIXES + (("sat_frac",) if with_saturation else ())
    return {f"{prefix}_{k}": float(values[k][0]) for k in keys}
