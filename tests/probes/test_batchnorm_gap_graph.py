"""The BN gap read from the graph's saved batch statistics equals the one computed from the
input, and is absent (None) where the graph has no batch statistics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inspector.probes.batchnorm_gap import (
    gaps,
    input_batch_stats,
    pack_gap_inputs,
    saved_batch_stats,
)


def gap_from_graph(out, rm, rv, eps):
    batch = saved_batch_stats(out, rm.numel())
    if batch is None:
        return None
    return np.array(gaps(pack_gap_inputs(*batch, torch.cat([rm, rv])).numpy(), eps))


def batchnorm_gap(x, rm, rv, eps):
    batch = input_batch_stats(x, eps)
    return np.array(gaps(pack_gap_inputs(*batch, torch.cat([rm, rv])).numpy(), eps))


def _bn_output(bn: nn.Module, x: torch.Tensor):
    rm, rv = bn.running_mean.clone(), bn.running_var.clone()
    return bn(x), rm, rv


@pytest.mark.parametrize(
    "shape, mean, std",
    [((16, 4, 5, 5), 0.0, 1.0), ((32, 3, 7), 3.0, 0.5), ((64, 5), -2.0, 4.0)],
)
def test_gap_from_graph_matches_float64_reference(shape, mean, std):
    torch.manual_seed(0)
    bn = {4: nn.BatchNorm2d, 3: nn.BatchNorm1d, 2: nn.BatchNorm1d}[len(shape)](shape[1])
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    x = (mean + std * torch.randn(*shape)).requires_grad_()
    out, rm, rv = _bn_output(bn, x)
    got = gap_from_graph(out, rm, rv, bn.eps)
    assert got is not None
    a = np.moveaxis(x.detach().double().numpy(), 1, 0).reshape(shape[1], -1)
    rm64, rv64 = rm.double().numpy(), rv.double().numpy()
    ref_mean = np.mean(np.abs(a.mean(1) - rm64) / np.sqrt(rv64 + bn.eps))
    ref_var = np.mean(np.abs(np.log(a.var(1) + bn.eps) - np.log(rv64 + bn.eps)))
    np.testing.assert_allclose(got, [ref_mean, ref_var], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got, batchnorm_gap(x.detach(), rm, rv, bn.eps), rtol=1e-4, atol=1e-6)


def test_tiny_variance_keeps_its_log_through_invstd():
    """var << eps: log(var + eps) comes from BN's own 1/sqrt(var + eps), no cancellation."""
    bn = nn.BatchNorm1d(2)
    x = (1e-4 * torch.randn(128, 2)).requires_grad_()
    out, rm, rv = _bn_output(bn, x)
    np.testing.assert_allclose(
        gap_from_graph(out, rm, rv, bn.eps),
        batchnorm_gap(x.detach(), rm, rv, bn.eps),
        rtol=1e-4,
    )


def test_no_batch_statistics_in_the_graph_gives_none():
    bn = nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 2, 2, requires_grad=True)
    rm, rv = bn.running_mean.clone(), bn.running_var.clone()
    with torch.no_grad():
        assert gap_from_graph(bn(x), rm, rv, bn.eps) is None
    bn.eval()
    assert gap_from_graph(bn(x), rm, rv, bn.eps) is None  # evaluation: running stats used
    assert gap_from_graph(torch.relu(x), rm, rv, bn.eps) is None  # not a BN output
