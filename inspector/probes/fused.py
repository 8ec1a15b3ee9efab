"""One-pass kernels for the recorder's two heaviest reductions, compiled once per process.

Eager PyTorch runs one kernel per statistic: ``aminmax``, ``sum`` and ``norm`` read a large
activation three times, and the histogram bins of a step's samples take a dozen element-wise
passes. ``torch.compile`` fuses each into a single pass (a vectorised, OpenMP-parallel C++
loop on CPU; the sums use cascade summation, as accurate as eager's):

* ``fast_moments(flat)``: [sum, ||x||, min, max] of a large float32 vector, the fast row of
  ``TensorSummary`` (about 2.1x cheaper than the three eager kernels on a 3.2M-element
  activation inside a training step);
* ``histogram_keys(values, segments, scale)``: the bincount key of every sampled value.

Both are used on CPU only, above a size where the fused call beats the eager kernels, and
never while dynamo traces a user's compiled model. Compilation costs a few seconds once per
process (about 1 s per kernel with a warm inductor cache, 4-7 s for the first), which only
pays over many recorded steps: by default (``INSPECTOR_FUSED=auto``) the kernels are
compiled once this process has recorded ``AUTO_AFTER_STEPS`` steps, so short runs and most
tests never compile. ``INSPECTOR_FUSED=1`` uses them from the first step, ``0`` never. If
compiling fails (no C++ compiler, an unsupported platform) the eager kernels are used from
then on and the reason is kept in ``unavailable_reason``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import torch

from inspector.probes.bins import LOG_ABS_LAYOUT, SYMLOG_LAYOUT

# Below these sizes the eager kernels are as fast as a compiled call: inside a training
# step (cold caches, interleaved with the model's kernels) the compiled moments took 187 us
# on a 262k-element resnet18 activation against 87 us for aminmax + sum + norm, 409 against
# 434 us at 1M, 640 against 1351 us at 3.2M (CPU, 2 threads). Standalone, hot, the compiled
# kernel already wins at 262k: thresholds are set from in-loop timings.
FUSED_MOMENTS_MIN_NUMEL = 1 << 21
FUSED_HISTOGRAM_MIN_NUMEL = 1 << 16

AUTO_AFTER_STEPS = 20

_lock = threading.Lock()
_compiled: dict[str, Callable | None] = {}
unavailable_reason: str | None = None
_recorded_steps = 0  # recorded steps flushed by every recorder of this process


def count_recorded_step() -> None:
    """Called by the recorder once per recorded step (the ``auto`` policy counts them)."""
    global _recorded_steps
    _recorded_steps += 1


def enabled() -> bool:
    """Whether the fused kernels are to be used now (policy, availability)."""
    if unavailable_reason is not None:
        return False
    mode = os.environ.get("INSPECTOR_FUSED", "auto")
    if mode == "0":
        return False
    return mode == "1" or _recorded_steps >= AUTO_AFTER_STEPS


def _usable(t: torch.Tensor, min_numel: int) -> bool:
    return (
        t.device.type == "cpu"
        and t.numel() >= min_numel
        and t.is_contiguous()
        and enabled()
        and not torch.compiler.is_compiling()
    )


def _moments(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x.sum(), (x * x).sum().sqrt(), x.amin(), x.amax()])


def _keys(values: torch.Tensor, segments: torch.Tensor, scale: str, n_bins: int) -> torch.Tensor:
    """``tensor_summary._bin_position`` plus the NaN / Inf columns and the group offset."""
    t = values.abs().log10()
    if scale == "log_abs":
        lo, per_decade, n_edges = LOG_ABS_LAYOUT
        pos = ((t - lo) * per_decade).clamp(-1.0, n_edges).floor() + 1.0
    else:
        lo, per_decade, n_mag = SYMLOG_LAYOUT
        mag = ((t - lo) * per_decade).floor().clamp(-1.0, n_mag) + 1.0
        pos = torch.copysign(mag, values) + (n_mag + 1)
    pos = torch.where(values.isnan(), float(n_bins), pos)
    pos = torch.where(values.isinf(), float(n_bins + 1), pos)
    return (pos + segments).to(torch.int32)


def _get(name: str, fn: Callable) -> Callable | None:
    if name not in _compiled:
        with _lock:
            if name not in _compiled:
                _compiled[name] = torch.compile(fn, dynamic=True)
    return _compiled[name]


def _run(name: str, fn: Callable, *args) -> torch.Tensor | None:
    """The compiled ``fn(*args)``, or None (and the fused kernels off) if it cannot run."""
    global unavailable_reason
    compiled = _get(name, fn)
    try:
        with torch.no_grad():
            return compiled(*args)
    except Exception as exc:  # no compiler, unsupported platform...: eager from now on
        unavailable_reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
        return None


def fast_moments(flat: torch.Tensor) -> torch.Tensor | None:
    """[sum, ||x||, min, max] of a contiguous 1-D float32 tensor in one pass, or None when
    the eager kernels should be used (small, not on CPU, fused kernels unavailable)."""
    if not _usable(flat, FUSED_MOMENTS_MIN_NUMEL):
        return None
    return _run("moments", _moments, flat)


def histogram_keys(
    values: torch.Tensor, segments: torch.Tensor, scale: str, n_bins: int
) -> torch.Tensor | None:
    """int32 bincount key of each value (its bin, ``n_bins`` for NaN, ``n_bins + 1`` for
    Inf, plus its group's offset ``segments``) in one pass, or None when the eager kernels
    should be used."""
    if not _usable(values, FUSED_HISTOGRAM_MIN_NUMEL):
        return None
    return _run(f"keys:{scale}", _keys, values, segments, scale, n_bins)
