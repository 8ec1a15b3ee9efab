"""One definition of a vanishing / exploding layer, for the rules, the charts and the studies.

A layer's gradient norm is compared with the last layers' (the output end, where the loss
injects the gradient): below ``vanishing_warn`` of it the layer is "vanishing", above
``exploding_warn`` times it "exploding" (Thresholds). The vanishing-gradient rule names these
layers; the dashboard colours the same layers; the edge layers are the same share
(``edge_fraction``) of the network everywhere. Torch-free: the dashboard imports it.
"""

from __future__ import annotations

import warnings

import numpy as np

from inspector.diagnosis.thresholds import Thresholds

# Floor for norms before taking ratios/logs: an exactly-zero gradient counts as this. Real
# gradients get far smaller than 1e-30 (0.25^48 through 48 sigmoid layers ~ 1e-29), and the
# recorder stores them exactly, so the floor sits at the bottom of float64's range.
TINY = 1e-300


def edge_count(n_layers: int, th: Thresholds) -> int:
    """How many layers at each end are averaged: ``edge_fraction`` of them, at least one,
    at most half."""
    k = max(1, int(round(n_layers * th.edge_fraction)))
    return max(0, min(k, n_layers // 2)) or 1


def geo_mean(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Geometric mean ignoring NaN (missing), zeros floored at ``TINY``."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: NaN, no warning
        logs = np.log10(np.maximum(values, TINY))
        return 10 ** np.nanmean(logs, axis=axis)


def reference_norm(values: np.ndarray, th: Thresholds) -> float:
    """Geometric mean of the last layers' finite norms (NaN: none to compare with)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return float("nan")
    return float(geo_mean(finite[-edge_count(finite.size, th) :]))


def classify_norms(values: np.ndarray, th: Thresholds | None = None) -> list[str]:
    """'ok' | 'vanishing' | 'exploding' | 'missing' per layer (forward order), one step.

    NaN is missing; +-inf is exploding; otherwise the ratio to the last layers' norm decides.
    With fewer than two finite layers, or a zero reference, nothing can be compared: 'ok'."""
    th = th or Thresholds()
    values = np.asarray(values, dtype=np.float64)
    ref = reference_norm(values, th)
    comparable = np.isfinite(ref) and ref > TINY
    out = []
    for v in values:
        if np.isnan(v):
            out.append("missing")
        elif not np.isfinite(v):
            out.append("exploding")
        elif not comparable:
            out.append("ok")
        elif v < th.vanishing_warn * ref:
            out.append("vanishing")
        elif v > th.exploding_warn * ref:
            out.append("exploding")
        else:
            out.append("ok")
    return out
