"""Which units (channels / features) produced a non-zero output anywhere in the batch.

A ReLU unit that is zero for every input of every batch over a window of steps is dead:
it passes no gradient and never recovers. Per step we keep one bit per unit; the diagnosis
intersects the bits over a window, which gives the exact set of units never active.
"""

from __future__ import annotations

import torch


def active_units(x: torch.Tensor, channel_dim: int = 1) -> torch.Tensor:
    """Bool vector (units,): True where the unit was non-zero for some element of the batch.

    Units are ``x``'s ``channel_dim`` (conv channels, linear features); for 1-D outputs
    the single dimension. Stays on the device. ``x`` is a rectifier's output (>= 0), so a
    unit is active iff its maximum is positive: one reduction pass, no temporary.
    """
    if x.dim() <= 1:
        return x.detach() > 0
    dims = [d for d in range(x.dim()) if d != channel_dim]
    return torch.amax(x.detach(), dim=dims) > 0
