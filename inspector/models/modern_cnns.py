"""GoogLeNet, ResNet-18 and DenseNet as d2l (PyTorch ed. ch. 5, zh ch. 7) builds them.

All three start with a 7x7/2 conv and a 3x3/2 max-pool and end in global average pooling,
so they run unchanged on 28/32 px inputs (d2l trains them on 96 px Fashion-MNIST); DenseNet's
transition average-pools use ceil mode so a 7 px map halves to 4, 2, 1 instead of vanishing
(identical to floor mode on the chapter's even sizes).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F


def _stem(in_channels: int, bn: bool) -> list[tuple[str, nn.Module]]:
    layers: list[tuple[str, nn.Module]] = [
        ("conv", nn.Conv2d(in_channels, 64, 7, stride=2, padding=3))
    ]
    if bn:
        layers.append(("bn", nn.BatchNorm2d(64)))
    layers += [("relu", nn.ReLU()), ("pool", nn.MaxPool2d(3, 2, padding=1))]
    return layers


class Inception(nn.Module):
    """Four parallel paths (1x1; 1x1->3x3; 1x1->5x5; 3x3 max-pool->1x1) concatenated."""

    def __init__(
        self, in_c: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ) -> None:
        super().__init__()
        self.p1_1 = nn.Conv2d(in_c, c1, 1)
        self.p2_1 = nn.Conv2d(in_c, c2[0], 1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], 3, padding=1)
        self.p3_1 = nn.Conv2d(in_c, c3[0], 1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], 5, padding=2)
        self.p4_1 = nn.MaxPool2d(3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_c, c4, 1)
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)


def googlenet(in_channels: int = 1, num_classes: int = 10, image_size: int = 96) -> nn.Module:
    """d2l GoogLeNet: 5 stages, 9 Inception blocks with the paper's channel splits, GAP,
    one linear layer (1024 -> classes)."""
    del image_size  # global average pooling: any size >= 1 px after five halvings works

    def pool() -> nn.Module:
        return nn.MaxPool2d(3, 2, padding=1)

    b1 = nn.Sequential(OrderedDict(_stem(in_channels, bn=False)))
    b2 = nn.Sequential(
        nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), pool()
    )
    b3 = nn.Sequential(
        Inception(192, 64, (96, 128), (16, 32), 32),
        Inception(256, 128, (128, 192), (32, 96), 64),
        pool(),
    )
    b4 = nn.Sequential(
        Inception(480, 192, (96, 208), (16, 48), 64),
        Inception(512, 160, (112, 224), (24, 64), 64),
        Inception(512, 128, (128, 256), (24, 64), 64),
        Inception(512, 112, (144, 288), (32, 64), 64),
        Inception(528, 256, (160, 320), (32, 128), 128),
        pool(),
    )
    b5 = nn.Sequential(
        Inception(832, 256, (160, 320), (32, 128), 128),
        Inception(832, 384, (192, 384), (48, 128), 128),
        nn.AdaptiveAvgPool2d(1),
    )
    return nn.Sequential(
        OrderedDict(
            b1=b1, b2=b2, b3=b3, b4=b4, b5=b5, flatten=nn.Flatten(), fc=nn.Linear(1024, num_classes)
        )
    )


class Residual(nn.Module):
    """d2l residual block: conv3x3-BN-ReLU-conv3x3-BN, plus the input (through a 1x1 conv
    with the same stride when ``use_1x1conv``), then ReLU."""

    def __init__(
        self, in_channels: int, out_channels: int, use_1x1conv: bool = False, stride: int = 1
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, out_channels, 1, stride=stride) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3 is not None:
            x = self.conv3(x)
        return F.relu(y + x)


def resnet_stage(
    in_channels: int, out_channels: int, num_residuals: int, first_block: bool = False
) -> nn.Sequential:
    """A stage of residual blocks; all but the first stage halve the size in block one."""
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(Residual(in_channels, out_channels, use_1x1conv=True, stride=2))
        else:
            blocks.append(Residual(out_channels, out_channels))
    return nn.Sequential(*blocks)


def resnet18_d2l(in_channels: int = 1, num_classes: int = 10, image_size: int = 96) -> nn.Module:
    """ResNet-18 of d2l: stem, four stages of two Residual blocks (64, 128, 256, 512), GAP,
    linear (17 conv layers + 1 linear; the 3 strided 1x1 shortcuts are not counted)."""
    del image_size
    return nn.Sequential(
        OrderedDict(
            stem=nn.Sequential(OrderedDict(_stem(in_channels, bn=True))),
            stage1=resnet_stage(64, 64, 2, first_block=True),
            stage2=resnet_stage(64, 128, 2),
            stage3=resnet_stage(128, 256, 2),
            stage4=resnet_stage(256, 512, 2),
            gap=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            fc=nn.Linear(512, num_classes),
        )
    )


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """DenseNet's BN-ReLU-conv3x3 ("improved" ResNet ordering)."""
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(), nn.Conv2d(in_channels, out_channels, 3, padding=1)
    )


class DenseBlock(nn.Module):
    """``num_convs`` conv blocks; each sees the concatenation of the input and all earlier
    outputs, so channels grow by ``growth_rate`` per conv."""

    def __init__(self, num_convs: int, in_channels: int, growth_rate: int) -> None:
        super().__init__()
        self.net = nn.ModuleList(
            conv_block(in_channels + i * growth_rate, growth_rate) for i in range(num_convs)
        )
        self.out_channels = in_channels + num_convs * growth_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.net:
            x = torch.cat((x, blk(x)), dim=1)
        return x


def transition_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN-ReLU-1x1 conv to cut channels, 2x2/2 average pool to halve the size."""
    return nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1),
        nn.AvgPool2d(2, 2, ceil_mode=True),
    )


def densenet_d2l(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 96,
    growth_rate: int = 32,
    convs_per_block: tuple[int, ...] = (4, 4, 4, 4),
) -> nn.Module:
    """d2l DenseNet: ResNet stem, 4 dense blocks of 4 convs (growth 32), transitions that
    halve channels between them, BN-ReLU, GAP, linear."""
    del image_size
    layers: list[tuple[str, nn.Module]] = [
        ("stem", nn.Sequential(OrderedDict(_stem(in_channels, bn=True))))
    ]
    channels = 64
    for i, n in enumerate(convs_per_block, start=1):
        block = DenseBlock(n, channels, growth_rate)
        layers.append((f"dense{i}", block))
        channels = block.out_channels
        if i != len(convs_per_block):
            layers.append((f"transition{i}", transition_block(channels, channels // 2)))
            channels //= 2
    layers += [
        ("bn", nn.BatchNorm2d(channels)),
        ("relu", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool2d(1)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(channels, num_classes)),
    ]
    return nn.Sequential(OrderedDict(layers))
