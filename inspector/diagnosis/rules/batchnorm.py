"""BatchNorm problems: train/eval statistics mismatch, batches too small for statistics.

In training BN normalises with the batch's mean and variance, at evaluation with running
averages (Inside Deep Learning 6.2.1, DLwPT 8.5.2). When the batch statistics stay far from
the running ones (frozen or stale running stats, unrepresentative batches), the model seen
at test time differs from the one trained. Statistics from tiny batches are noisy.
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import RunView, nanmedian
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list, sci
from inspector.store import Series

GAP_FIX = (
    "Make the running statistics match training: keep BN layers in train() mode while "
    "training (a model.eval() or frozen BN during fine-tuning on new data is the usual cause), "
    "keep the default momentum, use larger or shuffled batches, and call model.eval() only "
    "for evaluation. When batches must stay small, use GroupNorm/LayerNorm (Inside Deep "
    "Learning 6.2.2)."
)
BATCH_FIX = (
    "Use a larger batch (32+ is typical; the seeds train with 128), or replace BatchNorm with "
    "LayerNorm/GroupNorm, which do not depend on the batch (Inside Deep Learning 6.2.2)."
)


def _settled(view: RunView, stat: str) -> Series:
    """The last third of the steps after the running averages' warm-up."""
    s = view.series(stat, role="module")
    keep = s.steps >= view.th.bn_warmup_steps
    s = Series(s.stat, s.steps[keep], s.layers, s.values[:, keep])
    return view.window(s, 1 / 3)


def batchnorm_gap(view: RunView) -> list[Finding]:
    th = view.th
    mean_gap = _settled(view, "bn_mean_gap")
    var_gap = _settled(view, "bn_var_gap")
    if not mean_gap.layers or mean_gap.steps.size == 0:
        return []
    m_med = dict(zip(mean_gap.layers, nanmedian(mean_gap.values, axis=1), strict=True))
    v_med = dict(zip(var_gap.layers, nanmedian(var_gap.values, axis=1), strict=True))
    bad = [
        n
        for n in mean_gap.layers
        if (m_med.get(n, 0) or 0) > th.bn_mean_gap or (v_med.get(n, 0) or 0) > th.bn_var_gap
    ]
    if not bad:
        return []
    worst = max(
        bad,
        key=lambda n: (m_med.get(n) or 0) / th.bn_mean_gap + (v_med.get(n) or 0) / th.bn_var_gap,
    )
    return [
        Finding(
            rule=RuleId.BATCHNORM_MISMATCH,
            severity=Severity.WARNING,
            title=f"BatchNorm train/eval mismatch in {len(bad)} layer(s)",
            message=(
                f"Over the last third of the run (after step {view.th.bn_warmup_steps}), the batch statistics of {layer_list(bad)} stay "
                f"far from the running statistics used at evaluation: worst '{worst}' with the "
                f"batch mean {sci(m_med.get(worst))} running std away (threshold "
                f"{th.bn_mean_gap}) and |log variance ratio| {sci(v_med.get(worst))} (threshold "
                f"{th.bn_var_gap}). The model evaluated is not the model trained."
            ),
            layers=tuple(bad),
            steps=view.step_range(mean_gap.steps),
            evidence={
                "mean_gap": {n: m_med.get(n) for n in bad},
                "var_gap": {n: v_med.get(n) for n in bad},
                "thresholds": {"bn_mean_gap": th.bn_mean_gap, "bn_var_gap": th.bn_var_gap},
            },
            fix=GAP_FIX,
            view=View.BATCHNORM,
        )
    ]


def batchnorm_batch_size(view: RunView) -> list[Finding]:
    s = view.series("bn_batch_size", role="module")
    if not s.layers:
        return []
    smallest = float(np.nanmin(s.values)) if np.isfinite(s.values).any() else np.nan
    if not np.isfinite(smallest) or smallest >= view.th.bn_min_batch:
        return []
    small = (np.nan_to_num(s.values, nan=np.inf) < view.th.bn_min_batch).any(axis=0)
    severity = Severity.ERROR if smallest < 2 else Severity.WARNING
    return [
        Finding(
            rule=RuleId.BATCHNORM_SMALL_BATCH,
            severity=severity,
            title=f"BatchNorm with batches of {int(smallest)}",
            message=(
                f"{len(s.layers)} BatchNorm layer(s) saw batches of {int(smallest)} example(s) "
                f"(below {view.th.bn_min_batch}): their batch mean and variance are noisy, so "
                "training is noisier and the running statistics used at evaluation are poor."
            ),
            layers=tuple(s.layers),
            steps=view.step_range(s.steps[small]),
            evidence={"min_batch_size": smallest, "threshold": view.th.bn_min_batch},
            fix=BATCH_FIX,
            view=View.BATCHNORM,
        )
    ]
