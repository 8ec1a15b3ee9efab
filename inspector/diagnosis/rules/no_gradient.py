"""Parameters that never receive a gradient: an unused branch, or accidental freezing.

A trainable parameter with no gradient at any recorded step is not on the path from the
input to the loss (a layer built but never called in forward, a branch whose output is
dropped, a tensor detached by .data/.detach()/numpy). One whose gradient is always exactly
zero is on the path but blocked (dead ReLU layer, a multiplication by zero). A tiny gradient
(1e-25 is recorded as 1e-25, not 0) is not zero: vanishing gradients are their own finding. Frozen
parameters (requires_grad False) are reported as information: often intended
(fine-tuning), sometimes not.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list

FIX = (
    "Check forward(): every layer built in __init__ should be used, and nothing on the path "
    "to the loss should go through .detach(), .data, .item() or numpy. Delete modules you do "
    "not use. Parameters with only zero gradients sit below a blocked path: see the "
    "dead-units and vanishing-gradient findings."
)
FROZEN_FIX = (
    "If unintended, set requires_grad=True on these parameters (and pass them to the optimizer)."
)


def no_gradient(view: RunView) -> list[Finding]:
    s = view.series("g_norm", role="param")
    if not s.layers:
        return []
    recorded = np.isfinite(s.values).any(axis=0)
    if not recorded.any():
        return []  # no gradient recorded at all: nothing to compare with
    row = {n: s.values[i] for i, n in enumerate(s.layers)}
    info = {p.name: p.info for p in view.params}
    trainable = [p.name for p in view.params if p.info.get("trainable", True)]
    missing = [n for n in trainable if n not in row or not np.isfinite(row[n]).any()]
    zero = [n for n in trainable if n not in missing and np.nanmax(row[n]) == 0]
    frozen = [p.name for p in view.params if not p.info.get("trainable", True)]
    findings = []
    if missing or zero:
        names = missing + zero
        numel = sum(int(info[n].get("numel", 0)) for n in names)
        parts = []
        if missing:
            parts.append(
                f"{layer_list(missing)} never had a gradient: not on the path to the "
                "loss (unused layer or branch, or a detach)"
            )
        if zero:
            parts.append(
                f"{layer_list(zero)} only had gradients that are exactly zero (not merely "
                "tiny: those are the vanishing-gradient finding): the path to them is blocked"
            )
        findings.append(
            Finding(
                rule=RuleId.NO_GRADIENT,
                severity=Severity.WARNING,
                title=f"{len(names)} trainable parameter(s) never got a gradient",
                message=(
                    f"Over {int(recorded.sum())} recorded steps, {'; '.join(parts)}. "
                    f"These {numel:,} values never learn."
                ),
                layers=tuple(dict.fromkeys(view.param_module(n) for n in names)),
                steps=view.step_range(s.steps[recorded]),
                evidence={"no_grad": missing, "zero_grad": zero, "numel": numel},
                fix=FIX,
                view=View.GRADIENT_FLOW,
            )
        )
    if frozen:
        numel = sum(int(info[n].get("numel", 0)) for n in frozen)
        findings.append(
            Finding(
                rule=RuleId.FROZEN_PARAMETERS,
                severity=Severity.INFO,
                title=f"{len(frozen)} parameter(s) are frozen (requires_grad=False)",
                message=f"{layer_list(frozen)} ({numel:,} values) are frozen and do not train.",
                layers=tuple(dict.fromkeys(view.param_module(n) for n in frozen)),
                steps=(),
                evidence={"params": frozen, "numel": numel},
                fix=FROZEN_FIX,
                view=View.OVERVIEW,
            )
        )
    return findings
