"""Asymptotes of bounded activation functions, for the saturation fraction.

The seeds' rule of thumb: if half of a sigmoid layer's outputs lie within 0.01 of 0 or 1,
saturation is why gradients vanish. We generalise to every bounded activation: an output is
saturated when it lies within ``tolerance * (hi - lo)`` of either asymptote.
"""

from __future__ import annotations

from torch import nn

_FIXED_BOUNDS: dict[type[nn.Module], tuple[float, float]] = {
    nn.Sigmoid: (0.0, 1.0),
    nn.Tanh: (-1.0, 1.0),
    nn.Softsign: (-1.0, 1.0),
    nn.Hardsigmoid: (0.0, 1.0),
    nn.ReLU6: (0.0, 6.0),
}


def activation_bounds(module: nn.Module) -> tuple[float, float] | None:
    """(lo, hi) asymptotes of a bounded activation module, or None if unbounded."""
    for cls, bounds in _FIXED_BOUNDS.items():
        if isinstance(module, cls):
            return bounds
    if isinstance(module, nn.Hardtanh):  # ReLU6 is a Hardtanh subclass, handled above
        return (float(module.min_val), float(module.max_val))
    return None


def can_die(module: nn.Module) -> bool:
    """True for rectifier-like activations whose units may be dead (always zero)."""
    return isinstance(module, (nn.ReLU, nn.ReLU6))
