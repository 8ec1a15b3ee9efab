"""Saturated bounded activations (sigmoid, tanh, hardtanh, ReLU6...).

The seeds' rule (Inside Deep Learning ch. 6.1.1): when half of a sigmoid layer's outputs
lie within 0.01 of 0 or 1, the layer is saturated; its derivative there is ~0, so it blocks
the gradient of every layer below it. Linked to the vanishing-gradient finding when both
occur, since saturation is then its cause.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list, sci

FIX = (
    "Keep pre-activations in the linear range: add BatchNorm before the activation "
    "(DLwPT 8.5.2 'keeping activations in check'), use a smaller initialisation (Xavier "
    "for tanh/sigmoid), normalise the inputs, or switch to ReLU/LeakyReLU, which does not "
    "saturate for positive inputs (Inside Deep Learning 6.1.2)."
)


def saturation(view: RunView) -> list[Finding]:
    sat = view.saturated
    if not sat:
        return []
    s = view.series("act_sat_frac", role="module")
    rows = [s.layers.index(n) for n in sat]
    hit = (np.nan_to_num(s.values[rows], nan=0.0) >= view.th.saturation_frac).any(axis=0)
    linked = view.vanishing
    worst = max(sat, key=lambda n: sat[n])
    link = (
        " This is why gradients vanish in this run (see the vanishing-gradient finding): "
        "saturated units pass almost no gradient back."
        if linked
        else " Gradients still reach the first layers for now, but saturated units learn slowly."
    )
    return [
        Finding(
            rule=RuleId.SATURATION,
            severity=Severity.ERROR if linked else Severity.WARNING,
            title=f"Saturated activations in {len(sat)} layer(s) (up to {sat[worst]:.0%})",
            message=(
                f"{len(sat)} of {len(view.bounded_layers)} bounded-activation layers have at least "
                f"{view.th.saturation_frac:.0%} of their outputs within 1% of an asymptote "
                f"(median over steps): {layer_list(list(sat))}; worst '{worst}' at "
                f"{sat[worst]:.0%}.{link}"
            ),
            layers=tuple(sat),
            steps=view.step_range(s.steps[hit]),
            evidence={
                "saturated_frac": sat,
                "threshold": view.th.saturation_frac,
                "with_vanishing_gradients": linked,
                "worst": sci(sat[worst]),
            },
            fix=FIX,
            view=View.ACTIVATIONS,
        )
    ]
