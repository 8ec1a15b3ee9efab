"""Vanishing and exploding gradients, from activation-gradient norms and update ratios.

Backpropagation multiplies the gradient by every layer's local derivative on its way to the
first layers; when those factors are mostly below one (saturating activations, small
default initialisation) the first layers get orders of magnitude less gradient than the
last ones and stop learning (Inside Deep Learning ch. 6.1.1; DLwPT ch. 8.5.3 "depth").
"""

from __future__ import annotations

import numpy as np

from inspector.diagnosis.context import TINY, RunView, nanmedian
from inspector.diagnosis.finding import Finding, RuleId, Severity, View, layer_list, sci

VANISHING_FIX = (
    "Shorten the product of small derivatives: replace sigmoid/tanh with ReLU or LeakyReLU "
    "(Inside Deep Learning 6.1.2), add BatchNorm after each linear/conv layer (6.2), add "
    "residual skip connections so the gradient has a direct path to the first layers (6.5, "
    "DLwPT 8.5.3 NetRes), and use Kaiming/Xavier initialisation instead of the default "
    "(DLwPT 8.5.3 'initialization')."
)
EXPLODING_FIX = (
    "Scale the gradient back: lower the learning rate, clip the gradient norm "
    "(--clip 1.0 / torch.nn.utils.clip_grad_norm_), use a smaller initialisation (Kaiming/"
    "Xavier rather than large random weights), and add BatchNorm or residual connections to "
    "keep activations in range (DLwPT 8.5.2, Inside Deep Learning 6.2)."
)


def _cause(view: RunView) -> tuple[str, dict]:
    """Whether saturation explains the vanishing gradient (the seeds' 50% rule)."""
    sat = view.saturated
    if sat:
        return (
            f" Saturation is the likely cause: {len(sat)} bounded-activation layer(s) "
            f"({layer_list(list(sat))}) have half or more of their outputs at an asymptote, "
            "where their derivative is ~0.",
            {"saturated_layers": sat},
        )
    dead = view.blocking_dead_layers
    if dead:
        return (
            f" A dead ReLU layer blocks it: every unit of {layer_list(dead)} outputs zero, so "
            "no gradient passes to the layers below (see the dead-units finding).",
            {"saturated_layers": {}, "dead_layers": dead},
        )
    bounded = view.bounded_layers
    if bounded:
        s = view.series("act_sat_frac", role="module")
        worst = float(np.nanmax(nanmedian(s.values, axis=1))) if s.layers else 0.0
        return (
            f" The units are not saturated (at most {worst:.0%} of any bounded layer's outputs "
            "sit at an asymptote), so saturation is not the cause: the shrinkage comes from "
            "the chain of derivatives below one through many layers (sigmoid's slope is at "
            "most 0.25, tanh's at most 1) and small default initial weights.",
            {"saturated_layers": {}, "max_saturated_frac": worst},
        )
    return (
        " The derivatives and weights along the chain multiply to less than one per layer.",
        {"saturated_layers": {}},
    )


def _norm(x: float) -> str:
    """A gradient norm for messages: "0" for an exactly-zero (floored) one."""
    return "0" if x <= TINY * 1.0001 else sci(x)


def _stuck_note(view: RunView) -> tuple[str, dict]:
    """The loss evidence when a loss stuck at chance decided the finding."""
    lv = view.loss_level
    if lv is None:
        return "", {}
    where = (
        f"the loss of guessing among {view.num_classes} classes, ln {view.num_classes} = "
        f"{lv.chance:.3g}"
        if lv.chance is not None
        else "where it started"
    )
    return (
        f" The training loss stays at {where}: median {sci(lv.first)} over the first "
        f"{lv.window} steps, {sci(lv.last)} over the last {lv.window}, so the network learns "
        "nothing.",
        {"loss_first": lv.first, "loss_last": lv.last, "chance_loss": lv.chance},
    )


def vanishing_gradients(view: RunView) -> list[Finding]:
    th = view.th
    p = view.gradient_profile
    findings = []
    level = view.vanishing_level
    if level is not None and p is not None:  # a vanishing level implies a profile
        last_ref = p.last_norm
        with np.errstate(all="ignore"):
            rel = p.median_norms / last_ref
        limit = th.vanishing_stuck if level.reason == "stuck" else th.vanishing_warn
        weak = [n for n, r in zip(p.layers, rel, strict=True) if r < limit]
        severity = Severity(level.severity)
        bad_steps = p.steps[np.isfinite(p.ratios) & (p.ratios < limit)]
        cause, cause_ev = _cause(view)
        stuck, stuck_ev = _stuck_note(view) if level.reason == "stuck" else ("", {})
        findings.append(
            Finding(
                rule=RuleId.VANISHING_GRADIENTS,
                severity=severity,
                title=(
                    "Vanishing gradients: no gradient reaches the first layers"
                    if p.first_norm <= TINY * 1.0001
                    else f"Vanishing gradients: first layers get {sci(p.ratio)} of the last "
                    "layers' gradient"
                )
                + (" and the loss does not fall" if stuck else ""),
                message=(
                    f"The activation-gradient norm of the first layers ({layer_list(p.first)}: "
                    f"{_norm(p.first_norm)}) is {sci(p.ratio)} times that of the last layers "
                    f"({layer_list(p.last)}: {_norm(p.last_norm)}), median over {p.steps.size} "
                    f"recorded steps; {len(weak)} of {len(p.layers)} layers get less than "
                    f"{sci(limit)} of the output layers' gradient, so they barely learn."
                    f"{stuck}{cause}"
                ),
                layers=tuple(weak),
                steps=view.step_range(bad_steps),
                evidence={
                    "ratio": p.ratio,
                    "first_layers": p.first,
                    "last_layers": p.last,
                    "first_grad_norm": p.first_norm,
                    "last_grad_norm": p.last_norm,
                    "grad_norm_median": dict(zip(p.layers, p.median_norms.tolist(), strict=True)),
                    "threshold": limit,
                    "criterion": level.reason,
                    **stuck_ev,
                    **cause_ev,
                },
                fix=VANISHING_FIX,
                view=View.GRADIENT_FLOW,
            )
        )
        return findings
    lag = _update_lag(view)
    if lag is not None:
        findings.append(lag)
    return findings


def _update_lag(view: RunView) -> Finding | None:
    """First weight layers' update ratio far below the rest (e.g. hidden by Adam)."""
    th = view.th
    got = view.update_share
    if got is None or got[0] >= th.update_lag:
        return None
    share, names, first, ref = got
    cause, cause_ev = _cause(view)
    return Finding(
        rule=RuleId.VANISHING_GRADIENTS,
        severity=Severity.WARNING,
        title=f"First layers barely move: update ratio {sci(share)} of the rest's",
        message=(
            f"The update-to-weight ratio of the first weight layers ({layer_list(names)}, "
            f"{sci(float(np.max(first)))}) is {sci(share)} of the other layers' median "
            f"({sci(ref)}): the gradient reaching them is too small for them to learn.{cause}"
        ),
        layers=tuple(view.param_module(n) for n in names),
        steps=view.step_range(view.steps),
        evidence={
            "update_ratio_share": share,
            "first_update_ratio": dict(zip(names, first.tolist(), strict=True)),
            "rest_median": ref,
            **cause_ev,
        },
        fix=VANISHING_FIX,
        view=View.GRADIENT_FLOW,
    )


def exploding_gradients(view: RunView) -> list[Finding]:
    th = view.th
    findings = []
    p = view.gradient_profile
    if p is not None and np.isfinite(p.ratio) and p.ratio > th.exploding_warn:
        severity = Severity.ERROR if p.ratio > th.exploding_error else Severity.WARNING
        last_ref = p.last_norm
        big = [
            n
            for n, v in zip(p.layers, p.median_norms, strict=True)
            if v / last_ref > th.exploding_warn
        ]
        bad = p.steps[np.isfinite(p.ratios) & (p.ratios > th.exploding_warn)]
        findings.append(
            Finding(
                rule=RuleId.EXPLODING_GRADIENTS,
                severity=severity,
                title=f"Exploding gradients: first layers get {sci(p.ratio)}x the last layers' "
                "gradient",
                message=(
                    f"The activation-gradient norm grows by a factor {sci(p.ratio)} from the last "
                    f"layers ({layer_list(p.last)}) back to the first ({layer_list(p.first)}): "
                    "each layer amplifies the gradient, so the first layers take huge, unstable "
                    "steps."
                ),
                layers=tuple(big),
                steps=view.step_range(bad),
                evidence={
                    "ratio": p.ratio,
                    "first_layers": p.first,
                    "last_layers": p.last,
                    "threshold": th.exploding_warn,
                },
                fix=EXPLODING_FIX,
                view=View.GRADIENT_FLOW,
            )
        )
    growth = _growth(view)
    if growth is not None:
        findings.append(growth)
    return findings


def _growth(view: RunView) -> Finding | None:
    """The total parameter-gradient norm rising far above where it started."""
    s = view.series("g_norm", role="param")
    if not s.layers or s.steps.size < 4:
        return None
    with np.errstate(all="ignore"):
        total = np.sqrt(np.nansum(np.square(s.values), axis=0))
    seen = np.isfinite(s.values).any(axis=0)
    total, steps = total[seen], s.steps[seen]
    if total.size < 4:
        return None
    start = float(np.median(total[: max(2, total.size // 10)]))
    peak_i = int(np.argmax(total))
    peak = float(total[peak_i])
    if start <= 0 or peak / start < view.th.grad_growth:
        return None
    return Finding(
        rule=RuleId.EXPLODING_GRADIENTS,
        severity=Severity.ERROR,
        title=f"Gradient norm grew {sci(peak / start)}x during training",
        message=(
            f"The total parameter-gradient norm went from {sci(start)} at the start to "
            f"{sci(peak)} at step {int(steps[peak_i])}: training is becoming unstable."
        ),
        layers=(),
        steps=(int(steps[0]), int(steps[peak_i])),
        evidence={
            "start_norm": start,
            "peak_norm": peak,
            "growth": peak / start,
            "threshold": view.th.grad_growth,
        },
        fix=EXPLODING_FIX,
        view=View.GRADIENT_FLOW,
    )
