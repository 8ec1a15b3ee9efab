"""Depth-configurable plain / residual networks for the depth-vs-trainability study.

``plain_cnn`` and ``mlp`` build: stem (input -> width) + ``depth`` hidden blocks
(width -> width: linear/conv, [norm], activation) + head. With ``skip="residual"`` each hidden
block computes ``x + block(x)`` (the ordering of Inside Deep Learning's ResidualBlockE and
DLwPT's ResBlock: the activation is inside the branch). The skip adds no parameters and the
modules are created in the same order, so the plain and residual variants have identical
parameter names and shapes and, from the same torch seed, identical initial weights: the
comparison isolates the skip connection.

``depth`` counts hidden blocks; the network has ``depth + 2`` weight layers.
"""

from __future__ import annotations

from enum import StrEnum

import torch
from torch import nn

from models.common import check_int, hw, make_act, parse_choice


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


def plain_cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    depth: int = 8,
    width: int = 16,
    act: str = "relu",
    norm: str = "none",
    skip: str = "none",
) -> nn.Module:
    """3x3 conv stem, ``depth`` same-size 3x3 conv blocks of ``width`` channels, global
    average pooling, linear head. No downsampling, so depth is the only thing that varies."""
    hw(image_size)
    norm_kind, residual = _parse(depth, width, act, norm, skip)
    stem = HiddenBlock(
        nn.Conv2d(in_channels, width, 3, padding=1),
        _norm(norm_kind, width, True),
        make_act(act),
        residual=False,
    )
    blocks = [
        HiddenBlock(
            nn.Conv2d(width, width, 3, padding=1),
            _norm(norm_kind, width, True),
            make_act(act),
            residual,
        )
        for _ in range(depth)
    ]
    return nn.Sequential(
        stem, *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes)
    )


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
