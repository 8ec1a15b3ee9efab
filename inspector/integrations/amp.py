"""Mixed precision: record true (unscaled) gradients and mark the steps a GradScaler skipped.

Under ``GradScaler`` the loss is multiplied by the scale S before ``backward()``, so every
activation gradient a tensor hook sees is S times the true one. The gradient hook divides
it by the scaler's scale tensor before summarising (a device op, no host sync): every
statistic and histogram is then the true one whatever the summary's internal layout.
(Parameter ``.grad`` is unscaled in place by ``scaler.step``/``unscale_`` before
``rec.step()`` reads it.) The tracker also keeps, on the device, the scale the step's
backward used: the scale after the previous ``scaler.update()``. At ``rec.step()`` it
compares it with the current scale: ``update()`` lowers the scale exactly when it found
inf/NaN gradients and skipped ``optimizer.step()``. Call ``rec.step()`` after
``scaler.update()``.
"""

from __future__ import annotations

from typing import Any

import torch

AMP_SCALE = "amp_scale"  # scalar: the loss scale this step's backward used
AMP_SKIPPED = "amp_skipped"  # scalar: 1.0 when the scaler skipped the optimizer step


class LossScaleTracker:
    """Follows a ``torch.amp.GradScaler`` (or any object with ``get_scale()``) step by step."""

    def __init__(self, scaler: Any) -> None:
        self.scaler = scaler
        self._used = self._current()  # None until the scaler's first scale() call

    def _enabled(self) -> bool:
        is_enabled = getattr(self.scaler, "is_enabled", None)
        return bool(is_enabled()) if callable(is_enabled) else True

    def _current(self) -> torch.Tensor | None:
        scale = getattr(self.scaler, "_scale", None)
        if isinstance(scale, torch.Tensor):  # GradScaler: a device tensor, read without sync
            return scale.detach().reshape(-1)[:1].float().clone()
        if not self._enabled() or scale is None and hasattr(self.scaler, "_init_scale"):
            return None
        return torch.tensor([float(self.scaler.get_scale())])  # a scaler-like object

    def unscale(self, grad: torch.Tensor) -> torch.Tensor:
        """``grad / S`` in float32 (in a hook: no host sync). The scaler's current scale is
        the one this backward used: only ``update()``, after backward, changes it."""
        if not self._enabled():
            return grad
        scale = getattr(self.scaler, "_scale", None)
        if not isinstance(scale, torch.Tensor):
            scale = float(self.scaler.get_scale())  # a scaler-like object keeps a float
        return grad.float() / scale

    def finish_step(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(scale this step's backward used, 1.0 if the step was skipped) as 1-element device
        tensors; None when the scaler is disabled or was never used."""
        if not self._enabled():
            return None
        now = self._current()
        if now is None:
            return None
        used = self._used
        if used is None:  # first step: the scaler started at its initial scale
            used = torch.full_like(now, float(getattr(self.scaler, "_init_scale", now)))
        skipped = (now < used).float()
        self._used = now
        return used, skipped


def amp_step(tracker: LossScaleTracker) -> dict[str, torch.Tensor]:
    """At ``rec.step()``: the scalars ``amp_scale`` and ``amp_skipped`` to store."""
    result = tracker.finish_step()
    if result is None:
        return {}
    used, skipped = result
    return {AMP_SCALE: used, AMP_SKIPPED: skipped}
