"""Effective receptive field: against autograd/closed-form references and the theoretical field."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from inspector.errors import InspectorError
from inspector.probes.effective_rf import (
    default_erf_layer,
    effective_rf,
    erf_radius,
    spatial_layers,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def conv_stack(depth: int, relu: bool = True, seed: int = 0) -> nn.Sequential:
    """``depth`` 3x3 stride-1 'same' convs: theoretical rf = 1 + 2 * depth (by hand)."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    c = 1
    for _ in range(depth):
        layers.append(nn.Conv2d(c, 8, 3, padding=1))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        c = 8
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))


def test_matches_naive_per_sample_autograd():
    net = conv_stack(3)
    x = torch.rand(4, 1, 17, 17)
    got = effective_rf(net, x)
    assert got.layer == "4"  # the last conv before the global pool
    ref = torch.zeros(17, 17)
    for i in range(4):
        xi = x[i : i + 1].clone().requires_grad_(True)
        out = net[:5](xi)  # through conv "4"
        out[0, :, 8, 8].sum().backward()
        ref += xi.grad[0].abs().mean(0)
    ref = (ref / ref.sum()).numpy()
    np.testing.assert_allclose(got.erf, ref, rtol=1e-5, atol=1e-8)
    assert got.erf.dtype == np.float32 and got.erf.shape == (17, 17)
    assert abs(float(got.erf.sum()) - 1) < 1e-5 and (got.erf >= 0).all()


def test_uniform_weights_give_the_closed_form_and_a_narrow_field():
    """Luo et al.'s uniform-weight case: the map is a 2-D trinomial, far inside the rf."""
    depth, size = 8, 33
    net = conv_stack(depth, relu=False)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
    got = effective_rf(net, torch.rand(2, 1, size, size), layer=str(depth - 1))
    line = np.array([1.0])
    for _ in range(depth):
        line = np.convolve(line, [1.0, 1.0, 1.0])
    ref = np.zeros((size, size))
    c, half = size // 2, depth
    ref[c - half : c + half + 1, c - half : c + half + 1] = np.outer(line, line)
    ref /= ref.sum()
    np.testing.assert_allclose(got.erf, ref, rtol=1e-4, atol=1e-9)
    theoretical = 1 + 2 * depth  # 17
    assert got.center == pytest.approx((c, c), abs=1e-6)
    assert got.erf_size < 0.8 * theoretical  # 95% of the mass in an 11 px square (rf 17)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_init_concentrates_at_centre_and_is_narrower_than_theoretical(seed):
    depth, size = 12, 33
    theoretical = 1 + 2 * depth  # 25 px by hand: each 3x3 stride-1 conv adds 2
    net = conv_stack(depth, seed=seed)
    torch.manual_seed(seed)
    got = effective_rf(net, torch.rand(16, 1, size, size))
    c = size // 2
    assert got.unit == (c, c)
    # support is exactly the theoretical box around the centre unit
    inside = np.zeros((size, size), bool)
    inside[c - depth : c + depth + 1, c - depth : c + depth + 1] = True
    assert float(got.erf[~inside].sum()) == 0.0
    assert abs(got.center[0] - c) < 1.5 and abs(got.center[1] - c) < 1.5
    centre_density = got.erf[c - 2 : c + 3, c - 2 : c + 3].mean()
    rim = inside.copy()
    rim[c - depth + 2 : c + depth - 1, c - depth + 2 : c + depth - 1] = False
    assert centre_density > 3 * got.erf[rim].mean()
    assert got.erf_size < 0.9 * theoretical


def test_erf_radius_against_brute_force():
    rng = np.random.default_rng(0)
    m = rng.random((15, 15)) ** 4
    m /= m.sum()
    for share in (0.5, 0.9, 0.95):
        r, (ci, cj) = erf_radius(m, share)
        rows, cols = np.indices(m.shape)
        dist = np.maximum(np.abs(rows - ci), np.abs(cols - cj))
        levels = np.unique(dist)
        mass = np.array([m[dist <= d + 1e-12].sum() for d in levels])
        k = int(np.argmax(mass >= share - 1e-12))  # first disc holding the share
        lower = levels[k - 1] if k > 0 else 0.0
        assert lower - 1e-9 <= r <= levels[k] + 1e-9
    delta = np.zeros((9, 9))
    delta[4, 4] = 1.0
    assert erf_radius(delta, 0.95) == (0.0, (4.0, 4.0))


def test_resnet18_inplace_relu_mode_and_flags_restored():
    net = torchvision.models.resnet18(num_classes=10)
    net.train()
    net.fc.weight.requires_grad_(False)
    x = torch.rand(2, 3, 32, 32)
    got = effective_rf(net, x, layer="layer2")
    assert got.output_shape == (128, 4, 4)
    assert np.isfinite(got.erf).all() and abs(float(got.erf.sum()) - 1) < 1e-5
    assert net.training and all(m.training for m in net.modules())
    assert net.fc.weight.requires_grad is False and net.conv1.weight.requires_grad is True
    assert all(p.grad is None for p in net.parameters())
    assert default_erf_layer(net, x[:1]) == "layer4.1.conv2"
    one = effective_rf(net, x, layer="layer3", channel=5)
    assert one.erf.shape == (32, 32)


def test_models_without_spatial_layers_are_refused():
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
    x = torch.rand(2, 1, 8, 8)
    assert spatial_layers(mlp, x) == []
    with pytest.raises(InspectorError, match="no Conv2d/pooling"):
        effective_rf(mlp, x)
    with pytest.raises(InspectorError, match="no module named"):
        effective_rf(conv_stack(1), x, layer="nope")


def test_erf_size_is_interpolated_between_shells_not_rounded_to_odd():
    """A uniform 9x9 square: shells hold (2d+1)^2/81 of the mass; 95% lies between d=3 and 4."""
    m = np.zeros((17, 17))
    m[4:13, 4:13] = 1.0
    r, center = erf_radius(m, 0.95)
    assert center == pytest.approx((8.0, 8.0))
    inner = 49 / 81
    assert r == pytest.approx(3 + (0.95 - inner) / (1 - inner))
    assert 2 * r + 1 == pytest.approx(8.747, abs=1e-3)  # not 9: an honest continuous size
