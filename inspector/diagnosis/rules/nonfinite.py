"""NaN or Inf anywhere: the first step and the first layer where it appeared.

Once one value is NaN every later number is, so the only useful facts are where and when
it started: the first step, and at that step the earliest layer in forward order (for
activations) or the parameter that first got a non-finite gradient.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, sci

FIX = (
    "Look at the first layer and step named here: a too-high learning rate (lower it, or clip "
    "gradients with --clip 1.0), a log/sqrt/division of a value that can reach zero or go "
    "negative (add an epsilon or clamp), or inputs that already contain NaN/Inf. Mixed "
    "precision overflows are avoided with a GradScaler."
)

# (stat, role, what it counts)
SOURCES = [
    ("act_nan", "module", "NaN activations"),
    ("act_inf", "module", "infinite activations"),
    ("in_nan", "module", "NaN inputs to a norm layer"),
    ("in_inf", "module", "infinite inputs to a norm layer"),
    ("grad_nan", "module", "NaN activation gradients"),
    ("grad_inf", "module", "infinite activation gradients"),
    ("g_nan", "param", "NaN parameter gradients"),
    ("g_inf", "param", "infinite parameter gradients"),
]


def _source_first(hits: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Most likely origin first: non-finite activations spread forward (the earliest layer
    is the source), gradients spread backward (the latest layer is the source)."""
    forward = sorted(h for h in hits if "activations" in h[3] or "inputs" in h[3])
    backward = sorted((h for h in hits if h not in forward), key=lambda h: -h[1])
    return forward + backward


def amp_skipped_steps(view: RunView) -> set[int]:
    """Steps whose optimizer step a GradScaler skipped (scalar ``amp_skipped``)."""
    steps, values = view.reader.scalar("amp_skipped")
    return {int(s) for s, v in zip(steps, values, strict=True) if v > 0.5}


def nonfinite_values(view: RunView) -> list[Finding]:
    hits: list[tuple[int, int, str, str]] = []  # (step, layer order, layer, what)
    order = {name: i for i, name in enumerate(m.name for m in view.modules)}
    order.update({p.name: len(order) + i for i, p in enumerate(view.params)})
    params = {p.name for p in view.params}
    for stat, role, what in SOURCES:
        s = view.series(stat, role=role)
        if not s.layers:
            continue
        bad = np.nan_to_num(s.values, nan=0.0) > 0
        for li, si in zip(*np.nonzero(bad), strict=True):
            step = int(s.steps[si])
            hits.append((step, order.get(s.layers[li], 10**9), s.layers[li], what))
    # mixed precision: inf/NaN gradients at the steps a GradScaler skipped are its normal work
    skipped = amp_skipped_steps(view)
    hits = [h for h in hits if not (h[0] in skipped and "gradients" in h[3])]
    loss_steps, loss = view.reader.scalar("loss")
    bad_loss = loss_steps[~np.isfinite(loss)] if loss.size else np.zeros(0, np.int64)
    if not hits and bad_loss.size == 0:
        return []
    starts = [h[0] for h in hits]
    if bad_loss.size:
        starts.append(int(bad_loss[0]))
    first_step = min(starts)
    at_first = _source_first([h for h in hits if h[0] == first_step])
    if at_first:
        _, _, layer, what = at_first[0]
        where = f"in layer '{layer}' ({what})"
        layers = tuple(
            dict.fromkeys(view.param_module(h[2]) if h[2] in params else h[2] for h in at_first)
        )
    else:
        where, layers = "in the loss", ()
    steps_with = sorted({h[0] for h in hits} | {int(s) for s in bad_loss})
    last_good = view.reader.scalar("loss")
    finite = last_good[1][np.isfinite(last_good[1]) & (last_good[0] < first_step)]
    before = f" The last finite loss before it was {sci(float(finite[-1]))}." if finite.size else ""
    return [
        Finding(
            rule=RuleId.NONFINITE_VALUES,
            severity=Severity.ERROR,
            title=f"NaN/Inf from step {first_step} {where}",
            message=(
                f"Non-finite values first appeared at step {first_step} {where}; "
                f"{len(steps_with)} recorded step(s) contain NaN or Inf. Everything computed "
                f"after that is meaningless.{before}"
            ),
            layers=layers,
            steps=(first_step, steps_with[-1]),
            evidence={
                "first_step": first_step,
                "first_layer": layers[0] if layers else None,
                "kinds": sorted({h[3] for h in at_first}),
                "nonfinite_loss_steps": int(bad_loss.size),
                "steps_affected": len(steps_with),
            },
            fix=FIX,
            view=View.GRADIENT_FLOW,
        )
    ]
