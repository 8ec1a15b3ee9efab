"""The loss curve: not decreasing, or diverging.

Compares the median loss of the first and the last quarter of the steps (medians, because
per-batch losses are noisy). A flat loss is a warning when a gradient-flow or learning-rate
finding explains it, else information (a short run may sit on its first plateau). Non-finite losses are left to the NaN/Inf rule; only the
finite part of the curve is judged here.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, sci

FLAT_FIX = (
    "Check the gradient-flow findings first (vanishing gradients, dead units, saturation); "
    "then the learning rate (try 3x larger and 3x smaller), the labels and the loss function. "
    "A short diagnosis run may simply be too short: try more --steps."
)
DIVERGE_FIX = (
    "Lower the learning rate (3-10x), clip gradients (--clip 1.0), and add BatchNorm or "
    "residual connections if the model is deep (DLwPT 8.5.2-8.5.3)."
)


def _explained(view: RunView) -> str:
    """The gradient-flow or learning-rate problem that explains a flat loss, if any."""
    if view.vanishing:
        return "see the vanishing-gradient finding"
    if view.blocking_dead_layers:
        return "see the dead-units finding"
    if view.saturated:
        return "see the saturation finding"
    ratios = list(view.weight_update_ratios.values())
    if ratios and float(np.percentile(ratios, 90)) < view.th.lr_low_warn:
        return "see the learning-rate finding"
    return ""


def loss_trend(view: RunView) -> list[Finding]:
    th = view.th
    steps, loss = view.scalar("loss")
    ok = np.isfinite(loss)
    steps, loss = steps[ok], loss[ok]
    if loss.size < th.loss_min_steps:
        return []
    k = max(2, int(np.ceil(loss.size * th.window)))
    first, last = float(np.median(loss[:k])), float(np.median(loss[-k:]))
    evidence = {
        "first_median": first,
        "last_median": last,
        "window_steps": k,
        "min_loss": float(loss.min()),
    }
    span = (int(steps[0]), int(steps[-1]))
    if last > th.loss_diverge * first and last > first + 1e-8:
        severe = last > th.loss_diverge_error * first
        return [
            Finding(
                rule=RuleId.LOSS_DIVERGING,
                severity=Severity.ERROR if severe else Severity.WARNING,
                title=f"Loss {'diverging' if severe else 'rising'}: {sci(first)} -> {sci(last)}",
                message=(
                    f"The median loss rose from {sci(first)} (first {k} steps) to {sci(last)} "
                    f"(last {k} steps), more than {th.loss_diverge_error if severe else th.loss_diverge}"
                    "x: training is "
                    + (
                        "diverging."
                        if severe
                        else "unstable (an early bump in a short run can "
                        "also look like this; a longer run tells)."
                    )
                ),
                layers=(),
                steps=span,
                evidence=evidence,
                fix=DIVERGE_FIX,
                view=View.OVERVIEW,
            )
        ]
    spike = _spike(view, steps, loss, evidence, span)
    if last >= (1 - th.loss_min_drop) * first:
        explained = _explained(view)
        return [
            Finding(
                rule=RuleId.LOSS_NOT_DECREASING,
                # a short run on a healthy network may still sit on its first plateau: only a
                # warning when a gradient-flow or learning-rate problem explains it
                severity=Severity.WARNING if explained else Severity.INFO,
                title=f"Loss not decreasing: {sci(first)} -> {sci(last)}",
                message=(
                    f"The median loss of the last {k} steps ({sci(last)}) is not below that of "
                    f"the first {k} ({sci(first)}) by at least {th.loss_min_drop:.0%}: the model "
                    f"is not learning over these {loss.size} steps"
                    + (
                        f" ({explained})."
                        if explained
                        else "; gradients flow normally, so it may only need more steps."
                    )
                ),
                layers=(),
                steps=span,
                evidence=evidence,
                fix=FLAT_FIX,
                view=View.OVERVIEW,
            ),
            *spike,
        ]
    return spike


def _spike(view: RunView, steps, loss, evidence: dict, span: tuple[int, int]) -> list[Finding]:
    """A loss that jumps far above where it started and comes back (not a steady rise)."""
    th = view.th
    start = float(np.min(loss[: th.loss_start_steps]))  # the loss before anything went wrong
    peak_at = int(np.argmax(loss))
    peak = float(loss[peak_at])
    if not (start > 0 and peak > th.loss_spike * start):
        return []
    return [
        Finding(
            rule=RuleId.LOSS_SPIKE,
            severity=Severity.WARNING,
            title=f"Loss spiked: {sci(start)} -> {sci(peak)} at step {int(steps[peak_at])}",
            message=(
                f"The loss started near {sci(start)} and jumped to {sci(peak)} "
                f"({peak / start:.1f}x) at step {int(steps[peak_at])} before coming back down: "
                "the updates overshoot, so the learning rate sits at the edge of stability and "
                "the steps after the spike are spent recovering rather than learning."
            ),
            layers=(),
            steps=span,
            evidence={**evidence, "start": start, "peak": peak, "peak_step": int(steps[peak_at])},
            fix=DIVERGE_FIX,
            view=View.OVERVIEW,
        )
    ]
