"""The CIFAR-2 (bird vs airplane) networks of Deep Learning with PyTorch ch. 8.

Net (sec. 8.3.1), NetWidth (8.5.1), NetDropout (8.5.2), NetBatchNorm (8.5.2), NetDepth,
NetRes (8.5.3) and NetResDeep with its Kaiming-initialised ResBlock (8.5.3, fig. 8.12).
The chapter's final listings call tanh/relu/max-pool functionally; here they are module
instances (one per call site, as in the chapter's first ``Net`` listing) so that activation
hooks see them. The maths and parameters are the chapter's. ``fc1`` sizes are computed from
``image_size`` (8 * 8 * C for the chapter's 32 px).
"""

from __future__ import annotations

import torch
from torch import nn

from inspector.models.common import check_int, check_positive, hw


def _after_pools(image_size: object, pools: int, name: str) -> int:
    h, w = hw(image_size)
    h, w = check_positive((h >> pools, w >> pools), name, image_size)
    return h * w


class Net(nn.Module):
    """conv 16 -> tanh -> pool -> conv 8 -> tanh -> pool -> fc 32 -> tanh -> fc classes."""

    def __init__(self, in_channels: int = 3, num_classes: int = 2, image_size: int = 32) -> None:
        super().__init__()
        self.flat = 8 * _after_pools(image_size, 2, "net")
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1)
        self.act1 = nn.Tanh()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 8, kernel_size=3, padding=1)
        self.act2 = nn.Tanh()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(self.flat, 32)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pool1(self.act1(self.conv1(x)))
        out = self.pool2(self.act2(self.conv2(out)))
        out = self.act3(self.fc1(out.reshape(out.shape[0], self.flat)))
        return self.fc2(out)


class NetWidth(nn.Module):
    """Net with ``n_chans1`` (32) then n_chans1 // 2 channels; optional dropout / BN hooks
    let NetDropout and NetBatchNorm share the exact layer names."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        image_size: int = 32,
        n_chans1: int = 32,
        dropout: float = 0.0,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        self.n_chans1 = check_int(n_chans1, "n_chans1", 2)
        half = n_chans1 // 2
        self.flat = half * _after_pools(image_size, 2, type(self).__name__.lower())
        self.conv1 = nn.Conv2d(in_channels, n_chans1, kernel_size=3, padding=1)
        if batchnorm:
            self.conv1_batchnorm = nn.BatchNorm2d(num_features=n_chans1)
        self.act1 = nn.Tanh()
        self.pool1 = nn.MaxPool2d(2)
        if dropout:
            self.conv1_dropout = nn.Dropout2d(p=dropout)
        self.conv2 = nn.Conv2d(n_chans1, half, kernel_size=3, padding=1)
        if batchnorm:
            self.conv2_batchnorm = nn.BatchNorm2d(num_features=half)
        self.act2 = nn.Tanh()
        self.pool2 = nn.MaxPool2d(2)
        if dropout:
            self.conv2_dropout = nn.Dropout2d(p=dropout)
        self.fc1 = nn.Linear(self.flat, 32)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(32, num_classes)

    def _stage(self, i: int, x: torch.Tensor) -> torch.Tensor:
        out = getattr(self, f"conv{i}")(x)
        if hasattr(self, f"conv{i}_batchnorm"):
            out = getattr(self, f"conv{i}_batchnorm")(out)
        out = getattr(self, f"pool{i}")(getattr(self, f"act{i}")(out))
        if hasattr(self, f"conv{i}_dropout"):
            out = getattr(self, f"conv{i}_dropout")(out)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._stage(2, self._stage(1, x))
        out = self.act3(self.fc1(out.reshape(out.shape[0], self.flat)))
        return self.fc2(out)


class NetDropout(NetWidth):
    """NetWidth with Dropout2d(p=0.4) after each conv stage."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        image_size: int = 32,
        n_chans1: int = 32,
        dropout: float = 0.4,
    ) -> None:
        super().__init__(in_channels, num_classes, image_size, n_chans1, dropout=dropout)


class NetBatchNorm(NetWidth):
    """NetWidth with BatchNorm2d between each conv and its tanh."""

    def __init__(
        self, in_channels: int = 3, num_classes: int = 2, image_size: int = 32, n_chans1: int = 32
    ) -> None:
        super().__init__(in_channels, num_classes, image_size, n_chans1, batchnorm=True)


class NetDepth(nn.Module):
    """Three conv+ReLU+pool stages (n_chans1, n/2, n/2), fc 32 with ReLU; ``residual`` adds
    the second stage's output to the third conv's activation (NetRes)."""

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        image_size: int = 32,
        n_chans1: int = 32,
        residual: bool = False,
    ) -> None:
        super().__init__()
        self.n_chans1 = check_int(n_chans1, "n_chans1", 2)
        self.residual = residual
        half = n_chans1 // 2
        self.flat = half * _after_pools(image_size, 3, "netres" if residual else "netdepth")
        self.conv1 = nn.Conv2d(in_channels, n_chans1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(n_chans1, half, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(half, half, kernel_size=3, padding=1)
        self.act1, self.act2, self.act3, self.act4 = (nn.ReLU() for _ in range(4))
        self.pool1, self.pool2, self.pool3 = (nn.MaxPool2d(2) for _ in range(3))
        self.fc1 = nn.Linear(self.flat, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pool1(self.act1(self.conv1(x)))
        out = self.pool2(self.act2(self.conv2(out)))
        out3 = self.act3(self.conv3(out))
        out = self.pool3(out3 + out if self.residual else out3)
        out = self.act4(self.fc1(out.reshape(out.shape[0], self.flat)))
        return self.fc2(out)


def net_res(
    in_channels: int = 3, num_classes: int = 2, image_size: int = 32, n_chans1: int = 32
) -> nn.Module:
    """NetRes: NetDepth plus the identity skip around conv3."""
    return NetDepth(in_channels, num_classes, image_size, n_chans1, residual=True)


class ResBlock(nn.Module):
    """conv3x3 (no bias) -> BN -> ReLU, plus the input. Kaiming-normal conv (relu gain),
    BN weight 0.5 and bias 0, as in the chapter."""

    def __init__(self, n_chans: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)
        self.act = nn.ReLU()
        nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        nn.init.constant_(self.batch_norm.weight, 0.5)
        nn.init.zeros_(self.batch_norm.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.batch_norm(self.conv(x))) + x


class NetResDeep(nn.Module):
    """conv1 + ReLU + pool, ``n_blocks`` ResBlocks, pool, fc 32 (ReLU), fc classes.

    ``shared_blocks=True`` is the chapter's listing verbatim in effect:
    ``nn.Sequential(*(n_blocks * [ResBlock(...)]))`` repeats ONE block instance, so all
    "blocks" share one set of weights (and one BN). ``False`` builds independent blocks.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        image_size: int = 32,
        n_chans1: int = 32,
        n_blocks: int = 10,
        shared_blocks: bool = False,
    ) -> None:
        super().__init__()
        self.n_chans1 = check_int(n_chans1, "n_chans1", 1)
        check_int(n_blocks, "n_blocks", 1)
        self.flat = n_chans1 * _after_pools(image_size, 2, "netresdeep")
        self.conv1 = nn.Conv2d(in_channels, n_chans1, kernel_size=3, padding=1)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        if shared_blocks:
            self.resblocks = nn.Sequential(*(n_blocks * [ResBlock(n_chans=n_chans1)]))
        else:
            self.resblocks = nn.Sequential(*(ResBlock(n_chans=n_chans1) for _ in range(n_blocks)))
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(self.flat, 32)
        self.act2 = nn.ReLU()
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pool1(self.act1(self.conv1(x)))
        out = self.pool2(self.resblocks(out))
        out = self.act2(self.fc1(out.reshape(out.shape[0], self.flat)))
        return self.fc2(out)


def net_res_deep_shared(
    in_channels: int = 3,
    num_classes: int = 2,
    image_size: int = 32,
    n_chans1: int = 32,
    n_blocks: int = 10,
) -> nn.Module:
    return NetResDeep(in_channels, num_classes, image_size, n_chans1, n_blocks, shared_blocks=True)


def net_res_deep(
    in_channels: int = 3,
    num_classes: int = 2,
    image_size: int = 32,
    n_chans1: int = 32,
    n_blocks: int = 10,
) -> nn.Module:
    return NetResDeep(in_channels, num_classes, image_size, n_chans1, n_blocks, shared_blocks=False)
