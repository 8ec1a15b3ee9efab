"""The step's statistics in one batch (``probes.summary_stats``) against float64 numpy on
the concatenated calls of each tensor: robust rows (C and eager), fast rows, empty calls,
calls whose means differ by far more than their spread, NaN and Inf."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inspector.probes.summary_stats import combine_rows, fast_path_ok_batch, finalize_batch
from inspector.probes.tensor_summary import (
    ROW,
    SummarySpec,
    TensorSummary,
    combine,
    fast_path_ok,
    finalize,
)

pytestmark = pytest.mark.usefixtures("both_summary_paths")


def _tensors() -> list[list[torch.Tensor]]:
    """Each tensor as the list of its calls (a shared module is called several times)."""
    g = torch.Generator().manual_seed(11)

    def r(n, s=1.0, m=0.0):
        return torch.randn(n, generator=g) * s + m

    return [
        [r(5000)],
        [r(300, 1e-30), r(700, 1e-30, 1e-29)],
        [r(4000, 1e30)],
        [r(2000, 0.03, 100.0)],  # mean >> std
        [r(1000, 1e-3, 1e6), r(1000, 1e-3, -1e6), r(10)],  # far apart calls
        [torch.zeros(0), r(50)],  # an empty call
        [torch.zeros(4096)],
    ]


def _summaries(robust: bool) -> list[TensorSummary]:
    out = []
    for calls in _tensors():
        summ = None
        for x in calls:
            s = TensorSummary.of(x, SummarySpec(max_sample=None), robust=robust)
            summ = s if summ is None else summ.merge(s)
        out.append(summ)
    return out


def _batch(summaries: list[TensorSummary]):
    rows = np.concatenate([s.moments.double().numpy() for s in summaries]).reshape(-1, ROW)
    counts = [c for s in summaries for c in s.counts]
    starts = np.cumsum([0, *[len(s.counts) for s in summaries[:-1]]])
    return combine_rows(np.asarray(counts, dtype=np.float64), rows, starts)


@pytest.mark.parametrize("robust", [True, False])
def test_batch_moments_match_float64_numpy(robust):
    summaries = _summaries(robust)
    m = _batch(summaries)
    for i, calls in enumerate(_tensors()):
        x = torch.cat(calls).double().numpy()
        assert m.n[i] == x.size and m.min[i] == x.min() and m.max[i] == x.max()
        if not m.trusted[i]:
            assert not robust  # only a fast row can be untrusted (cancellation, range)
            continue
        # float32 row sums on the eager path: exact to ~1e-7 of the spread (C: float64)
        assert m.mean[i] == pytest.approx(x.mean(), rel=1e-12, abs=1e-6 * x.std() + 1e-300)
        assert m.var[i] == pytest.approx(x.var(), rel=1e-5, abs=1e-300)


@pytest.mark.parametrize("robust", [True, False])
def test_batch_equals_one_tensor_at_a_time(robust):
    """The recorder's batch and the per-tensor reference agree on every statistic."""
    summaries = _summaries(robust)
    m = _batch(summaries)
    n_sample = np.array([s.n_sample for s in summaries])
    nan_inf = np.zeros(len(summaries))
    batch = finalize_batch(m, n_sample, nan_inf, nan_inf)
    ok = fast_path_ok_batch(m)
    for i, s in enumerate(summaries):
        rows = s.moments.double().numpy()
        one = finalize(s.counts, s.n_sample, rows, np.zeros(3), "a", True)
        for key, value in one.items():
            np.testing.assert_equal(batch[key[2:]][i], value, err_msg=key)
        assert (
            ok[i] == fast_path_ok(s.counts, rows) == fast_path_ok(s.counts, combine(s.counts, rows))
        )


def test_empty_tensor_and_empty_call_report_nothing_present():
    empty = TensorSummary.of(torch.zeros(0), SummarySpec())
    got = finalize(empty.counts, empty.n_sample, empty.moments.numpy(), np.zeros(3), "a", False)
    assert got["a_numel"] == 0 and got["a_nan"] == 0 and got["a_inf"] == 0
    assert np.isnan(got["a_mean"]) and np.isnan(got["a_min"])
    both = empty.merge(TensorSummary.of(torch.arange(4.0), SummarySpec()))
    got = finalize(both.counts, both.n_sample, both.moments.numpy(), np.zeros(3), "a", False)
    assert (got["a_min"], got["a_max"], got["a_mean"], got["a_nan"]) == (0.0, 3.0, 1.5, 0.0)


def test_nan_and_inf_counts_scale_with_the_sample():
    x = torch.randn(100_000)
    x[::1000] = float("nan")
    x[7] = float("inf")
    s = TensorSummary.of(x, SummarySpec())  # sampled: 4096 of 100k
    rows = s.moments.double().numpy()
    m = combine_rows(
        np.asarray(s.counts, dtype=np.float64), rows.reshape(-1, ROW), np.zeros(1, np.intp)
    )
    got = finalize_batch(m, np.array([s.n_sample]), np.array([4.0]), np.array([0.0]))
    assert got["nan"][0] == np.rint(4.0 * 100_000 / s.n_sample)
    assert got["inf"][0] == 0.0  # NaN present: min/max cannot tell, the sample saw none
    assert np.isnan(got["mean"][0]) and np.isnan(got["min"][0])
