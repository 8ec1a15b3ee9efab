"""BatchNorm gap, unit activity and activation bounds against naive references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inspector.probes.batchnorm_gap import (
    batch_channel_moments,
    gaps,
    input_batch_stats,
    pack_gap_inputs,
)
from inspector.probes.saturation import activation_bounds, can_die
from inspector.probes.unit_activity import active_units


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (4, 3, 6, 7)])
def test_batch_channel_moments_match_numpy(shape):
    torch.manual_seed(0)
    x = torch.randn(*shape) * 2 + 0.5
    mean, var = batch_channel_moments(x)
    a = np.moveaxis(x.numpy().astype(np.float64), 1, 0).reshape(shape[1], -1)
    np.testing.assert_allclose(mean.numpy(), a.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var.numpy(), a.var(axis=1), rtol=1e-4, atol=1e-6)


def test_batchnorm_gap_against_formula():
    torch.manual_seed(1)
    x = torch.randn(16, 4, 3, 3) * 3 + 2
    rm, rv, eps = torch.zeros(4), torch.ones(4), 1e-5
    gap = gaps(pack_gap_inputs(*input_batch_stats(x, eps), torch.cat([rm, rv])).numpy(), eps)
    a = np.moveaxis(x.numpy().astype(np.float64), 1, 0).reshape(4, -1)
    mean_gap = np.mean(np.abs(a.mean(1) - 0) / np.sqrt(1 + eps))
    var_gap = np.mean(np.abs(np.log(a.var(1) + eps) - np.log(1 + eps)))
    np.testing.assert_allclose(gap, [mean_gap, var_gap], rtol=1e-4)


def test_batchnorm_gap_is_zero_when_running_stats_match():
    x = torch.randn(32, 3, 4, 4)
    mean, var = batch_channel_moments(x)
    gap = gaps(pack_gap_inputs(*input_batch_stats(x, 0.0), torch.cat([mean, var])).numpy(), 0.0)
    np.testing.assert_allclose(gap, [0.0, 0.0], atol=1e-5)


def test_active_units_naive():
    x = torch.relu(torch.randn(5, 6, 3, 3))
    x[:, 2] = 0
    x[:, 4] = 0
    naive = [bool((x[:, c] > 0).any()) for c in range(6)]
    assert active_units(x).tolist() == naive
    assert active_units(torch.tensor([0.0, 1.0])).tolist() == [False, True]


def test_activation_bounds_and_rectifiers():
    assert activation_bounds(nn.Sigmoid()) == (0.0, 1.0)
    assert activation_bounds(nn.Tanh()) == (-1.0, 1.0)
    assert activation_bounds(nn.ReLU6()) == (0.0, 6.0)
    assert activation_bounds(nn.Hardtanh(-2, 3)) == (-2.0, 3.0)
    assert activation_bounds(nn.ReLU()) is None and activation_bounds(nn.GELU()) is None
    assert can_die(nn.ReLU()) and not can_die(nn.LeakyReLU())


def test_unit_dim_follows_the_producing_layer():
    from inspector.probes.unit_activity import unit_dim

    assert unit_dim(nn.Linear(3, 4), 3) == 2 and unit_dim(nn.Linear(3, 4), 2) == 1
    assert unit_dim(nn.Conv1d(3, 4, 1), 3) == 1 and unit_dim(nn.Conv2d(3, 4, 1), 4) == 1
    assert unit_dim(nn.BatchNorm1d(4), 3) == 1 and unit_dim(nn.LayerNorm(4), 3) == 2
    assert unit_dim(nn.LSTM(3, 4), 3) == 2
    assert unit_dim(None, 4) == 1 and unit_dim(None, 3) == 2 and unit_dim(None, 1) == 0


def test_active_units_on_the_last_dim_of_sequences():
    x = torch.relu(torch.randn(4, 7, 32))
    x[..., 4:] = 0  # 28 of 32 features dead at every position of every sequence
    active = active_units(x, channel_dim=-1)
    naive = [bool((x[..., f] > 0).any()) for f in range(32)]
    assert active.tolist() == naive and int(active.sum()) == 4
