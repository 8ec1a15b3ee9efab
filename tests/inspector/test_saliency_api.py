"""``inspector.saliency_api.explain``: on-demand maps plus trust scores from Python."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inspector.errors import InspectorError
from inspector.probes.saliency import SaliencyConfig
from inspector.saliency_api import explain

CHEAP = SaliencyConfig(ig_steps=4, smoothgrad_samples=2, occlusion_window=7, occlusion_stride=7)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 3),
    )


def test_explain_with_masks_and_randomization():
    x = torch.rand(3, 1, 14, 14)
    masks = torch.zeros(3, 14, 14, dtype=torch.bool)
    masks[:, 4:10, 4:10] = True
    res = explain(
        cnn(),
        x,
        labels=[0, 1, 2],
        methods=["saliency", "gradcam"],
        masks=masks,
        config=CHEAP,
        max_stages=2,
    )
    assert res.methods == ["saliency", "gradcam"] and res.targets == [0, 1, 2]
    assert res.images.shape == (3, 1, 14, 14) and res.masks.dtype == bool
    assert res.randomized_stages == [["7"], ["7", "3", "0"]]
    for method in res.methods:
        t = res.trust[method]
        assert len(t["randomization_by_stage"]) == 2
        assert t["randomization_spearman"] == t["randomization_by_stage"][-1]
        assert 0 <= t["mask_share"] <= 1 and 0 <= t["pointing_hit_rate"] <= 1
    doc = res.summary(["a", "b", "c"])
    assert doc["labels"] == [0, 1, 2] and doc["class_names"] == ["a", "b", "c"]
    assert doc["target_layer"] == "3" and doc["methods"] == ["saliency", "gradcam"]


def test_explain_without_randomization_or_masks():
    res = explain(cnn(), torch.rand(2, 1, 14, 14), randomization=False, config=CHEAP)
    assert len(res.maps) == 6
    for t in res.trust.values():
        assert t["randomization_spearman"] is None and t["reflects_model"] is None
        assert t["mask_share"] is None and t["pointing_hit_rate"] is None
    assert all(np.isfinite(m).all() for m in res.maps.values())


def test_explain_rejects_misshaped_masks():
    with pytest.raises(InspectorError, match="masks must be"):
        explain(cnn(), torch.rand(2, 1, 14, 14), masks=np.ones((2, 7, 7), bool))
