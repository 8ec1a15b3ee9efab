"""Every one-off probe leaves the model without hooks: after success and when the model raises."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inspector.errors import InspectorError, ModelError
from inspector.probes.effective_rf import effective_rf, spatial_layers
from inspector.probes.param_summary import param_summary
from inspector.probes.receptive_field import receptive_field
from inspector.probes.rf_sequential import sequential_receptive_field
from inspector.probes.saliency import compute_saliency, conv_layers_in_order
from inspector.probes.saliency_trust import parameterised_layers
from inspector.probes.temporary_hooks import TemporaryHooks
from inspector.train.forward_check import check_forward


class SmallCNN(nn.Module):
    """Conv -> ReLU -> pool -> linear; ``fail=True`` raises after the first conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(16, 3)
        self.fail = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv(x))
        if self.fail:
            raise RuntimeError("model failure on purpose")
        return self.fc(self.pool(x).flatten(1))


def hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks)
        + len(m._forward_pre_hooks)
        + len(m._backward_hooks)
        + len(m._backward_pre_hooks)
        for m in model.modules()
    )


x = torch.randn(2, 1, 8, 8)
PROBES = {
    "param_summary": lambda m: param_summary(m, x, use_torchinfo=False),
    "receptive_field": lambda m: receptive_field(m, x[:1]),
    "sequential_receptive_field": lambda m: sequential_receptive_field(m, x[:1]),
    "spatial_layers": lambda m: spatial_layers(m, x),
    "effective_rf": lambda m: effective_rf(m, x, layer="conv"),
    "conv_layers_in_order": lambda m: conv_layers_in_order(m, x),
    "compute_saliency": lambda m: compute_saliency(m, x, methods=["gradcam"], strict=True),
    "parameterised_layers": lambda m: parameterised_layers(m, x),
    "check_forward": lambda m: check_forward(m, x),
}


@pytest.mark.parametrize("probe", sorted(PROBES))
@pytest.mark.parametrize("fail", [False, True], ids=["ok", "model-raises"])
def test_probe_leaves_no_hook(probe: str, fail: bool) -> None:
    torch.manual_seed(0)
    model = SmallCNN()
    model.fail = fail
    try:
        PROBES[probe](model)
    except (RuntimeError, InspectorError, ModelError):
        assert fail, f"{probe} raised on a healthy model"
    assert hook_count(model) == 0


def test_temporary_hooks_remove_when_a_hook_raises() -> None:
    model = SmallCNN()

    def stop(*_args: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), TemporaryHooks().forward([model.conv], stop) as hooks:
        assert len(hooks) == 1
        model(x)
    assert hook_count(model) == 0
