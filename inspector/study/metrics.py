"""What a study measures on each run, read back from the run store (no torch needed).

The numbers answer "does this configuration train, and how does gradient flow through
it": final loss/accuracy, steps to a loss threshold, first/last layer gradient-norm ratio
at initialisation and over training, activation spread per layer at initialisation,
findings, size, speed and receptive field.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inspector.store import RunReader

# Activation modules without saturation bounds or dead-unit tracking still count as
# "activation layers" for the per-depth activation spread.
ACTIVATION_TYPES = frozenset(
    {
        "Tanh",
        "Sigmoid",
        "ReLU",
        "ReLU6",
        "LeakyReLU",
        "GELU",
        "SiLU",
        "ELU",
        "SELU",
        "CELU",
        "Mish",
        "Softplus",
        "Softsign",
        "Hardtanh",
        "Hardswish",
        "Hardsigmoid",
        "PReLU",
        "RReLU",
        "LogSigmoid",
        "Tanhshrink",
    }
)

FINAL_FRACTION = 0.1  # "final" = mean over the last 10% of steps
METRIC_NAMES = (
    "final_loss",
    "final_accuracy",
    "test_accuracy",
    "steps_to_threshold",
    "grad_ratio_init",
    "grad_ratio_median",
    "act_std_init",
    "findings",
    "gradient_flow",
    "params",
    "seconds_per_step",
    "receptive_field",
)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def tail_mean(values: np.ndarray, fraction: float = FINAL_FRACTION) -> float | None:
    """Mean of the last ``fraction`` of the values (at least one): a less noisy 'final'."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    n = max(1, math.ceil(fraction * values.size))
    return float(values[-n:].mean())


def steps_to_threshold(
    steps: np.ndarray, losses: np.ndarray, threshold: float, window: int | None = None
) -> int | None:
    """Optimizer steps until the moving mean of the loss first reaches ``threshold``.

    ``window`` defaults to 5% of the steps (at least 1) so one lucky batch does not count.
    Returns ``step + 1`` of the first window end at or below the threshold, None if never.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size == 0:
        return None
    w = window or max(1, losses.size // 20)
    w = min(w, losses.size)
    moving = np.convolve(losses, np.ones(w) / w, mode="valid")  # NaN poisons: never reached
    hit = np.flatnonzero(moving <= threshold)
    return int(steps[hit[0] + w - 1]) + 1 if hit.size else None


def grad_ratios(reader: RunReader) -> tuple[np.ndarray, np.ndarray]:
    """(steps, first/last ratio) of the activation-gradient norm through the network's depth.

    The layers compared are the activation-function modules (``activation_layers``): their
    outputs have the hidden shape, so the ratio measures how much gradient survives the
    stack, not the size change of a pooling layer or a classifier head. Per recorded step,
    the first and the last of them with a ``grad_norm`` that step; NaN where fewer than
    two have one or the last is zero. Models without activation modules use all modules.
    """
    series = reader.series("grad_norm", role="module")
    if series.values.size == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    wanted = set(activation_layers(reader))
    rows = [i for i, name in enumerate(series.layers) if name in wanted]
    values = series.values[rows] if len(rows) >= 2 else series.values
    ratios = np.full(len(series.steps), np.nan)
    for j in range(len(series.steps)):
        column = values[:, j]
        present = np.flatnonzero(np.isfinite(column))
        if present.size >= 2 and column[present[-1]] > 0:
            ratios[j] = column[present[0]] / column[present[-1]]
    return series.steps, ratios


def activation_layers(reader: RunReader) -> list[str]:
    """Names of activation-function modules in forward order (all modules if none)."""
    modules = reader.layers(role="module")
    acts = [
        m.name
        for m in modules
        if m.type in ACTIVATION_TYPES or m.info.get("bounds") or m.info.get("can_die")
    ]
    return acts or [m.name for m in modules]


def act_std_init(reader: RunReader) -> list[float | None]:
    """Activation standard deviation of each activation layer at the first recorded step."""
    steps = reader.steps()
    if steps.size == 0:
        return []
    at = reader.at_step("act_std", int(steps[0]), role="module")
    return [_finite(at.get(name)) for name in activation_layers(reader)]


def stored_diagnosis(reader: RunReader) -> dict[str, Any] | None:
    """The run's stored diagnosis record (verdict, findings), None if never diagnosed."""
    doc = reader.record("findings", "all")
    return doc if isinstance(doc, dict) else None


def findings_counts(reader: RunReader) -> dict[str, int] | None:
    """Counts per severity of the stored diagnosis, None if the run was not diagnosed."""
    doc = stored_diagnosis(reader)
    if doc is None:
        return None
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in doc.get("findings") or []:
        if not isinstance(finding, dict):
            continue
        severity = str(finding.get("severity", "info"))
        counts[severity] = counts.get(severity, 0) + 1
    return counts


def gradient_flow(reader: RunReader) -> str | None:
    """The stored verdict on gradient flow in one word: 'vanishing', 'exploding', 'healthy',
    'broken' (NaN/Inf), 'blocked' (dead ReLU layer) or 'unknown'. The diagnosis rules judge
    (with the thresholds of ``inspector.diagnosis.thresholds``); a study does not judge again
    with limits of its own."""
    doc = stored_diagnosis(reader)
    verdict = str((doc or {}).get("verdict") or "")
    head, _, rest = verdict.partition("gradient flow: ")
    words = rest.split()
    return words[0] if not head and words else None


def last_spatial_rf(reader: RunReader) -> int | None:
    """Receptive field (pixels, the larger side) of the last layer that is still spatial."""
    doc = reader.record("receptive_field", "layers")
    if not isinstance(doc, dict):
        return None
    spatial = [row for row in doc.get("layers") or [] if not row.get("global")]
    if not spatial or not spatial[-1].get("rf"):
        return None
    return int(max(spatial[-1]["rf"]))


def seconds_per_step(reader: RunReader) -> float | None:
    """Median step duration (robust to the few recorded, slower steps)."""
    _, _, durations = reader.step_times()
    durations = durations[np.isfinite(durations)]
    return float(np.median(durations)) if durations.size else None


def run_metrics(reader: RunReader, loss_threshold: float | None = None) -> dict[str, Any]:
    """Every study metric of one run, JSON-ready (None where the run lacks the data)."""
    loss_steps, losses = reader.scalar("loss")
    _, accuracy = reader.scalar("accuracy")
    ratio_steps, ratios = grad_ratios(reader)
    finite = ratios[np.isfinite(ratios)]
    params = (reader.meta.get("model") or {}).get("params")
    return {
        "final_loss": tail_mean(losses),
        "final_accuracy": tail_mean(accuracy),
        "test_accuracy": _finite(reader.last_scalar("test_accuracy")),
        "steps_to_threshold": (
            steps_to_threshold(loss_steps, losses, loss_threshold)
            if loss_threshold is not None
            else None
        ),
        "grad_ratio_init": _finite(ratios[0]) if ratios.size else None,
        "grad_ratio_median": float(np.median(finite)) if finite.size else None,
        "act_std_init": act_std_init(reader),
        "findings": findings_counts(reader),
        "gradient_flow": gradient_flow(reader),
        "params": int(params) if params is not None else None,
        "seconds_per_step": seconds_per_step(reader),
        "receptive_field": last_spatial_rf(reader),
    }
