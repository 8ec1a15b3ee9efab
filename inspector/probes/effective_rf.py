"""Effective receptive field (Luo et al. 2016): where a centre unit actually looks.

The theoretical receptive field says which input pixels *can* reach a unit; the effective one
is the gradient of that unit with respect to the input, averaged over real data. It is roughly
Gaussian and much narrower than the theoretical field, and it grows with training. This probe
returns the normalised (H, W) map and the radius around its centre holding a share of the mass.

One-off probe: host syncs are allowed (marked ``# sync-ok``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from inspector.errors import InspectorError
from inspector.probes.temporary_hooks import TemporaryHooks

#: Module types that count as "conv-ish" spatial layers for the default ERF layer.
SPATIAL_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv2d,
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.LPPool2d,
)


@dataclass(frozen=True)
class ERFResult:
    """One effective receptive field: the map and its size."""

    layer: str
    erf: np.ndarray  # (H, W) float32, sums to 1
    mass_share: float
    erf_radius: float
    erf_size: float  # 2 * radius + 1 (interpolated, not an integer), vs a theoretical rf
    center: tuple[float, float]  # gradient-mass centroid (row, col) in input pixels
    output_shape: tuple[int, ...]  # (C, h, w) of the layer
    unit: tuple[int, int]  # the centre unit's (row, col) in the layer output

    def to_record(self, phase: str, theoretical_rf: list[int] | None = None) -> dict:
        """The ``record("erf", layer)`` document of docs/RECORDS.md."""
        h, w = self.erf.shape
        return {
            "layer": self.layer,
            "phase": phase,
            "theoretical_rf": theoretical_rf,
            "mass_share": self.mass_share,
            "erf_radius": round(self.erf_radius, 4),
            "erf_size": round(self.erf_size, 4),
            "radius_metric": "chebyshev",  # a square of side erf_size, like theoretical_rf
            "center": [round(c, 4) for c in self.center],
            "input_size": [h, w],
            "unit": list(self.unit),
            "output_shape": list(self.output_shape),
        }


class _Captured(Exception):
    """Raised from the forward hook to stop the forward once the layer output is in hand."""


def _first_tensor(value) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = _first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        return _first_tensor(list(value.values()))
    return None


def spatial_layers(model: nn.Module, example: torch.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """Conv-ish leaf modules with 4-D outputs, in the order the forward calls them.

    Adaptive (global) pools are left out: their units see the whole input by construction.
    """
    names = {id(m): n for n, m in model.named_modules()}
    order: list[tuple[str, tuple[int, ...]]] = []
    seen: set[str] = set()

    def hook(module, inputs, output):
        out = _first_tensor(output)
        name = names[id(module)]
        if out is not None and out.dim() == 4 and name not in seen:
            seen.add(name)
            order.append((name, tuple(out.shape[1:])))

    spatial = [m for m in model.modules() if isinstance(m, SPATIAL_TYPES)]
    with TemporaryHooks().forward(spatial, hook), _eval_no_param_grad(model), torch.no_grad():
        model(example)
    return order


def default_erf_layer(model: nn.Module, example: torch.Tensor) -> str:
    """The last conv-ish spatial layer the forward calls (i.e. the one before global pooling)."""
    layers = spatial_layers(model, example)
    if not layers:
        raise InspectorError(
            f"{type(model).__name__} has no Conv2d/pooling layer with a spatial (N, C, H, W) "
            "output; the effective receptive field needs one (pass layer=NAME)"
        )
    return layers[-1][0]


@contextmanager
def _eval_no_param_grad(model: nn.Module) -> Iterator[None]:
    """Eval mode and frozen parameters for the duration; both restored exactly afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in model.parameters()]
    model.eval()
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


def _layer_output(model: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer's first output, stopping the forward there.

    Stopping at once means later in-place ops (``ReLU(inplace=True)``, ``out += identity``)
    never touch the captured tensor, so its autograd graph is exactly the layer's.
    """
    captured: list[torch.Tensor] = []

    def hook(module, inputs, output):
        out = _first_tensor(output)
        if out is not None:
            captured.append(out)
            raise _Captured

    with TemporaryHooks().forward([layer], hook):
        try:
            model(x)
        except _Captured:
            pass
    if not captured:
        raise InspectorError("the chosen ERF layer was not called by the model's forward")
    return captured[0]


def erf_radius(
    erf: np.ndarray, mass_share: float = 0.95, center: tuple[float, float] | None = None
) -> tuple[float, tuple[float, float]]:
    """(radius, centre): smallest radius around ``center`` holding ``mass_share`` of the mass.

    Distances are Chebyshev (max(|dy|, |dx|)): the theoretical field is a square box, so a
    square "radius" makes ``2 * radius + 1`` directly comparable with it. (A Euclidean disc
    must reach into the corners to hold 95% of a near-uniform field, and would come out
    larger than the theoretical size it is compared with.) The centre defaults to the mass
    centroid. Pixels come in shells of equal distance, so the mass inside a square is a step
    function of its radius; the radius is interpolated linearly between successive shells
    (mass assumed to grow evenly from one shell to the next), a continuous size rather than
    the next shell's distance (which would round ``2 * radius + 1`` up to an odd integer).
    """
    total = float(erf.sum())
    if not total > 0:
        raise InspectorError("the ERF map has no gradient mass (all-zero gradients)")
    p = erf.astype(np.float64) / total
    rows, cols = np.indices(p.shape, dtype=np.float64)
    if center is None:
        center = (float((rows * p).sum()), float((cols * p).sum()))
    dist = np.maximum(np.abs(rows - center[0]), np.abs(cols - center[1])).ravel()
    levels, shell = np.unique(np.round(dist, 9), return_inverse=True)
    cum = np.cumsum(np.bincount(shell, weights=p.ravel(), minlength=len(levels)))
    k = min(int(np.searchsorted(cum, mass_share - 1e-12)), len(levels) - 1)
    if k == 0:
        return float(levels[0]), center
    frac = (mass_share - cum[k - 1]) / max(cum[k] - cum[k - 1], 1e-300)
    frac = min(max(frac, 0.0), 1.0)
    return float(levels[k - 1] + frac * (levels[k] - levels[k - 1])), center


def effective_rf(
    model: nn.Module,
    images: torch.Tensor,
    layer: str | None = None,
    channel: int | None = None,
    mass_share: float = 0.95,
) -> ERFResult:
    """Effective receptive field of the centre unit of ``layer`` over the batch ``images``.

    ``layer`` names any module (default: ``default_erf_layer``); the centre unit's output is
    summed over channels unless ``channel`` picks one. |d unit / d input| is averaged over the
    batch and the input channels and normalised to sum 1. The model runs in eval mode (so
    samples do not mix through BatchNorm) with parameter gradients off; its mode and
    ``requires_grad`` flags are restored, and no ``.grad`` is written.
    """
    if images.dim() != 4:
        raise InspectorError(
            f"ERF needs image batches (N, C, H, W); got shape {tuple(images.shape)}"
        )
    if not 0 < mass_share <= 1:
        raise InspectorError(f"mass_share must be in (0, 1]; got {mass_share}")
    modules = dict(model.named_modules())
    name = layer if layer is not None else default_erf_layer(model, images[:1])
    if name not in modules:
        raise InspectorError(
            f"no module named {name!r} in {type(model).__name__}; "
            f"choose one of {list(modules)[1:12]}..."
        )
    with _eval_no_param_grad(model), torch.enable_grad():
        leaf = images.detach().clone().requires_grad_(True)
        out = _layer_output(model, modules[name], leaf.clone())  # clone: in-place-safe input
        if out.dim() != 4:
            raise InspectorError(
                f"layer {name!r} outputs shape {tuple(out.shape)}; the ERF "
                "needs a spatial (N, C, H, W) output"
            )
        ci, cj = out.shape[2] // 2, out.shape[3] // 2
        unit = out[:, :, ci, cj] if channel is None else out[:, channel, ci, cj]
        (grad,) = torch.autograd.grad(unit.sum(), leaf, allow_unused=True)
    if grad is None:
        raise InspectorError(f"layer {name!r} does not depend on the input")
    erf = grad.detach().abs().float().mean(dim=(0, 1))
    erf_np = erf.cpu().numpy()  # sync-ok: one-off probe
    total = erf_np.sum(dtype=np.float64)
    if not total > 0:
        raise InspectorError(f"layer {name!r}: the centre unit's gradient is zero for this batch")
    erf_np = (erf_np / total).astype(np.float32)
    radius, center = erf_radius(erf_np, mass_share)
    return ERFResult(
        layer=name,
        erf=erf_np,
        mass_share=mass_share,
        erf_radius=radius,
        erf_size=2 * radius + 1,
        center=center,
        output_shape=tuple(out.shape[1:]),
        unit=(ci, cj),
    )
