"""Dead ReLU units: units that never produce a non-zero output over a window of steps.

A ReLU unit whose input is negative for every example gets zero gradient and can never
recover (Inside Deep Learning ch. 6.1.2). A few are harmless in a wide layer; a layer
mostly dead wastes capacity, and a fully dead layer stops all gradient below it.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView, nanmedian
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list

FIX = (
    "Use LeakyReLU (alpha 0.01-0.3, Inside Deep Learning 6.1.2) so negative inputs still pass "
    "a gradient, lower the learning rate (large steps push biases far negative), check the "
    "initialisation of biases, and add BatchNorm before the ReLU to keep its input centred."
)


def dead_units(view: RunView) -> list[Finding]:
    th = view.th
    shares: dict[str, float] = {}
    window_steps = np.zeros(0, np.int64)
    for name, (share, steps) in view.dead_shares.items():
        if share >= th.dead_warn:
            shares[name] = share
            window_steps = steps
    if not shares:
        return []
    worst = max(shares, key=lambda n: shares[n])
    severity = Severity.ERROR if shares[worst] >= th.dead_error else Severity.WARNING
    frac = view.series("dead_frac", role="module")
    med = {
        n: float(v)
        for n, v in zip(
            frac.layers, nanmedian(frac.values, axis=1) if frac.layers else [], strict=True
        )
    }
    return [
        Finding(
            rule=RuleId.DEAD_UNITS,
            severity=severity,
            title=f"Dead ReLU units: {shares[worst]:.0%} of '{worst}' never fire",
            message=(
                f"In {len(shares)} ReLU layer(s) ({layer_list(list(shares))}) at least "
                f"{th.dead_warn:.0%} of the units produced no non-zero output for any example over "
                f"the last {window_steps.size} recorded steps; worst '{worst}' with "
                f"{shares[worst]:.0%} dead. Dead units get no gradient and never recover"
                + (
                    ", and a fully dead layer blocks the gradient to every layer below it."
                    if severity == Severity.ERROR
                    else "."
                )
            ),
            layers=tuple(shares),
            steps=view.step_range(window_steps),
            evidence={
                "dead_share": shares,
                "dead_frac_median": {n: med.get(n) for n in shares},
                "threshold": th.dead_warn,
                "window_steps": int(window_steps.size),
            },
            fix=FIX,
            view=View.ACTIVATIONS,
        )
    ]
