"""Moments at the edges of float32 (1e-30, 1e30, mean >> std, NaN next to huge values)
against float64 numpy, and recorded runs of exploding / vanishing nets against autograd."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.probes.batchnorm_gap import (
    batch_channel_moments,
    gaps,
    input_batch_stats,
    pack_gap_inputs,
)
from inspector.probes.tensor_summary import (
    SummarySpec,
    TensorSummary,
    batch_histograms,
    fast_path_ok,
    finalize,
)

pytestmark = pytest.mark.usefixtures("both_summary_paths")  # C and eager kernels

EXACT = SummarySpec("value", max_sample=None)
SAMPLED = SummarySpec("value", max_sample=256)


def stats_of(x: torch.Tensor, spec: SummarySpec = EXACT, robust: bool = True) -> dict:
    s = TensorSummary.of(x, spec, robust=robust)
    row = batch_histograms([s.samples], spec.scale)[0].numpy()
    return finalize(s.counts, s.n_sample, s.moments.numpy(), row, "act", False)


def reference(x: torch.Tensor) -> dict:
    a = x.double().numpy()
    return {"mean": a.mean(), "std": a.std(), "norm": np.linalg.norm(a)}


CASES = {
    "1e-30": lambda g: torch.randn(64, 50, generator=g) * 1e-30,
    "1e30": lambda g: torch.randn(64, 50, generator=g) * 1e30,
    "1e-23 gradients": lambda g: torch.randn(32, 128, generator=g) * 1e-23,
    "mean 100 std 0.03": lambda g: 100 + 0.03 * torch.randn(64, 500, generator=g),
    "sigmoid near-constant": lambda g: torch.sigmoid(
        -10 + 0.05 * torch.randn(64, 500, generator=g)
    ),
    "max float range": lambda g: torch.randn(1000, generator=g).clamp(-3, 3) * 1e38,
    "one outlier": lambda g: torch.cat([torch.zeros(9999), torch.tensor([1e35])]),
}


@pytest.mark.parametrize("spec", [EXACT, SAMPLED], ids=["exact", "sampled"])
@pytest.mark.parametrize("case", list(CASES))
def test_robust_moments_match_float64(case, spec):
    x = CASES[case](torch.Generator().manual_seed(0))
    got, ref = stats_of(x, spec), reference(x)
    for key, value in ref.items():
        assert math.isfinite(got[f"act_{key}"]), key
        assert got[f"act_{key}"] == pytest.approx(value, rel=2e-5, abs=0), key
    assert got["act_nan"] == 0 and got["act_inf"] == 0


def test_merged_calls_use_chan_formula_without_cancellation():
    g = torch.Generator().manual_seed(1)
    parts = [
        1e4 + 0.01 * torch.randn(300, generator=g),
        1e4 + 5 + 0.01 * torch.randn(200, generator=g),
    ]
    s = TensorSummary.of(parts[0], EXACT).merge(TensorSummary.of(parts[1], EXACT))
    row = batch_histograms([s.samples], "value")[0].numpy()
    got = finalize(s.counts, s.n_sample, s.moments.numpy(), row, "act", False)
    ref = reference(torch.cat(parts))
    assert got["act_std"] == pytest.approx(ref["std"], rel=1e-5)
    assert got["act_mean"] == pytest.approx(ref["mean"], rel=1e-9)


def test_fast_path_is_exact_inside_the_safe_range_and_refuses_outside():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(64, 64, generator=g) * 3 + 1
    s = TensorSummary.of(x, EXACT, robust=False)
    assert fast_path_ok(s.counts, s.moments.numpy())
    got, ref = stats_of(x, robust=False), reference(x)
    for key, value in ref.items():
        assert got[f"act_{key}"] == pytest.approx(value, rel=1e-5)
    for case in ("1e30", "1e-23 gradients", "mean 100 std 0.03"):
        x = CASES[case](g)
        robust = TensorSummary.of(x, EXACT)
        assert not fast_path_ok(robust.counts, robust.moments.numpy()), case
        # a fast row outside the safe range reads as unknown (NaN), never as a wrong value
        fast = stats_of(x, robust=False)
        for key, value in reference(x).items():
            v = fast[f"act_{key}"]
            assert math.isnan(v) or v == pytest.approx(value, rel=1e-3), (case, key)


@pytest.mark.parametrize("spec", [EXACT, SAMPLED], ids=["exact", "sampled"])
def test_nan_next_to_1e30_counts_only_real_nan(spec):
    x = torch.randn(100, 40) * 1e30
    x[3, 7] = float("nan")
    got = stats_of(x, spec)
    assert got["act_nan"] >= 1 and got["act_inf"] == 0
    if spec is EXACT:
        assert got["act_nan"] == 1
    y = torch.randn(100, 40) * 1e30  # huge but finite: no NaN, no Inf, finite norm
    clean = stats_of(y, spec)
    assert clean["act_nan"] == 0 and clean["act_inf"] == 0
    assert clean["act_norm"] == pytest.approx(reference(y)["norm"], rel=1e-5)


def test_infinity_counted_as_inf_not_nan():
    x = torch.randn(50, 50)
    x[1, 1] = float("inf")
    got = stats_of(x, SAMPLED)
    assert got["act_inf"] >= 1 and got["act_nan"] == 0


def test_batchnorm_moments_and_gap_at_mean_100_std_003():
    g = torch.Generator().manual_seed(3)
    x = 100 + 0.03 * torch.randn(64, 4, 6, 6, generator=g)
    a = np.moveaxis(x.double().numpy(), 1, 0).reshape(4, -1)
    mean, var = batch_channel_moments(x)
    np.testing.assert_allclose(mean.numpy(), a.mean(1), rtol=1e-6)
    np.testing.assert_allclose(var.numpy(), a.var(1), rtol=1e-3)
    rm, rv, eps = torch.full((4,), 100.0), torch.full((4,), 0.0004), 1e-5
    gap = gaps(pack_gap_inputs(*input_batch_stats(x, eps), torch.cat([rm, rv])).numpy(), eps)
    ref_var_gap = np.mean(np.abs(np.log(a.var(1) + eps) - np.log(0.0004 + eps)))
    assert gap[1] == pytest.approx(ref_var_gap, rel=1e-3, abs=1e-4)


def _record(model, x, y, tmp_path, name, steps=2):
    """Record ``steps`` identical steps (lr 0) and the plain-autograd reference of step 0."""
    ref = copy.deepcopy(model)
    outs, h = {}, x
    for child, module in ref.named_children():
        h = module(h)
        h.retain_grad()
        outs[child] = h
    nn.functional.cross_entropy(h, y).backward()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with inspector.watch(model, run=name, root=tmp_path, every=1) as rec:
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            rec.step()
    grads = {n: p.grad.double().numpy() for n, p in ref.named_parameters()}
    act_grads = {n: o.grad.double().numpy() for n, o in outs.items()}
    return inspector.open_run(tmp_path / name), grads, act_grads


def exploding_relu_mlp(depth: int = 48, width: int = 64) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        lin = nn.Linear(width, width)
        nn.init.normal_(lin.weight, 0.0, 4 / math.sqrt(width))
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def test_exploding_relu_mlp_has_finite_norms_and_no_nan(tmp_path):
    model = exploding_relu_mlp()
    x, y = torch.randn(16, 64), torch.randint(0, 10, (16,))
    reader, grads, act_grads = _record(model, x, y, tmp_path, "explode")
    biggest = max(np.abs(g).max() for g in grads.values())
    assert 1e15 < biggest < 1e38  # finite in float32, far beyond sqrt(float32 max)
    for step in (0, 1):  # step 1: the recorder's choice of fast/robust path must hold too
        g_norm, g_nan = reader.at_step("g_norm", step), reader.at_step("g_nan", step)
        for name, g in grads.items():
            assert g_norm[name] == pytest.approx(np.linalg.norm(g), rel=1e-5), name
            assert g_nan[name] == 0 and reader.at_step("g_inf", step)[name] == 0
        grad_norm = reader.at_step("grad_norm", step)
        for name, g in act_grads.items():
            assert grad_norm[name] == pytest.approx(np.linalg.norm(g), rel=1e-5), name
            assert reader.at_step("grad_nan", step)[name] == 0
        assert all(math.isfinite(v) for v in reader.at_step("act_norm", step).values())


def test_deep_small_init_tanh_net_gradients_are_tiny_not_zero(tmp_path):
    torch.manual_seed(1)
    layers: list[nn.Module] = []
    for _ in range(24):
        lin = nn.Linear(32, 32)
        nn.init.normal_(lin.weight, 0.0, 0.1 / math.sqrt(32))
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.Tanh()]
    model = nn.Sequential(nn.Linear(32, 32), nn.Tanh(), *layers, nn.Linear(32, 6))
    x, y = torch.randn(16, 32), torch.randint(0, 6, (16,))
    reader, grads, act_grads = _record(model, x, y, tmp_path, "vanish")
    first = grads["0.weight"]
    assert 0 < np.abs(first).max() < 1e-20  # tiny but non-zero in float32
    for step in (0, 1):
        g_norm = reader.at_step("g_norm", step)
        for name, g in grads.items():
            assert g_norm[name] == pytest.approx(np.linalg.norm(g), rel=1e-5), name
            assert g_norm[name] > 0
        grad_norm = reader.at_step("grad_norm", step)
        for name, g in act_grads.items():
            assert grad_norm[name] == pytest.approx(np.linalg.norm(g), rel=1e-5), name
