"""Every number a diagnosis rule compares against, with where it comes from.

Change any of them with ``Thresholds(name=value)`` (Python), ``diagnose_run(reader,
thresholds=...)``, or ``inspector diagnose ... --threshold name=value`` (CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from inspector.errors import InspectorError


@dataclass(frozen=True)
class Thresholds:
    """Limits of the diagnosis rules (see each field's comment for its rationale)."""

    # -- gradient flow (activation-gradient norms, first layers vs last layers) ------------
    # Share of module layers (at least one) averaged at each end of the network when the
    # first layers' gradient norm is compared with the last layers'. Raw norms, not per
    # element: a well-initialised network roughly preserves the gradient norm layer to layer
    # (He/Glorot init, DLwPT ch. 8 "initialization"), so orders of magnitude mean trouble.
    edge_fraction: float = 0.1
    # Vanishing: first/last gradient-norm ratio below this (two orders of magnitude) is a
    # warning, below ``vanishing_error`` (four orders) an error. Inside Deep Learning ch. 6.1.1
    # and DLwPT ch. 8.5.3: long chains of small derivatives make early layers stop learning.
    # ``vanishing_warn=0`` switches the gradient-norm criterion off (all of its limits).
    vanishing_warn: float = 1e-2
    vanishing_error: float = 1e-4
    # Between the two, the finding also needs corroboration: the first layers' update ratio
    # below ``vanishing_confirm`` of the rest's, or saturated / dead layers. A flatten ->
    # linear layer with a large fan-in shrinks the backward norm ~sqrt(fan_out / 3 fan_in)
    # under PyTorch's default init (a healthy LeNet-like CNN shows ~0.05) while its weights
    # still update normally.
    vanishing_confirm: float = 0.1
    # ...or the loss stays at chance (see ``chance_margin``): a network that has not left
    # the loss of guessing while its first layers get under ``vanishing_warn`` of the last
    # layers' gradient is an error, under ``vanishing_stuck`` (one order of magnitude) a
    # warning. Measured on the demo's plain tanh MLPs (width 64, shapes, 300 SGD steps): depth
    # 12 has a ratio of 1.1e-3 and depth 6 of 0.024, both stuck at ln 6; depth 2 (0.16) and
    # the residual / BatchNorm nets of every depth (0.6-6) train.
    vanishing_stuck: float = 0.1
    # ...or the first layers' median update-to-weight ratio below this share of the rest's
    # (they barely move while the rest trains; catches vanishing under adaptive optimizers).
    update_lag: float = 1e-2
    # Exploding: first/last ratio above these (mirror image of vanishing).
    exploding_warn: float = 1e2
    exploding_error: float = 1e4
    # ...or the total parameter-gradient norm growing this many times above its start.
    grad_growth: float = 1e3

    # -- saturation (Inside Deep Learning ch. 6.1.1) -----------------------------------------
    # "If half of the sigmoid outputs are within 0.01 of 0 or 1, saturation is the problem."
    # The 0.01 tolerance (relative to the activation's range) is applied when recording
    # (probes/saturation.py, stat act_sat_frac); this is the fraction of saturated outputs.
    saturation_frac: float = 0.5

    # -- dead ReLU units (Inside Deep Learning ch. 6.1.2) --------------------------------------
    # Share of a layer's units that produced no non-zero output for any example over the last
    # half of the recorded steps (or the last ``window``, if larger). Some dead units are
    # tolerable in a wide layer, half is a warning; a layer with (almost) all units dead
    # passes no gradient at all: error.
    dead_warn: float = 0.5
    dead_error: float = 0.99

    # -- BatchNorm (Inside Deep Learning ch. 6.2.1, DLwPT ch. 8.5.2) ----------------------------
    # Mean gap: |batch mean - running mean| in running standard deviations, averaged over
    # channels. With a representative batch it stays well below 0.5 (sampling noise of a
    # mean of n values is ~1/sqrt(n)); above, evaluation normalises very differently.
    bn_mean_gap: float = 0.5
    # Variance gap: |log(batch var / running var)|; 0.7 ~ a factor of two.
    bn_var_gap: float = 0.7
    # Running averages start at mean 0 / var 1 and, with the default momentum 0.1, keep
    # 0.9^30 ~ 4% of that start after 30 steps: gaps are only judged after this many steps.
    bn_warmup_steps: int = 30
    # BN statistics from tiny batches are noisy (Wu & He 2018, Group Normalization: BN's
    # error grows quickly below 16 images per batch); batch size 1 cannot be normalised.
    bn_min_batch: int = 16

    # -- learning rate from the update-to-weight ratio ------------------------------------------
    # ||dw|| / ||w|| per step of weight matrices/kernels; ~1e-3 is the usual healthy value
    # (Karpathy, CS231n "babysitting the learning process"). Median over layers above
    # ``lr_high_warn`` (100x) warns, above ``lr_high_error`` (weights replaced each step) errs;
    # the best-updated layers (90th percentile) below ``lr_low_warn`` (100x less) warn.
    lr_healthy: float = 1e-3
    lr_high_warn: float = 1e-1
    lr_high_error: float = 1.0
    lr_low_warn: float = 1e-5

    # -- loss -------------------------------------------------------------------------------------
    # First and last ``window`` of the steps are compared by their median loss. Not
    # decreasing: last >= (1 - loss_min_drop) * first. Rising: last > loss_diverge * first
    # (warning: short runs of deep nets often show an early bump); diverging: last >
    # loss_diverge_error * first (an order of magnitude: error).
    window: float = 0.25
    loss_min_drop: float = 0.02
    loss_diverge: float = 1.5
    loss_diverge_error: float = 10.0
    # Fewer loss values than this: no verdict on the loss curve (windows of < 4 per-batch
    # losses are too noisy to tell a trend from an early bump).
    loss_min_steps: int = 16
    # Spike: the loss peaks above loss_spike x its starting level (lowest of the first
    # loss_start_steps values) and comes back down: updates overshoot, the learning rate sits
    # at the edge of stability (a healthy classifier starts near ln(classes) and only goes down).
    loss_spike: float = 3.0
    loss_start_steps: int = 5
    # "At chance": the last window's median loss is within this share of the loss of guessing
    # uniformly, ln(number of classes) (1.79 for six classes: at or above 1.70). Runs whose
    # number of classes is unknown (a hand-written loop) use "not decreasing" instead.
    chance_margin: float = 0.05

    # -- generalisation (train vs test loss) ----------------------------------------------
    # While the train loss falls (by ``loss_min_drop``) and ends below chance (by
    # ``chance_margin``, when the number of classes is known), a test loss that ends above
    # the train loss and above chance, or rises this share above its own best, is a
    # generalisation gap (Inside Deep Learning ch. 2 "overfitting"; DLwPT ch. 8.5
    # "regularization"). Needs at least ``test_min_evals`` test evaluations.
    test_rise: float = 0.2
    test_min_evals: int = 3

    def with_overrides(self, overrides: dict[str, Any] | None) -> Thresholds:
        """A copy with ``{name: value}`` applied; clear error for unknown names."""
        if not overrides:
            return self
        known = {f.name: f.type for f in fields(self)}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise InspectorError(
                f"unknown threshold(s) {', '.join(unknown)}; choose from {', '.join(known)}"
            )
        values: dict[str, Any] = {}
        for k, v in overrides.items():
            try:
                values[k] = int(v) if known[k] in ("int", int) else float(v)
            except (TypeError, ValueError):
                raise InspectorError(f"threshold {k} must be a number, got {v!r}") from None
        return replace(self, **values)

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
