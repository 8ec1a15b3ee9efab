"""One definition of a vanishing / exploding layer: rules, bar colours and thresholds agree."""

from __future__ import annotations

import numpy as np

from inspector.diagnosis import Thresholds
from inspector.diagnosis.gradient_scale import classify_norms, edge_count, reference_norm
from inspector.figures.gradients import classify


def naive_classify(values: list[float], warn: float, explode: float, fraction: float) -> list[str]:
    """Reference: compare each layer with the geometric mean of the last layers."""
    finite = [v for v in values if np.isfinite(v)]
    k = min(max(1, round(len(finite) * fraction)), len(finite) // 2)
    ref = float(np.exp(np.mean(np.log(finite[-k:]))))
    out = []
    for v in values:
        if np.isnan(v):
            out.append("missing")
        elif not np.isfinite(v) or v / ref > explode:
            out.append("exploding")
        elif v / ref < warn:
            out.append("vanishing")
        else:
            out.append("ok")
    return out


def test_classify_matches_a_naive_reference_on_random_profiles():
    rng = np.random.default_rng(0)
    th = Thresholds()
    for _ in range(200):
        n = int(rng.integers(4, 40))
        values = list(10 ** rng.uniform(-30, 25, size=n))
        if rng.random() < 0.3:
            values[int(rng.integers(0, n - 2))] = np.nan
        if rng.random() < 0.2:
            values[int(rng.integers(0, n - 2))] = np.inf
        expected = naive_classify(values, th.vanishing_warn, th.exploding_warn, th.edge_fraction)
        assert classify_norms(np.array(values)) == expected
        assert classify(np.array(values)) == expected  # the dashboard's colours


def test_classify_follows_threshold_overrides_and_extremes():
    values = np.array([1e-30, 1e-3, 0.5, 1.0])  # reference: the last layer, 1.0
    assert classify_norms(values) == ["vanishing", "vanishing", "ok", "ok"]
    assert classify_norms(values, Thresholds(vanishing_warn=1e-4)) == [
        "vanishing",
        "ok",
        "ok",
        "ok",
    ]
    assert classify_norms(np.array([0.0, 1e-25, 3.6e-25])) == ["vanishing", "ok", "ok"]
    assert classify_norms(np.array([1e30, 1e-30, 1e-30])) == ["exploding", "ok", "ok"]
    # nothing to compare with: only missing / non-finite are judged
    assert classify_norms(np.array([np.nan, 1.0])) == ["missing", "ok"]
    assert classify_norms(np.array([0.0, 0.0])) == ["ok", "ok"]
    assert classify_norms(np.array([-np.inf, 1.0, 1.0])) == ["exploding", "ok", "ok"]
    assert np.isnan(reference_norm(np.array([np.nan, 2.0]), Thresholds()))


def test_edge_count_is_a_share_of_the_layers_at_least_one_at_most_half():
    th = Thresholds()
    assert [edge_count(n, th) for n in (1, 2, 3, 10, 14, 15, 27, 40)] == [1, 1, 1, 1, 1, 2, 3, 4]
    assert edge_count(10, Thresholds(edge_fraction=0.9)) == 5


def test_bar_colours_name_the_same_layers_as_the_vanishing_finding(runs):
    """The layers the rule calls vanishing are the layers the chart colours vanishing."""
    d = runs.diagnosis("sigmoid20")
    f = d.by_rule("vanishing_gradients")[0]
    assert f.evidence["criterion"] == "ratio"
    names = list(f.evidence["grad_norm_median"])
    medians = np.array([f.evidence["grad_norm_median"][n] for n in names])
    coloured = [n for n, s in zip(names, classify(medians), strict=True) if s == "vanishing"]
    assert coloured == list(f.layers) and len(coloured) > 10
    healthy = runs.reader("relu_healthy")
    s = healthy.series("grad_norm", role="module")
    assert "vanishing" not in classify(np.nanmedian(s.values, axis=1))
