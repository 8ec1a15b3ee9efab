"""Depth-configurable plain / residual networks for the depth-vs-trainability study.

``mlp`` builds: stem (input -> width) + ``depth`` hidden blocks (width -> width: linear,
[norm], activation) + head. ``plain_cnn`` builds the same kind of blocks in stages with
downsampling between them (He et al. 2016's CIFAR nets, scaled down). With
``skip="residual"`` each hidden block computes ``x + block(x)`` (the ordering of Inside Deep
Learning's ResidualBlockE and DLwPT's ResBlock: the activation is inside the branch). The
skip adds no parameters and the modules are created in the same order, so the plain and
residual variants have identical parameter names and shapes and, from the same torch seed,
identical initial weights: the comparison isolates the skip connection.

``depth`` counts hidden blocks; the mlp has ``depth + 2`` weight layers, the CNN
``depth + stages + 1`` (stem, ``stages - 1`` transitions, head).
"""

from __future__ import annotations

from enum import StrEnum

import torch
from torch import nn

from inspector.models.common import check_int, hw, make_act, parse_choice


class Norm(StrEnum):
    NONE = "none"
    BATCH = "batch"
    LAYER = "layer"


class Skip(StrEnum):
    NONE = "none"
    RESIDUAL = "residual"


class HiddenBlock(nn.Module):
    """linear/conv -> [norm] -> activation, optionally wrapped as ``x + block(x)``."""

    def __init__(
        self, layer: nn.Module, norm: nn.Module | None, act: nn.Module, residual: bool
    ) -> None:
        super().__init__()
        self.layer = layer
        self.norm = norm if norm is not None else nn.Identity()
        self.act = act
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.norm(self.layer(x)))
        return x + out if self.residual else out

    def extra_repr(self) -> str:
        return "residual=True" if self.residual else ""


def _norm(norm: Norm, width: int, conv: bool) -> nn.Module | None:
    if norm is Norm.NONE:
        return None
    if norm is Norm.BATCH:
        return nn.BatchNorm2d(width) if conv else nn.BatchNorm1d(width)
    # Layer norm over each sample's features; for conv maps over (C, H, W) with per-channel
    # affine (GroupNorm with one group), so it works at any image size.
    return nn.GroupNorm(1, width) if conv else nn.LayerNorm(width)


def _parse(depth: int, width: int, act: str, norm: str, skip: str) -> tuple[Norm, bool]:
    check_int(depth, "depth", 0)
    check_int(width, "width", 1)
    make_act(act)  # validates the name
    return parse_choice(Norm, norm, "norm"), parse_choice(Skip, skip, "skip") is Skip.RESIDUAL


class Transition(nn.Module):
    """Stride-2 3x3 conv -> [norm] -> activation between stages: halves the map, doubles the
    channels. The same module in the plain and the residual variant (it never has a skip)."""

    def __init__(self, layer: nn.Module, norm: nn.Module | None, act: nn.Module) -> None:
        super().__init__()
        self.layer = layer
        self.norm = norm if norm is not None else nn.Identity()
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.layer(x)))


def stage_sizes(depth: int, stages: int) -> list[int]:
    """Hidden blocks per stage: ``depth`` split as evenly as possible, earlier stages first."""
    return [depth // stages + (1 if s < depth % stages else 0) for s in range(stages)]


def plain_cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    depth: int = 8,
    width: int = 16,
    act: str = "relu",
    norm: str = "none",
    skip: str = "none",
    stages: int = 3,
) -> nn.Module:
    """He et al. (2016)'s CIFAR plain/residual nets, scaled down: a 3x3 conv stem and a 2x2
    max-pool, then ``stages`` stages of same-size 3x3 conv blocks (``depth`` in all, split
    evenly), a stride-2 transition doubling the channels between stages (width, 2 width,
    4 width), global average pooling and a linear head. The downsampling and the wider last
    stage are what let the net train at small depth within a CPU budget (the map the head
    sees summarises the whole image); the blocks are where depth (and the skip) varies."""
    hw(image_size)
    check_int(stages, "stages", 1)
    norm_kind, residual = _parse(depth, width, act, norm, skip)
    layers: list[nn.Module] = [
        HiddenBlock(
            nn.Conv2d(in_channels, width, 3, padding=1),
            _norm(norm_kind, width, True),
            make_act(act),
            residual=False,
        ),
        nn.MaxPool2d(2),
    ]
    channels = width
    for stage, blocks in enumerate(stage_sizes(depth, stages)):
        if stage > 0:
            layers.append(
                Transition(
                    nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1),
                    _norm(norm_kind, 2 * channels, True),
                    make_act(act),
                )
            )
            channels *= 2
        layers += [
            HiddenBlock(
                nn.Conv2d(channels, channels, 3, padding=1),
                _norm(norm_kind, channels, True),
                make_act(act),
                residual,
            )
            for _ in range(blocks)
        ]
    net = nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)
    )
    _init_cnn(net, act)
    return net


def _init_cnn(net: nn.Module, act: str) -> None:
    """He et al.'s initialisation, as DLWPT's NetResDeep does it (sec. 8.5.3): convs
    ``kaiming_normal_`` (gain of the activation), BatchNorm of the hidden blocks starting at
    weight 0.5 and bias 0 so each residual branch initially adds half-variance increments
    (without this the residual stream grows with depth and the deep residual nets train
    erratically). Applied identically to the plain and the residual variant."""
    gain_of = {"tanh": "tanh", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu"}
    nonlinearity = gain_of.get(str(act), "relu")
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, a=0.1, nonlinearity=nonlinearity)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        if isinstance(module, HiddenBlock) and isinstance(module.norm, nn.BatchNorm2d):
            nn.init.constant_(module.norm.weight, 0.5)
            nn.init.zeros_(module.norm.bias)


def mlp(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    depth: int = 8,
    width: int = 64,
    act: str = "relu",
    norm: str = "none",
    skip: str = "none",
) -> nn.Module:
    """Flatten, Linear(D, width) stem, ``depth`` width -> width blocks, linear head."""
    h, w = hw(image_size)
    norm_kind, residual = _parse(depth, width, act, norm, skip)
    stem = HiddenBlock(
        nn.Linear(in_channels * h * w, width),
        _norm(norm_kind, width, False),
        make_act(act),
        residual=False,
    )
    blocks = [
        HiddenBlock(
            nn.Linear(width, width), _norm(norm_kind, width, False), make_act(act), residual
        )
        for _ in range(depth)
    ]
    return nn.Sequential(nn.Flatten(), stem, *blocks, nn.Linear(width, num_classes))
