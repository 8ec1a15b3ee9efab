"""Diagnosis rules: each a function ``rule(view: RunView) -> list[Finding]``.

Order matters only for ties in severity (earlier rules are listed first).
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.diagnosis.context import RunView
from inspector.diagnosis.finding import Finding
from inspector.diagnosis.rules.batchnorm import batchnorm_batch_size, batchnorm_gap
from inspector.diagnosis.rules.dead_units import dead_units
from inspector.diagnosis.rules.generalisation import generalisation_gap
from inspector.diagnosis.rules.gradient_flow import exploding_gradients, vanishing_gradients
from inspector.diagnosis.rules.learning_rate import learning_rate
from inspector.diagnosis.rules.loss import loss_trend
from inspector.diagnosis.rules.no_gradient import no_gradient
from inspector.diagnosis.rules.nonfinite import nonfinite_values
from inspector.diagnosis.rules.saturation import saturation
from inspector.diagnosis.rules.shared_modules import shared_modules

Rule = Callable[[RunView], list[Finding]]

RULES: list[Rule] = [
    nonfinite_values,
    vanishing_gradients,
    exploding_gradients,
    saturation,
    dead_units,
    no_gradient,
    batchnorm_gap,
    batchnorm_batch_size,
    learning_rate,
    loss_trend,
    generalisation_gap,
    shared_modules,
]

__all__ = ["RULES", "Rule"]
