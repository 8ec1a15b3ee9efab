"""Receptive-field arithmetic: how one torch op maps its inputs' fields to its output's.

A ``Field`` describes every unit of a tensor laid out as (N, C, *spatial): per spatial axis
the field size ``rf`` in input pixels, the ``jump`` (distance in input pixels between adjacent
units) and ``start`` (centre of the first unit in input coordinates; pixel i has centre i).
A window op (conv / pool) with kernel k, stride s, left padding p and dilation d gives
    k_eff = d (k - 1) + 1,  rf' = rf + (k_eff - 1) jump,  jump' = jump s,
    start' = start + ((k_eff - 1) / 2 - p) jump.
Ops that merge tensors (add, cat, mul) take the exact union of their inputs' fields.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch


@dataclass(frozen=True)
class Field:
    rf: tuple[float, ...]
    jump: tuple[float, ...]
    start: tuple[float, ...]
    is_global: bool = False  # every unit sees the whole input
    flat: bool = False  # spatial axes merged away (flatten/view): values span all positions

    @classmethod
    def pixel(cls, n_axes: int) -> Field:
        return cls((1.0,) * n_axes, (1.0,) * n_axes, (0.0,) * n_axes)


@dataclass(frozen=True)
class Unknown:
    """The field could not be tracked past an op (upsampling, token mixing...)."""

    reason: str


Tracked = Field | Unknown

CONV_OPS = {"conv1d", "conv2d", "conv3d"}
MAX_POOL_OPS = {f"max_pool{n}d{s}" for n in (1, 2, 3) for s in ("", "_with_indices")}
AVG_POOL_OPS = {f"avg_pool{n}d" for n in (1, 2, 3)}
LP_POOL_OPS = {f"lp_pool{n}d" for n in (1, 2, 3)}
ADAPTIVE_OPS = {
    f"adaptive_{k}_pool{n}d{s}"
    for k in ("avg", "max")
    for n in (1, 2, 3)
    for s in ("", "_with_indices")
}
RESHAPE_OPS = {"flatten", "view", "reshape", "squeeze", "unsqueeze", "unflatten", "contiguous"}
LINEAR_OPS = {"linear", "matmul", "mm", "bmm", "addmm", "einsum", "bilinear", "baddbmm"}
REDUCE_OPS = {
    "mean",
    "sum",
    "amax",
    "amin",
    "max",
    "min",
    "std",
    "var",
    "logsumexp",
    "norm",
    "median",
    "nansum",
    "nanmean",
    "prod",
    "std_mean",
    "var_mean",
}
MIXING_OPS = {
    "softmax",
    "log_softmax",
    "cumsum",
    "cumprod",
    "flip",
    "roll",
    "sort",
    "argsort",
    "cummax",
    "cummin",
    "topk",
}
UNTRACKED_OPS = {
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "pixel_shuffle",
    "pixel_unshuffle",
    "unfold",
    "fold",
    "grid_sample",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
}
SPATIAL_OPS = CONV_OPS | MAX_POOL_OPS | AVG_POOL_OPS | LP_POOL_OPS | ADAPTIVE_OPS | {"pad"}


def _arg(args: Sequence, kwargs: dict, i: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[i] if len(args) > i else default


def ntuple(value: Any, n: int) -> tuple:
    if isinstance(value, (list, tuple, torch.Size)):
        value = tuple(value)
        return value * n if len(value) == 1 else value[-n:]
    return (value,) * n


def window(
    f: Field,
    kernel: Sequence[int],
    stride: Sequence[int],
    pad_left: Sequence[float],
    dilation: Sequence[int],
) -> Field:
    """A conv / pool window applied to every spatial axis."""
    rf, jump, start = [], [], []
    for a in range(len(f.rf)):
        k_eff = dilation[a] * (kernel[a] - 1) + 1
        rf.append(f.rf[a] + (k_eff - 1) * f.jump[a])
        start.append(f.start[a] + ((k_eff - 1) / 2 - pad_left[a]) * f.jump[a])
        jump.append(f.jump[a] * stride[a])
    return Field(tuple(rf), tuple(jump), tuple(start))


def spread(f: Field, sizes: Sequence[int], axes: Sequence[int] | None = None) -> Field:
    """Union of the fields of all ``sizes[a]`` units along each axis (a global window)."""
    axes = range(len(f.rf)) if axes is None else axes
    rf, jump, start = list(f.rf), list(f.jump), list(f.start)
    for a in axes:
        n = sizes[a]
        rf[a] = f.rf[a] + (n - 1) * f.jump[a]
        start[a] = f.start[a] + (n - 1) / 2 * f.jump[a]
        jump[a] = f.jump[a] * n
    return Field(tuple(rf), tuple(jump), tuple(start), f.is_global, f.flat)


def union(fields: Sequence[Tracked], where: str, warnings: list[str]) -> Tracked:
    """Exact union (bounding interval per axis) of branches merged by add / cat / mul."""
    for f in fields:
        if isinstance(f, Unknown):
            return f
    fields = [f for f in fields if isinstance(f, Field)]
    if len(fields) == 1:
        return fields[0]
    if any(f.is_global for f in fields):
        fields = [f for f in fields if f.is_global]
    n_axes = {len(f.rf) for f in fields}
    if len(n_axes) != 1 or len({f.flat for f in fields}) != 1:
        return Unknown(f"{where}: merges tensors with different layouts")
    base = fields[0]
    if any(f.jump != base.jump for f in fields) and not base.is_global:
        return Unknown(
            f"{where}: merges branches with different strides {sorted({f.jump for f in fields})}"
        )
    rf, start = [], []
    for a in range(len(base.rf)):
        lo = min(f.start[a] - f.rf[a] / 2 for f in fields)
        hi = max(f.start[a] + f.rf[a] / 2 for f in fields)
        rf.append(hi - lo)
        start.append((hi + lo) / 2)
    centres = {tuple(f.start) for f in fields}
    if len(centres) > 1 and not base.is_global:
        warnings.append(
            f"{where}: branch centres differ ({sorted(centres)}); the field is their union"
        )
    return Field(tuple(rf), base.jump, tuple(start), base.is_global, base.flat)


def _spatial(t: torch.Tensor, f: Field) -> tuple[int, ...]:
    return tuple(t.shape[2 : 2 + len(f.rf)])


def window_op(name: str, args: Sequence, kwargs: dict, f: Field) -> Field:
    n = len(f.rf)
    if name in CONV_OPS:
        kernel = tuple(args[1].shape[2:])
        stride = ntuple(_arg(args, kwargs, 3, "stride", 1), n)
        padding = _arg(args, kwargs, 4, "padding", 0)
        dilation = ntuple(_arg(args, kwargs, 5, "dilation", 1), n)
    else:
        if name in LP_POOL_OPS:
            kernel = ntuple(_arg(args, kwargs, 2, "kernel_size"), n)
            stride_arg, padding, dilation = _arg(args, kwargs, 3, "stride"), 0, (1,) * n
        else:
            kernel = ntuple(_arg(args, kwargs, 1, "kernel_size"), n)
            stride_arg = _arg(args, kwargs, 2, "stride")
            padding = _arg(args, kwargs, 3, "padding", 0)
            dilation = (
                ntuple(_arg(args, kwargs, 4, "dilation", 1), n)
                if name in MAX_POOL_OPS
                else (1,) * n
            )
        empty = stride_arg is None or (isinstance(stride_arg, (list, tuple)) and not stride_arg)
        stride = kernel if empty else ntuple(stride_arg, n)
    if padding == "valid":
        pad_left = (0,) * n
    elif padding == "same":
        pad_left = tuple(dilation[a] * (kernel[a] - 1) // 2 for a in range(n))
    else:
        pad_left = ntuple(padding, n)
    return window(f, kernel, stride, pad_left, dilation)


def adaptive_op(args: Sequence, kwargs: dict, x: torch.Tensor, f: Field, where: str) -> Tracked:
    sizes = _spatial(x, f)
    out = ntuple(_arg(args, kwargs, 1, "output_size"), len(sizes))
    out = tuple(sizes[a] if o is None else o for a, o in enumerate(out))
    if all(o == 1 for o in out):
        return replace(spread(f, sizes), is_global=True)
    kernel, stride = [], []
    for i, o in zip(sizes, out, strict=True):
        if i == o or i == 1:
            kernel.append(1)
            stride.append(1)
        elif i % o == 0:
            kernel.append(i // o)
            stride.append(i // o)
        else:
            return Unknown(f"{where}: adaptive pool {i} -> {o} has uneven windows")
    return window(f, kernel, stride, (0,) * len(sizes), (1,) * len(sizes))


def pad_op(args: Sequence, kwargs: dict, f: Field, where: str) -> Tracked:
    if _arg(args, kwargs, 2, "mode", "constant") == "circular":
        return Unknown(f"{where}: circular padding wraps the input")
    pad = list(_arg(args, kwargs, 1, "pad"))
    n = len(f.rf)
    start = list(f.start)
    for a in range(n):
        i = 2 * (n - 1 - a)
        if i < len(pad):
            start[a] = f.start[a] - pad[i] * f.jump[a]
    return Field(f.rf, f.jump, tuple(start), f.is_global, f.flat)


def reduce_op(
    args: Sequence, kwargs: dict, x: torch.Tensor, f: Field, out: Any, where: str
) -> Tracked | None:
    """Global pooling written as x.mean((2, 3)) etc.; None when no spatial axis is reduced."""
    dim = _arg(args, kwargs, 1, "dim")
    nd = x.dim()
    spatial_dims = set(range(2, 2 + len(f.rf)))
    if dim is None or (isinstance(dim, (list, tuple)) and not dim):
        reduced = set(range(nd))
    elif isinstance(dim, int):
        reduced = {dim % nd}
    elif isinstance(dim, (list, tuple)) and all(isinstance(d, int) for d in dim):
        reduced = {d % nd for d in dim}
    else:
        return Unknown(f"{where}: reduction over named dims")
    hit = reduced & spatial_dims
    if not hit:
        return None
    if hit == spatial_dims:
        return replace(spread(f, _spatial(x, f)), is_global=True)
    return Unknown(f"{where}: reduces some spatial axes only")


def slice_op(args: Sequence, x: torch.Tensor, out: torch.Tensor, f: Field, where: str) -> Tracked:
    """Crops like x[:, :, 1:-1] (U-Net): shift the start, scale the jump by the step."""
    index = args[1] if isinstance(args[1], tuple) else (args[1],)
    if len(index) > 2 + len(f.rf) or not all(isinstance(i, slice) for i in index):
        return Unknown(f"{where}: indexing changes the layout")
    start, jump = list(f.start), list(f.jump)
    for d, sl in enumerate(index):
        if d < 2:
            continue
        a = d - 2
        first, _, step = sl.indices(x.shape[d])
        start[a] = f.start[a] + first * f.jump[a]
        jump[a] = f.jump[a] * step
    if out.dim() != x.dim():
        return Unknown(f"{where}: indexing changes the layout")
    return Field(f.rf, tuple(jump), tuple(start), f.is_global, f.flat)


def dim_hits_spatial(args: Sequence, kwargs: dict, x: torch.Tensor, f: Field) -> bool:
    dim = _arg(args, kwargs, 1, "dim", _arg(args, kwargs, 1, "dims"))
    dims = dim if isinstance(dim, (list, tuple)) else [dim]
    return any(isinstance(d, int) and 2 <= d % x.dim() < 2 + len(f.rf) for d in dims)


def as_number(v: float) -> float | int:
    """JSON-friendly: whole numbers as ints (rf and jump are integers for ordinary nets)."""
    return int(v) if float(v).is_integer() and math.isfinite(v) else round(float(v), 4)
