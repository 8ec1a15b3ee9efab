"""The C kernels (probes/native_kernels.c) against float64 numpy and the eager torch path,
at the extremes users hit, and the fallback when they cannot be built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from inspector.probes import native
from inspector.probes.tensor_summary import (
    ROW,
    SummarySpec,
    TensorSummary,
    batch_histograms,
    combine,
    finalize,
)

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    native.library() is None, reason=f"C kernels unavailable: {native.unavailable_reason}"
)


def _eager(monkeypatch):
    monkeypatch.setattr(native, "usable", lambda t: False)
    monkeypatch.setattr(native, "usable_1d", lambda t: False)


def _stats(x: torch.Tensor, spec: SummarySpec) -> dict[str, float]:
    summ = TensorSummary.of(x, spec)
    hist = batch_histograms([summ.samples], spec.scale)[0].numpy()
    rows = summ.moments.numpy().astype(np.float64)
    return finalize(summ.counts, summ.n_sample, rows, hist, "a", spec.bounds is not None)


CASES = {
    "randn": lambda g: torch.randn(64, 3, 17, 19, generator=g),
    "tiny 1e-30": lambda g: 1e-30 * torch.randn(40_000, generator=g),
    "huge 1e30": lambda g: 1e30 * torch.randn(40_000, generator=g),
    "mean >> std": lambda g: 100.0 + 0.03 * torch.randn(50_000, generator=g),
    "(batch, length, features)": lambda g: torch.randn(8, 33, 70, generator=g) * 3 - 1,
    "constant": lambda g: torch.full((5000,), 2.5),
    "zeros": lambda g: torch.zeros(3, 300),
    "one element": lambda g: torch.tensor([-4.0]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_summary_row_matches_float64(case):
    x = CASES[case](torch.Generator().manual_seed(0))
    a = x.double().numpy().reshape(-1)
    got = _stats(x, SummarySpec("value", max_sample=None))
    assert got["a_numel"] == a.size
    assert got["a_min"] == a.min() and got["a_max"] == a.max()
    scale = max(np.abs(a).max(), 1e-300)
    assert got["a_mean"] == pytest.approx(a.mean(), rel=1e-6, abs=1e-6 * scale)
    assert got["a_std"] == pytest.approx(a.std(), rel=1e-5, abs=1e-6 * scale)
    assert got["a_norm"] == pytest.approx(np.sqrt((a * a).sum()), rel=1e-6)
    assert got["a_zero_frac"] == pytest.approx((a == 0).mean())


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("max_sample", [None, 256])
def test_summary_equals_the_eager_path(case, max_sample, monkeypatch):
    x = CASES[case](torch.Generator().manual_seed(1))
    spec = SummarySpec("value", bounds=(-1.0, 1.0), max_sample=max_sample)
    c_path = _stats(x, spec)
    c_sample = TensorSummary.of(x, spec).samples[0]
    _eager(monkeypatch)
    eager = _stats(x, spec)
    assert torch.equal(c_sample, TensorSummary.of(x, spec).samples[0])
    assert c_path.keys() == eager.keys()
    tol = 1e-6 * float(x.abs().max()) + 1e-30  # means near 0: relative to the spread
    for key, value in eager.items():
        assert c_path[key] == pytest.approx(value, rel=1e-5, abs=tol), key


def test_nan_next_to_huge_values_and_infinities():
    x = torch.full((10_000,), 1e30)
    x[17] = float("nan")
    got = _stats(x, SummarySpec("value"))
    assert np.isnan(got["a_mean"]) and np.isnan(got["a_min"]) and got["a_nan"] >= 1
    y = torch.randn(10_000)
    y[5] = float("inf")
    got = _stats(y, SummarySpec("value", max_sample=None))
    assert got["a_inf"] == 1 and got["a_nan"] == 0 and np.isnan(got["a_mean"])


@pytest.mark.parametrize("n", [1_000, 100_000])  # serial and parallel pass
@pytest.mark.parametrize("with_nan", [False, True])
def test_both_infinities_are_told_apart_from_a_nan(n, with_nan):
    """The pass finds NaN from sum(x - shift); +inf and -inf together make that sum NaN
    too, so that case looks at the elements: min/max stay -inf/+inf without a NaN."""
    x = torch.randn(n)
    x[n // 3], x[n - 2] = float("inf"), -float("inf")
    if with_nan:
        x[n // 2] = float("nan")
    row, _ = native.summarize(x, 7, None, 0.01)
    mn, mx = row[4].item(), row[5].item()
    if with_nan:
        assert np.isnan(mn) and np.isnan(mx)
    else:
        assert (mn, mx) == (-float("inf"), float("inf"))
    y = torch.randn(n)
    y[n - 1] = float("nan")  # the tail of the last lane block
    row, _ = native.summarize(y, 7, None, 0.01)
    assert np.isnan(row[4].item()) and np.isnan(row[5].item())


def test_merged_calls_combine_exactly():
    g = torch.Generator().manual_seed(2)
    parts = [torch.randn(3000, generator=g) * s + m for s, m in ((1, 0), (1e-3, 50), (7, -2))]
    summ = TensorSummary.of(parts[0], SummarySpec())
    for p in parts[1:]:
        summ = summ.merge(TensorSummary.of(p, SummarySpec()))
    m = combine(summ.counts, summ.moments.numpy().reshape(-1, ROW))
    a = torch.cat(parts).double().numpy()
    assert m.mean == pytest.approx(a.mean(), rel=1e-9)
    assert m.var == pytest.approx(a.var(), rel=1e-6)


def test_sum_squares_is_float64_exact_for_every_finite_tensor():
    g = torch.Generator().manual_seed(3)
    tensors = [
        torch.randn(100_000, generator=g),
        1e30 * torch.randn(20_000, generator=g),  # float32 sum of squares overflows
        1e-30 * torch.randn(20_000, generator=g),  # float32 squares underflow to 0
        torch.randn(7, generator=g),
        torch.zeros(3),
    ]
    got = native.sum_squares(tensors).numpy()
    ref = [float((t.double() ** 2).sum()) for t in tensors]
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_update_norms_and_gather_match_torch():
    g = torch.Generator().manual_seed(4)
    weights = [torch.randn(5000, generator=g), torch.randn(300, generator=g)]
    views = [w[::7] for w in weights]
    snap = [torch.empty(v.numel()) for v in views]
    native.gather(views, snap)
    assert all(torch.equal(s, v) for s, v in zip(snap, views))
    for w in weights:
        w.add_(0.01)
    before, change = native.update_norms(views, snap)
    for i, v in enumerate(views):
        assert before[i].item() == pytest.approx(snap[i].double().norm().item(), rel=1e-12)
        ref = (v.double() - snap[i].double()).norm().item()
        assert change[i].item() == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("scale", [1.0, 1e30, 1e-30])
def test_param_pass_matches_float64(scale):
    """One read of weights and gradients: float64 sums, the update against the snapshot, the
    snapshot refreshed and the gradient samples taken (also over the parallel threshold)."""
    g = torch.Generator().manual_seed(6)
    sizes = [40000, 7, 300, 1]
    weights = [torch.randn(n, generator=g) * scale for n in sizes]
    grads = [torch.randn(n, generator=g) * scale for n in sizes]
    grads[2] = None
    strides = [13, 1, 3, 1]
    snap = [w[::s].clone() - 0.5 * scale for w, s in zip(weights, strides)]
    old = [s.clone() for s in snap]
    samples = [torch.full((-(-n // s),), -1.0) for n, s in zip(sizes, strides)]
    out = native.param_pass(weights, grads, strides, snap, samples).numpy()
    for j, (w, s) in enumerate(zip(weights, strides)):
        w64, b64 = w.double().numpy(), old[j].double().numpy()
        assert out[0, j] == pytest.approx(np.sum(w64**2), rel=1e-12)
        assert out[1, j] == pytest.approx(np.sum((w64[::s] - b64) ** 2), rel=1e-12)
        assert out[3, j] == pytest.approx(np.sum(b64**2), rel=1e-12)
        assert torch.equal(snap[j], w[::s])
        if grads[j] is None:
            assert out[2, j] == 0.0 and bool((samples[j] == -1.0).all())
        else:
            assert out[2, j] == pytest.approx(np.sum(grads[j].double().numpy() ** 2), rel=1e-12)
            assert torch.equal(samples[j], grads[j][::s])
    assert np.all(np.isfinite(out)) and np.all(out[[0, 2, 3]][:, [0, 1, 3]] > 0)


@pytest.mark.parametrize(
    "shape, dim", [((16, 32, 5, 5), 1), ((4, 9, 40), 2), ((4, 9, 40), 1), ((50, 64), 1)]
)
def test_active_units_equal_the_reduction(shape, dim):
    g = torch.Generator().manual_seed(5)
    x = torch.relu(torch.randn(*shape, generator=g))
    index = [slice(None)] * len(shape)
    index[dim] = [0, 3]
    x[tuple(index)] = 0.0  # two dead units
    last = [slice(None)] * len(shape)
    last[dim] = 1
    x[tuple(last)] = 0.0
    x[(-1,) * len(shape)] = 0.0
    x.reshape(-1)[-1] = 1.0  # a unit alive only at its very last element
    dims = [d for d in range(len(shape)) if d != dim]
    ref = torch.amax(x, dim=dims) > 0
    assert torch.equal(native.active_units(x, dim), ref)


@pytest.mark.parametrize("scale", ["value", "log_abs"])
def test_histograms_equal_the_eager_kernels(scale, monkeypatch):
    g = torch.Generator().manual_seed(6)

    def values(n):
        x = torch.randn(n, generator=g) * 10 ** torch.empty(n).uniform_(-14, 6, generator=g)
        x[::97] = 0.0
        x[::101] = float("nan")
        x[::103] = float("inf")
        x[::107] = -float("inf")
        return x

    groups = [[values(1000), values(4096)], [values(300)], [], [values(5000)[::3]]]
    got = batch_histograms(groups, scale)
    _eager(monkeypatch)
    assert torch.equal(got, batch_histograms(groups, scale))


@pytest.mark.parametrize("scale", ["value", "log_abs"])
def test_histogram_bins_are_exact_at_float32_edges(scale):
    """Values just below / at / above each edge land where bucketize on the float64 edges
    puts them (magnitudes: the kernel compares |x| with each edge rounded up to float32)."""
    from inspector.probes.bins import LOG_MAGNITUDE_EDGES, edges_for

    edges = 10.0**LOG_MAGNITUDE_EDGES if scale == "log_abs" else edges_for("value")
    edges = edges[edges > 0]
    e32 = edges.astype(np.float32)
    probes = np.concatenate(
        [np.nextafter(e32, np.float32(0)), np.nextafter(e32, np.float32(np.inf)), [0.0]]
    ).astype(np.float32)
    x = torch.from_numpy(probes)
    hist = batch_histograms([[x]], scale)[0, :-2].numpy()
    cut = LOG_MAGNITUDE_EDGES if scale == "log_abs" else edges_for("value")
    with np.errstate(divide="ignore"):
        key = np.log10(np.abs(probes.astype(np.float64))) if scale == "log_abs" else probes
        ref = np.bincount(np.searchsorted(cut, key, side="right"), minlength=len(cut) + 1)
    np.testing.assert_array_equal(hist, ref)


def test_one_openmp_runtime_is_loaded():
    """The kernels share torch's OpenMP runtime (two runtimes would fight over the cores)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc")
    libs = {line.split()[-1] for line in maps.read_text().splitlines() if "gomp" in line}
    assert len({Path(p).name for p in libs}) <= 1, libs
    assert len(libs) <= 1, libs


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )


RECORD = """
import tempfile, torch, inspector
from inspector.probes import native
model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
root = tempfile.mkdtemp()
with inspector.watch(model, run="r", root=root, every=1) as rec:
    for _ in range(3):
        model(torch.randn(32, 8)).pow(2).mean().backward()
        rec.step()
run = inspector.open_run(root + "/r")
print("lib", native.library() is not None, "|", native.unavailable_reason)
print("steps", len(run.steps()))
"""


def test_without_a_compiler_recording_falls_back_to_eager(tmp_path):
    done = _run(RECORD, CC=str(tmp_path / "no-such-cc"), INSPECTOR_CACHE=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "lib False" in done.stdout and "could not build" in done.stdout
    assert "steps 3" in done.stdout


def test_turned_off_by_the_environment(tmp_path):
    done = _run(RECORD, INSPECTOR_NATIVE="0", INSPECTOR_CACHE=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "lib False | turned off by INSPECTOR_NATIVE=0" in done.stdout
    assert "steps 3" in done.stdout and not list(tmp_path.rglob("*.so"))


def test_built_once_then_reused_from_the_cache(tmp_path):
    first = _run(RECORD, INSPECTOR_CACHE=str(tmp_path))
    assert first.returncode == 0 and "lib True" in first.stdout, first.stderr
    (built,) = tmp_path.rglob("*.so")
    stamp = built.stat().st_mtime_ns
    second = _run(RECORD, INSPECTOR_CACHE=str(tmp_path), CC=str(tmp_path / "no-such-cc"))
    assert "lib True" in second.stdout, second.stderr  # no compiler needed: cached
    assert built.stat().st_mtime_ns == stamp
