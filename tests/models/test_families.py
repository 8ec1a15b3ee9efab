"""plain_cnn / mlp: plain and residual variants differ only in the forward skip."""

from __future__ import annotations

import pytest
import torch

from inspector.models import create_model
from inspector.models.families import HiddenBlock, Transition, stage_sizes

CASES = [
    ("plain_cnn", act, norm) for act in ("tanh", "relu") for norm in ("none", "batch", "layer")
]
CASES += [
    ("mlp", act, norm)
    for act in ("sigmoid", "leaky_relu", "gelu")
    for norm in ("none", "batch", "layer")
]


def _pair(name: str, act: str, norm: str, depth: int = 4, width: int = 8):
    models = []
    for skip in ("none", "residual"):
        torch.manual_seed(123)
        models.append(
            create_model(
                name,
                in_channels=1,
                num_classes=3,
                image_size=12,
                depth=depth,
                width=width,
                act=act,
                norm=norm,
                skip=skip,
            )
        )
    return models


@pytest.mark.parametrize(("name", "act", "norm"), CASES)
def test_plain_and_residual_state_dicts_are_identical(name: str, act: str, norm: str) -> None:
    plain, res = _pair(name, act, norm)
    sd_p, sd_r = plain.state_dict(), res.state_dict()
    assert list(sd_p) == list(sd_r)
    for key in sd_p:
        assert sd_p[key].shape == sd_r[key].shape
        assert torch.equal(sd_p[key], sd_r[key]), key
    x = torch.randn(2, 1, 12, 12)
    assert not torch.allclose(plain(x), res(x))  # the skip is really there


def test_residual_block_adds_its_input() -> None:
    plain, res = _pair("mlp", "relu", "none", depth=1)
    blocks = [m for m in res.modules() if isinstance(m, HiddenBlock) and m.residual]
    assert len(blocks) == 1
    h = torch.randn(2, 8)
    assert torch.allclose(blocks[0](h), h + blocks[0].act(blocks[0].layer(h)))
    assert not any(m.residual for m in plain.modules() if isinstance(m, HiddenBlock))


@pytest.mark.parametrize("depth", [0, 1, 6])
def test_depth_counts_hidden_blocks(depth: int) -> None:
    for name in ("plain_cnn", "mlp"):
        model = create_model(name, depth=depth, width=4, image_size=8)
        n_hidden = sum(isinstance(m, HiddenBlock) for m in model.modules()) - 1  # minus stem
        assert n_hidden == depth
        assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_plain_cnn_stages_halve_the_map_and_double_the_channels() -> None:
    model = create_model("plain_cnn", depth=7, width=4, image_size=28, num_classes=6)
    shapes = []
    h = torch.randn(2, 1, 28, 28)
    for layer in model:
        h = layer(h)
        if isinstance(layer, (HiddenBlock, Transition)):
            shapes.append((type(layer).__name__, tuple(h.shape[1:])))
    assert shapes == [
        ("HiddenBlock", (4, 28, 28)),  # stem, then a 2x2 max-pool
        *[("HiddenBlock", (4, 14, 14))] * 3,
        ("Transition", (8, 7, 7)),
        *[("HiddenBlock", (8, 7, 7))] * 2,
        ("Transition", (16, 4, 4)),
        *[("HiddenBlock", (16, 4, 4))] * 2,
    ]
    assert h.shape == (2, 6)
    assert stage_sizes(7, 3) == [3, 2, 2] and stage_sizes(2, 3) == [1, 1, 0]


def test_plain_cnn_initialisation_follows_he_and_dlwpt() -> None:
    torch.manual_seed(0)
    model = create_model("plain_cnn", depth=6, width=32, norm="batch", skip="residual")
    blocks = [m for m in model.modules() if isinstance(m, HiddenBlock)]
    for block in blocks:
        assert torch.all(block.norm.weight == 0.5) and torch.all(block.norm.bias == 0)
    conv = blocks[-1].layer  # 128 channels in, fan_in 128 * 9: kaiming std sqrt(2 / fan_in)
    expected = (2 / (conv.in_channels * 9)) ** 0.5
    assert abs(conv.weight.std().item() / expected - 1) < 0.05
