"""Which units (channels / features) produced a non-zero output anywhere in the batch.

A ReLU unit that is zero for every input of every batch over a window of steps is dead:
it passes no gradient and never recovers. Per step we keep one bit per unit; the diagnosis
intersects the bits over a window, which gives the exact set of units never active.

What a "unit" is depends on the layer that produced the rectifier's input:

* convolutions, BatchNorm / InstanceNorm / GroupNorm, pooling: dim 1 (channels of N, C, ...);
* Linear, LayerNorm, Embedding, RNN / LSTM / GRU and attention / transformer layers: the
  last dim (features of (N, F), (N, L, F) or (L, N, F): a Linear acts on the last dim, so
  each position of a sequence is a sample, not a unit);
* unknown producers (a residual sum, a functional op): dim 1 for 4-D and larger inputs
  (images), the last dim otherwise (2-D: the same; 3-D: sequence models are the common case).
"""

from __future__ import annotations

import torch
from torch import nn

from inspector.probes import native

CHANNEL_FIRST = (
    nn.modules.conv._ConvNd,
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.Dropout2d,
    nn.Dropout3d,
)
FEATURES_LAST = (
    nn.Linear,
    nn.Bilinear,
    nn.LayerNorm,
    nn.Embedding,
    nn.RNNBase,
    nn.MultiheadAttention,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
)


def unit_dim(producer: nn.Module | None, ndim: int) -> int:
    """The dim of a rectifier's ``ndim``-D output holding its units (non-negative)."""
    if ndim <= 1:
        return 0
    if isinstance(producer, CHANNEL_FIRST):
        return 1
    if isinstance(producer, FEATURES_LAST):
        return ndim - 1
    return 1 if ndim >= 4 else ndim - 1


def active_units(x: torch.Tensor, channel_dim: int = 1) -> torch.Tensor:
    """Bool vector (units,): True where the unit was non-zero for some element of the batch.

    Units are ``x``'s ``channel_dim`` (see ``unit_dim``); for 1-D outputs the single
    dimension. Stays on the device. ``x`` is a rectifier's output (>= 0), so a unit is
    active iff its maximum is positive: one reduction pass, no temporary.
    """
    if x.dim() <= 1:
        return x.detach() > 0
    channel_dim %= x.dim()
    if native.usable(x) and x.numel() > 0:
        return native.active_units(x, channel_dim)
    dims = [d for d in range(x.dim()) if d != channel_dim]
    return torch.amax(x.detach(), dim=dims) > 0
