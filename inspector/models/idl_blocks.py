"""Building blocks of Inside Deep Learning ch. 6 ("common design building blocks").

``cnn_layer`` (conv + optional norm + activation), ``SkipFC`` / ``SkipConv2d`` (dense skip
blocks: the last layer sees the concatenation of every earlier activation in the block),
``info_share_block`` (1x1 conv + BN + LeakyReLU), ``ResidualBlockE`` (x + F(x)) and
``ResidualBottleNeck`` (1x1 -> kxk -> 1x1 long path, 1x1 conv + BN shortcut when the channel
count changes). The networks that use them are in ``models.idl_models``.
"""

from __future__ import annotations

import torch
from torch import nn

from inspector.models.common import make_act

LEAK_RATE = 0.1  # the chapter's leak_rate


def norm_layer(
    norm: str, channels: int, spatial: tuple[int, int] | None = None, conv: bool = False
) -> nn.Module | None:
    """none -> None; batch -> BatchNorm1d/2d; layer -> LayerNorm over the whole sample
    (``[C, H, W]`` for conv maps, as the chapter's ``nn.LayerNorm([C, W//2**p, H//2**p])``)."""
    if norm == "none":
        return None
    if norm == "batch":
        return nn.BatchNorm2d(channels) if conv else nn.BatchNorm1d(channels)
    if norm == "layer":
        if conv and spatial is None:
            raise ValueError("a conv LayerNorm needs the feature-map size")
        return nn.LayerNorm([channels, *spatial] if conv else [channels])
    raise ValueError(f"norm must be none, batch or layer; got {norm!r}")


def cnn_layer(
    in_filters: int,
    out_filters: int | None = None,
    *,
    act: str = "leaky_relu",
    norm: str = "none",
    shape: tuple[int, int] | None = None,
    kernel_size: int = 3,
) -> nn.Sequential:
    """Same-padding conv, then the optional norm, then the activation (one unit)."""
    out_filters = in_filters if out_filters is None else out_filters
    layers: list[nn.Module] = [
        nn.Conv2d(in_filters, out_filters, kernel_size, padding=kernel_size // 2)
    ]
    n = norm_layer(norm, out_filters, shape, conv=True)
    if n is not None:
        layers.append(n)
    layers.append(make_act(act, LEAK_RATE))
    return nn.Sequential(*layers)


class SkipFC(nn.Module):
    """Dense-skip block of ``n_layers`` linear+BN+LeakyReLU layers (fig. 6.7).

    The first ``n_layers - 1`` layers are in_size -> in_size and chain; the last maps the
    concatenation of their activations (in_size * (n_layers - 1)) to ``out_size``.
    """

    def __init__(
        self, n_layers: int, in_size: int, out_size: int, leak_rate: float = LEAK_RATE
    ) -> None:
        super().__init__()
        if n_layers < 2:
            raise ValueError(f"SkipFC needs n_layers >= 2, got {n_layers}")
        last = n_layers - 1
        self.layers = nn.ModuleList(
            nn.Linear(in_size * last, out_size) if i == last else nn.Linear(in_size, in_size)
            for i in range(n_layers)
        )
        self.bns = nn.ModuleList(
            nn.BatchNorm1d(out_size) if i == last else nn.BatchNorm1d(in_size)
            for i in range(n_layers)
        )
        self.activation = nn.LeakyReLU(leak_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activations = []
        for layer, bn in zip(self.layers[:-1], self.bns[:-1], strict=True):
            x = self.activation(bn(layer(x)))
            activations.append(x)
        x = torch.cat(activations, dim=1)
        return self.activation(self.bns[-1](self.layers[-1](x)))


class SkipConv2d(nn.Module):
    """The convolutional version of ``SkipFC``: same-padding convs + BatchNorm2d, the last
    conv sees the channel-concatenation of the earlier activations."""

    def __init__(
        self,
        n_layers: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        leak_rate: float = LEAK_RATE,
    ) -> None:
        super().__init__()
        if n_layers < 2:
            raise ValueError(f"SkipConv2d needs n_layers >= 2, got {n_layers}")
        last = n_layers - 1
        pad = (kernel_size - 1) // 2
        self.layers = nn.ModuleList(
            nn.Conv2d(in_channels * last, out_channels, kernel_size, padding=pad)
            if i == last
            else nn.Conv2d(in_channels, in_channels, kernel_size, padding=pad)
            for i in range(n_layers)
        )
        self.bns = nn.ModuleList(
            nn.BatchNorm2d(out_channels) if i == last else nn.BatchNorm2d(in_channels)
            for i in range(n_layers)
        )
        self.activation = nn.LeakyReLU(leak_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activations = []
        for layer, bn in zip(self.layers[:-1], self.bns[:-1], strict=True):
            x = self.activation(bn(layer(x)))
            activations.append(x)
        x = torch.cat(activations, dim=1)
        return self.activation(self.bns[-1](self.layers[-1](x)))


def info_share_block(n_filters: int) -> nn.Sequential:
    """1x1 conv + BN + LeakyReLU (PyTorch's default slope, as written): mixes channels only."""
    return nn.Sequential(
        nn.Conv2d(n_filters, n_filters, 1), nn.BatchNorm2d(n_filters), nn.LeakyReLU()
    )


class ResidualBlockE(nn.Module):
    """Type-E residual block: x + F(x), F = (conv-BN-LeakyReLU) twice, same shape in and out."""

    def __init__(self, channels: int, kernel_size: int = 3, leak_rate: float = LEAK_RATE) -> None:
        super().__init__()
        pad = (kernel_size - 1) // 2
        self.F = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size, padding=pad),
            nn.BatchNorm2d(channels),
            nn.LeakyReLU(leak_rate),
            nn.Conv2d(channels, channels, kernel_size, padding=pad),
            nn.BatchNorm2d(channels),
            nn.LeakyReLU(leak_rate),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.F(x)


class ResidualBottleNeck(nn.Module):
    """Pre-activation bottleneck (fig. 6.11): BN-act-1x1 (shrink to max(out/4, in)),
    BN-act-kxk, BN-act-1x1 (expand to out); shortcut is identity or 1x1 conv + BN."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        leak_rate: float = LEAK_RATE,
    ) -> None:
        super().__init__()
        pad = (kernel_size - 1) // 2
        bottleneck = max(out_channels // 4, in_channels)
        self.F = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.LeakyReLU(leak_rate),
            nn.Conv2d(in_channels, bottleneck, 1),
            nn.BatchNorm2d(bottleneck),
            nn.LeakyReLU(leak_rate),
            nn.Conv2d(bottleneck, bottleneck, kernel_size, padding=pad),
            nn.BatchNorm2d(bottleneck),
            nn.LeakyReLU(leak_rate),
            nn.Conv2d(bottleneck, out_channels, 1),
        )
        self.shortcut: nn.Module = nn.Identity()
        if in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.F(x)
