"""The compiled one-pass kernels equal the eager ones (and a float64 reference), and the
policy keeps them off for short runs, small tensors and non-CPU devices."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inspector.probes import fused
from inspector.probes.tensor_summary import SummarySpec, TensorSummary, batch_histograms, combine


@pytest.fixture
def always(monkeypatch):
    monkeypatch.setenv("INSPECTOR_FUSED", "1")
    if fused.unavailable_reason is not None:
        pytest.skip(f"fused kernels unavailable here: {fused.unavailable_reason}")


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (5.0, 0.5), (-1e3, 2e2)])
def test_fused_fast_moments_match_float64(always, mean, std):
    g = torch.Generator().manual_seed(0)
    x = mean + std * torch.randn(fused.FUSED_MOMENTS_MIN_NUMEL + 77, generator=g)
    row = fused.fast_moments(x)
    assert row is not None, fused.unavailable_reason
    a = x.double().numpy()
    np.testing.assert_allclose(
        row.double().numpy(), [a.sum(), np.linalg.norm(a), a.min(), a.max()], rtol=2e-5
    )
    m = combine([x.numel()], TensorSummary.of(x, SummarySpec(), robust=False).moments.numpy())
    assert m.mean == pytest.approx(a.mean(), rel=1e-4, abs=1e-6 * std)
    assert np.sqrt(m.var) == pytest.approx(a.std(), rel=1e-4)


def test_fused_histogram_keys_equal_eager(always, monkeypatch):
    g = torch.Generator().manual_seed(1)
    big = torch.randn(fused.FUSED_HISTOGRAM_MIN_NUMEL, generator=g)
    big *= 10.0 ** torch.randint(-25, 25, big.shape, generator=g).float()
    odd = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1e-40, 1e-3])
    groups = [[big[:1000], odd], [big[1000:]]]
    for scale in ("value", "log_abs"):
        fused_rows = batch_histograms(groups, scale)
        monkeypatch.setenv("INSPECTOR_FUSED", "0")
        eager_rows = batch_histograms(groups, scale)
        monkeypatch.setenv("INSPECTOR_FUSED", "1")
        assert torch.equal(fused_rows, eager_rows)
        assert fused_rows[0, -2] == 1 and fused_rows[0, -1] == 2  # NaN, +-Inf columns


def test_policy_off_for_short_runs_small_tensors_and_when_disabled(monkeypatch):
    monkeypatch.setenv("INSPECTOR_FUSED", "auto")
    monkeypatch.setattr(fused, "_recorded_steps", 0)
    big = torch.zeros(fused.FUSED_MOMENTS_MIN_NUMEL)
    assert fused.fast_moments(big) is None  # auto: not before AUTO_AFTER_STEPS steps
    monkeypatch.setenv("INSPECTOR_FUSED", "1")
    assert fused.fast_moments(big[:100]) is None  # small: eager is as fast
    assert fused.fast_moments(big[::2]) is None  # not contiguous
    monkeypatch.setenv("INSPECTOR_FUSED", "0")
    assert fused.fast_moments(big) is None


def test_a_failing_compile_falls_back_to_eager(monkeypatch):
    monkeypatch.setenv("INSPECTOR_FUSED", "1")
    monkeypatch.setattr(fused, "unavailable_reason", None)

    def broken(*args):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setitem(fused._compiled, "moments", broken)
    x = torch.randn(fused.FUSED_MOMENTS_MIN_NUMEL)
    assert fused.fast_moments(x) is None
    assert "no C++ compiler" in fused.unavailable_reason
    summ = TensorSummary.of(x, SummarySpec(), robust=False)  # eager path, same numbers
    m = combine([x.numel()], summ.moments.numpy())
    assert m.max == pytest.approx(float(x.max()))
