"""Tensor summaries against naive numpy references on small tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from inspector.probes.bins import (
    ACTIVATION_EDGES,
    LOG_MAGNITUDE_EDGES,
    bin_centers,
    bin_labels,
    edges_for,
)
from inspector.probes.tensor_summary import (
    SummarySpec,
    TensorSummary,
    batch_histograms,
    bin_index,
    combine,
    finalize,
    sample_stride,
)

pytestmark = pytest.mark.usefixtures("both_summary_paths")  # C and eager kernels

EXACT = SummarySpec("value", max_sample=None)


def naive_hist(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin i holds edges[i-1] <= v < edges[i]; first and last bins are open-ended."""
    out = np.zeros(len(edges) + 1)
    for v in values:
        out[int(np.sum(edges <= v))] += 1
    return out


def off_edge(x: torch.Tensor, edges: np.ndarray) -> torch.Tensor:
    """Move values that sit within rounding distance of an edge (ties are float noise)."""
    e = torch.as_tensor(edges, dtype=torch.float32)
    near = (x.reshape(-1, 1) - e).abs().min(dim=1).values < 1e-5 * x.abs().clamp_min(1)
    return torch.where(near.reshape(x.shape), x * 1.001, x)


def test_edges_are_fixed_and_increasing():
    for kind in ("value", "log_abs"):
        edges = edges_for(kind)
        assert np.all(np.diff(edges) > 0)
        assert len(bin_labels(kind)) == len(edges) + 1 == len(bin_centers(kind))
    assert ACTIVATION_EDGES[0] == pytest.approx(-100.0) and ACTIVATION_EDGES[-1] == pytest.approx(
        100.0
    )
    assert LOG_MAGNITUDE_EDGES[0] == -12.0 and LOG_MAGNITUDE_EDGES[-1] == 2.0
    with pytest.raises(ValueError):
        edges_for("linear")


def test_exact_moments_match_numpy():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5, 5)
    x[x.abs() < 0.3] = 0.0
    s = TensorSummary.of(x, EXACT)
    a = x.numpy().astype(np.float64)
    m = combine(s.counts, s.moments.numpy())
    assert s.n == a.size == m.n
    got = [m.mean, m.var, m.norm, m.min, m.max]
    ref = [a.mean(), a.var(), np.linalg.norm(a), a.min(), a.max()]
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    assert s.n_sample - m.nonzero == np.count_nonzero(a == 0)
    assert s.n_sample == a.size


def test_finalize_matches_numpy_stats():
    torch.manual_seed(1)
    x = torch.randn(8, 16) * 3 + 1
    s = TensorSummary.of(x, EXACT)
    hist = batch_histograms([s.samples], "value")[0].numpy()
    stats = finalize(s.n, s.n_sample, s.moments.numpy(), hist, "act", with_saturation=False)
    a = x.numpy().astype(np.float64)
    assert stats["act_mean"] == pytest.approx(a.mean(), rel=1e-5)
    assert stats["act_std"] == pytest.approx(a.std(), rel=1e-4)
    assert stats["act_norm"] == pytest.approx(np.linalg.norm(a), rel=1e-5)
    assert stats["act_min"] == pytest.approx(a.min()) and stats["act_max"] == pytest.approx(a.max())
    assert stats["act_nan"] == 0 and stats["act_inf"] == 0 and stats["act_numel"] == a.size
    assert "act_sat_frac" not in stats


@pytest.mark.parametrize("scale", ["value", "log_abs"])
def test_bin_index_equals_bucketize(scale):
    torch.manual_seed(2)
    edges = edges_for(scale)
    x = torch.cat(
        [
            torch.randn(2000) * 10.0 ** torch.randint(-6, 4, (2000,)).float(),
            torch.tensor([0.0, 1e-20, -1e-20, 1e9, -1e9]),
        ]
    )
    x = off_edge(x, edges)
    values = x if scale == "value" else x.abs().log10()
    ref = torch.bucketize(values, torch.as_tensor(edges, dtype=values.dtype), right=True)
    np.testing.assert_array_equal(bin_index(x, scale).numpy(), ref.numpy())


def test_batch_histograms_match_naive_and_count_nonfinite():
    torch.manual_seed(3)
    a = off_edge(torch.randn(300) * 5, ACTIVATION_EDGES)
    b = off_edge(torch.randn(50), ACTIVATION_EDGES)
    b[:3] = float("nan")
    b[3:5] = float("inf")
    b[5] = -float("inf")
    rows = batch_histograms([[a], [b[:25], b[25:]]], "value").numpy()
    bins = len(ACTIVATION_EDGES) + 1
    np.testing.assert_array_equal(rows[0, :bins], naive_hist(a.numpy(), ACTIVATION_EDGES))
    finite = b[torch.isfinite(b)].numpy()
    np.testing.assert_array_equal(rows[1, :bins], naive_hist(finite, ACTIVATION_EDGES))
    assert rows[1, bins] == 3 and rows[1, bins + 1] == 3
    assert rows[0, :bins].sum() == 300  # counts sum to the number of finite elements


def test_gradient_histogram_is_log10_magnitude():
    g = torch.tensor([1e-13, 3e-9, -3e-9, 0.5, 50.0, 0.0])
    row = batch_histograms([[g]], "log_abs")[0].numpy()
    with np.errstate(divide="ignore"):
        logs = np.log10(np.abs(g.numpy().astype(np.float64)))
    np.testing.assert_array_equal(row[:-2], naive_hist(logs, LOG_MAGNITUDE_EDGES))
    assert row[0] == 2  # 1e-13 and the exact zero fall in the open bin below 1e-12


def test_saturation_fraction_against_naive():
    torch.manual_seed(4)
    y = torch.tanh(torch.randn(64, 32) * 4)
    spec = SummarySpec("value", bounds=(-1.0, 1.0), max_sample=None)
    s = TensorSummary.of(y, spec)
    stats = finalize(
        s.n,
        s.n_sample,
        s.moments.numpy(),
        batch_histograms([s.samples], "value")[0].numpy(),
        "act",
        True,
    )
    a = y.numpy()
    naive = np.mean((a <= -1 + 0.02) | (a >= 1 - 0.02))
    assert stats["act_sat_frac"] == pytest.approx(naive)


def test_sigmoid_rule_tolerance_is_one_percent_of_range():
    y = torch.tensor([0.005, 0.011, 0.5, 0.989, 0.995])
    s = TensorSummary.of(y, SummarySpec("value", bounds=(0.0, 1.0), max_sample=None))
    assert combine(s.counts, s.moments.numpy()).sat == 2.0


def test_nan_inf_counted_not_crashing_and_moments_marked_missing():
    x = torch.randn(10, 10)
    x[0, 0] = float("nan")
    x[1, 1] = float("inf")
    s = TensorSummary.of(x, EXACT)
    stats = finalize(
        s.n,
        s.n_sample,
        s.moments.numpy(),
        batch_histograms([s.samples], "value")[0].numpy(),
        "act",
        False,
    )
    assert stats["act_nan"] == 1 and stats["act_inf"] == 1
    assert math.isnan(stats["act_mean"])


def test_sampled_nan_presence_is_exact_even_when_sample_misses_it():
    x = torch.randn(64, 1000)
    x[5, 7] = float("nan")
    spec = SummarySpec("value", max_sample=512)
    s = TensorSummary.of(x, spec)
    row = batch_histograms([s.samples], "value")[0].numpy()
    stats = finalize(s.n, s.n_sample, s.moments.numpy(), row, "act", False)
    assert stats["act_nan"] >= 1


@pytest.mark.parametrize(
    "numel,per_item,max_sample", [(64000, 1000, 4096), (10, 10, 4096), (1 << 20, 4096, 4096)]
)
def test_sample_stride_is_bounded_and_coprime(numel, per_item, max_sample):
    stride = sample_stride(numel, per_item, max_sample)
    assert math.ceil(numel / stride) <= max_sample or stride == 1
    assert math.gcd(stride, per_item) == 1


def test_sampled_fraction_is_close_to_exact():
    torch.manual_seed(5)
    x = torch.relu(torch.randn(128, 64, 8, 8) - 0.5)  # ~69% zeros
    sampled = TensorSummary.of(x, SummarySpec("value"))
    assert sampled.n_sample <= 4096
    m = combine(sampled.counts, sampled.moments.numpy())
    frac = 1 - m.nonzero / sampled.n_sample
    exact = float((x == 0).float().mean())
    assert abs(frac - exact) < 4 * 0.5 / math.sqrt(sampled.n_sample)  # 4 standard errors


def test_merge_of_two_calls_equals_summary_of_concatenation():
    torch.manual_seed(6)
    a, b = torch.randn(4, 5), torch.randn(3, 5)
    merged = TensorSummary.of(a, EXACT).merge(TensorSummary.of(b, EXACT))
    whole = TensorSummary.of(torch.cat([a, b]), EXACT)
    assert merged.n == whole.n and merged.counts == [20, 15]
    m, w = combine(merged.counts, merged.moments.numpy()), combine([whole.n], whole.moments.numpy())
    ref = torch.cat([a, b]).double().numpy()
    np.testing.assert_allclose(
        [m.mean, m.var, m.norm], [ref.mean(), ref.var(), np.linalg.norm(ref)], rtol=1e-6
    )
    np.testing.assert_allclose(
        [m.mean, m.var, m.min, m.max, m.nonzero],
        [w.mean, w.var, w.min, w.max, w.nonzero],
        rtol=1e-6,
    )


def test_low_precision_inputs_are_summarised_in_float32():
    x = torch.randn(16, 16).to(torch.bfloat16)
    s = TensorSummary.of(x, EXACT)
    assert s.moments.dtype == torch.float32
    m = combine(s.counts, s.moments.numpy())
    assert m.mean * m.n == pytest.approx(float(x.double().sum()), rel=1e-5, abs=1e-4)
