"""Learning rate too high or too low, judged by the update-to-weight ratio.

||dw|| / ||w|| per optimizer step of weight matrices and kernels: around 1e-3 is the usual
healthy value (CS231n, "ratio of weights:updates"). Far above, weights are rewritten each
step and training is unstable; far below, even the layers that get the most gradient barely
move. Judged on the median over layers (too high) and on the best-updated layers (too low),
so that vanishing gradients in the first layers are not mistaken for a low learning rate.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list, sci

HIGH_FIX = (
    "Lower the learning rate about {factor}x (e.g. --lr {lr}); DLwPT 8.5.3 trains its deep "
    "residual network at 3e-3 instead of 1e-2 for this reason. Gradient clipping (--clip 1.0) "
    "or a warm-up also helps."
)
LOW_FIX = (
    "Raise the learning rate about {factor}x (e.g. --lr {lr}), or use Adam, which scales "
    "steps per parameter."
)


def _lr(view: RunView) -> float | None:
    hp = view.reader.meta.get("hparams") or {}
    lr = hp.get("lr")
    if lr is None:
        _, values = view.reader.scalar("lr")
        lr = float(values[-1]) if values.size else None
    return float(lr) if lr else None


def learning_rate(view: RunView) -> list[Finding]:
    th = view.th
    ratios = view.weight_update_ratios
    if not ratios:
        return []
    values = np.array(list(ratios.values()))
    median = float(np.median(values))
    p90 = float(np.percentile(values, 90))
    lr = _lr(view)
    lr_text = f" (learning rate {sci(lr)})" if lr else ""
    evidence = {
        "median_update_ratio": median,
        "p90_update_ratio": p90,
        "healthy": th.lr_healthy,
        "lr": lr,
        "update_ratio": {k: v for k, v in ratios.items()},
    }
    if median > th.lr_high_warn:
        factor = median / th.lr_healthy
        high = [n for n, v in ratios.items() if v > th.lr_high_warn]
        return [
            Finding(
                rule=RuleId.LEARNING_RATE_HIGH,
                severity=Severity.ERROR if median > th.lr_high_error else Severity.WARNING,
                title=f"Learning rate too high: weights change {sci(median)} of their norm per step",
                message=(
                    f"The median update-to-weight ratio over {len(ratios)} weight layers is "
                    f"{sci(median)}{lr_text}, about {sci(factor)}x the healthy ~{sci(th.lr_healthy)}"
                    f"; fastest-moving: {layer_list(high)}."
                ),
                layers=tuple(view.param_module(n) for n in high),
                steps=view.step_range(view.steps),
                evidence=evidence,
                fix=HIGH_FIX.format(
                    factor=sci(min(factor, 100)), lr=sci(lr / min(factor, 100)) if lr else "smaller"
                ),
                view=View.GRADIENT_FLOW,
            )
        ]
    blocked = view.vanishing or view.blocking_dead_layers
    if p90 < th.lr_low_warn and not blocked:  # blocked gradients are not a learning-rate issue
        factor = th.lr_healthy / max(p90, 1e-30)
        return [
            Finding(
                rule=RuleId.LEARNING_RATE_LOW,
                severity=Severity.WARNING,
                title=f"Learning rate too low: weights change {sci(p90)} of their norm per step",
                message=(
                    f"Even the most-updated weight layers move only {sci(p90)} of their norm per "
                    f"step (90th percentile over {len(ratios)} layers){lr_text}, far below the "
                    f"healthy ~{sci(th.lr_healthy)}: training will be very slow."
                ),
                layers=(),
                steps=view.step_range(view.steps),
                evidence=evidence,
                fix=LOW_FIX.format(
                    factor=sci(min(factor, 100)), lr=sci(lr * min(factor, 100)) if lr else "larger"
                ),
                view=View.GRADIENT_FLOW,
            )
        ]
    return []
