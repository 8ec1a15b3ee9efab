"""Saliency methods on a small CNN, torchvision resnet18 (in-place ReLU) and a tuple model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from inspector.errors import InspectorError
from inspector.probes.saliency import (
    ALL_METHODS,
    SaliencyConfig,
    compute_saliency,
    inference_copy,
    last_conv_layer,
    normalise_maps,
    occlusion_geometry,
    select_output,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small_cnn(in_channels: int = 1, classes: int = 4) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(in_channels, 8, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, classes),
    )


class TupleNet(nn.Module):
    """Returns (logits, features) like many research models."""

    def __init__(self) -> None:
        super().__init__()
        self.body = small_cnn()

    def forward(self, x):
        feats = self.body[:6](x).flatten(1)
        return self.body[7](feats), feats


FAST = SaliencyConfig(ig_steps=8, smoothgrad_samples=4, occlusion_window=8, occlusion_stride=8)


def check_maps(result, n: int, h: int, w: int) -> None:
    assert set(result.maps) == {str(m) for m in ALL_METHODS}
    for method, m in result.maps.items():
        assert m.shape == (n, h, w), method
        assert m.dtype == np.float32, method
        assert np.isfinite(m).all() and (m >= 0).all() and (m <= 1 + 1e-6).all(), method
        peaks = m.reshape(n, -1).max(axis=1)
        assert np.all((np.abs(peaks - 1) < 1e-5) | (peaks == 0)), method


def test_small_cnn_every_method():
    net = small_cnn()
    x = torch.rand(3, 1, 28, 28)
    res = compute_saliency(net, x, config=FAST)
    check_maps(res, 3, 28, 28)
    assert res.target_layer == "3"
    with torch.no_grad():
        assert res.predictions == net(x).argmax(1).tolist() == res.targets
    assert not res.errors


def test_resnet18_inplace_relu_and_model_untouched():
    net = torchvision.models.resnet18(num_classes=10)
    net.train()
    x = torch.rand(2, 3, 32, 32)
    res = compute_saliency(net, x, labels=[1, 7], config=FAST)
    check_maps(res, 2, 32, 32)
    assert res.targets == [1, 7]
    assert res.target_layer == "layer3.1.conv2"  # layer4 is 1x1 at 32 px: a constant CAM
    assert net.relu.inplace and net.layer1[0].relu.inplace  # the copy changed, not the model
    assert net.training and all(p.requires_grad and p.grad is None for p in net.parameters())


def test_tuple_output_with_default_and_explicit_selector():
    net = TupleNet()
    x = torch.rand(2, 1, 28, 28)
    res = compute_saliency(net, x, config=FAST)
    check_maps(res, 2, 28, 28)
    assert res.target_layer == "body.3"
    picked = compute_saliency(net, x, methods=["saliency"], output_selector=0, config=FAST)
    np.testing.assert_allclose(picked.maps["saliency"], res.maps["saliency"], rtol=1e-5)
    by_fn = compute_saliency(
        net,
        x,
        methods=["gradcam"],
        target_layer="body.0",
        output_selector=lambda out: out[0],
        config=FAST,
    )
    assert by_fn.target_layer == "body.0" and by_fn.maps["gradcam"].shape == (2, 28, 28)


def test_select_output_variants_and_errors():
    t = torch.zeros(2, 3)
    assert select_output(t) is t
    assert select_output((t, 1)) is t
    assert select_output({"logits": t, "aux": 0}) is t
    assert select_output({"aux": 0, "logits": t}, "logits") is t
    assert select_output([0, t], 1) is t
    with pytest.raises(InspectorError, match="output_selector"):
        select_output(t, "logits")
    with pytest.raises(InspectorError, match="not a tensor"):
        select_output((None, t))


def test_normalise_maps_against_numpy():
    attr = torch.randn(3, 2, 5, 6)
    attr[1] = 0
    got = normalise_maps(attr)
    ref = np.abs(attr.numpy()).sum(axis=1)
    peak = ref.reshape(3, -1).max(axis=1)
    ref[[0, 2]] /= peak[[0, 2], None, None]
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    assert (got[1] == 0).all()


def test_helpers_and_user_errors():
    net = small_cnn()
    assert last_conv_layer(net, torch.rand(1, 1, 28, 28)) == "3"
    assert (
        last_conv_layer(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), torch.rand(1, 1, 2, 2))
        is None
    )
    assert occlusion_geometry(28, 28, SaliencyConfig()) == (5, 3)
    copy = inference_copy(net)
    assert not copy.training and not any(getattr(m, "inplace", False) for m in copy.modules())
    x = torch.rand(2, 1, 28, 28)
    with pytest.raises(InspectorError, match="unknown saliency method"):
        compute_saliency(net, x, methods=["lime"])
    with pytest.raises(InspectorError, match="target_layer"):
        compute_saliency(net, x, target_layer="nope")
    with pytest.raises(InspectorError, match=r"\(N, C, H, W\)"):
        compute_saliency(net, x[0])
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 3))
    res = compute_saliency(mlp, x, methods=["saliency", "gradcam"], strict=False, config=FAST)
    assert "saliency" in res.maps and "gradcam" in res.errors
