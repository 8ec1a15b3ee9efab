"""The Fashion-MNIST networks of Inside Deep Learning ch. 6 (n = 256, n_filters = 32).

FC baseline: Linear(D, n) + 5 x Linear(n, n), each followed by [norm] + activation, then
Linear(n, classes). CNN baseline: 3 convs @32, pool, 3 convs @64, pool, 2 convs @128,
Linear(D * n_filters // 4, classes). The other networks swap in the chapter's blocks. The
chapter's "relu" networks use LeakyReLU(0.1) (``act="leaky_relu"``); ``act="relu"`` gives
plain ReLU for the comparison the text makes.
"""

from __future__ import annotations

from torch import nn

from inspector.models.common import Act, check_positive, hw, make_act, parse_choice
from inspector.models.idl_blocks import (
    LEAK_RATE,
    ResidualBlockE,
    ResidualBottleNeck,
    SkipConv2d,
    SkipFC,
    cnn_layer,
    info_share_block,
    norm_layer,
)


def _idl_act(act: str) -> str:
    choice = parse_choice(Act, act, "act")
    if choice not in (Act.TANH, Act.RELU, Act.LEAKY_RELU):
        raise ValueError(f"the chapter's baselines use tanh, relu or leaky_relu; got {act!r}")
    return str(choice)


def idl_fc(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    act: str = "tanh",
    norm: str = "none",
    hidden: int = 256,
    hidden_layers: int = 5,
) -> nn.Module:
    """FC baseline (``fc_model`` / ``fc_relu_model`` / ``fc_bn_model`` / ``fc_ln_model``)."""
    h, w = hw(image_size)
    act = _idl_act(act)

    def unit(n_in: int) -> nn.Sequential:
        layers = [nn.Linear(n_in, hidden)]
        n = norm_layer(norm, hidden)
        if n is not None:
            layers.append(n)
        layers.append(make_act(act, LEAK_RATE))
        return nn.Sequential(*layers)

    return nn.Sequential(
        nn.Flatten(),
        unit(in_channels * h * w),
        *[unit(hidden) for _ in range(hidden_layers)],
        nn.Linear(hidden, num_classes),
    )


def _quarter(image_size: object, name: str) -> tuple[int, int, tuple[int, int]]:
    h, w = hw(image_size)
    return h, w, check_positive((h // 4, w // 4), name, image_size)


def idl_cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    act: str = "tanh",
    norm: str = "none",
    n_filters: int = 32,
) -> nn.Module:
    """CNN baseline (``cnn_model`` / ``cnn_relu_model`` / ``cnn_bn_model`` / ``cnn_ln_model``)."""
    h, w, q = _quarter(image_size, "idl_cnn")
    act = _idl_act(act)
    f = n_filters
    sizes = [(h, w), (h // 2, w // 2), q]

    def layer(c_in: int, c_out: int | None, pool_factor: int) -> nn.Sequential:
        return cnn_layer(c_in, c_out, act=act, norm=norm, shape=sizes[pool_factor])

    return nn.Sequential(
        layer(in_channels, f, 0),
        layer(f, None, 0),
        layer(f, None, 0),
        nn.MaxPool2d(2),
        layer(f, 2 * f, 1),
        layer(2 * f, None, 1),
        layer(2 * f, None, 1),
        nn.MaxPool2d(2),
        layer(2 * f, 4 * f, 2),
        layer(4 * f, None, 2),
        nn.Flatten(),
        nn.Linear(4 * f * q[0] * q[1], num_classes),
    )


def idl_fc_skip(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, hidden: int = 256
) -> nn.Module:
    """``fc_skip_model``: three SkipFC(2, ...) blocks then Linear(n, classes)."""
    h, w = hw(image_size)
    return nn.Sequential(
        nn.Flatten(),
        SkipFC(2, in_channels * h * w, hidden),
        SkipFC(2, hidden, hidden),
        SkipFC(2, hidden, hidden),
        nn.Linear(hidden, num_classes),
    )


def idl_cnn_skip(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, n_filters: int = 32
) -> nn.Module:
    """``cnn_skip_model``: an activation-free 3x3 conv to n_filters, then SkipConv2d blocks
    (3, 3 and 2 layers) with max-pools; the LeakyReLU after the first pool is PyTorch's
    default slope, as written."""
    _, _, q = _quarter(image_size, "idl_cnn_skip")
    f = n_filters
    return nn.Sequential(
        nn.Conv2d(in_channels, f, 3, padding=1),
        SkipConv2d(3, f, 2 * f),
        nn.MaxPool2d(2),
        nn.LeakyReLU(),
        SkipConv2d(3, 2 * f, 4 * f),
        nn.MaxPool2d(2),
        SkipConv2d(2, 4 * f, 4 * f),
        nn.Flatten(),
        nn.Linear(4 * f * q[0] * q[1], num_classes),
    )


def idl_cnn_1x1(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, n_filters: int = 32
) -> nn.Module:
    """``cnn_1x1_model``: the BN CNN with an info-share 1x1 block in each resolution stage."""
    _, _, q = _quarter(image_size, "idl_cnn_1x1")
    f = n_filters

    def layer(c_in: int, c_out: int | None = None) -> nn.Sequential:
        return cnn_layer(c_in, c_out, act="leaky_relu", norm="batch")

    return nn.Sequential(
        layer(in_channels, f),
        layer(f),
        info_share_block(f),
        layer(f),
        nn.MaxPool2d(2),
        layer(f, 2 * f),
        layer(2 * f),
        info_share_block(2 * f),
        layer(2 * f),
        nn.MaxPool2d(2),
        layer(2 * f, 4 * f),
        layer(4 * f),
        info_share_block(4 * f),
        nn.Flatten(),
        nn.Linear(4 * f * q[0] * q[1], num_classes),
    )


def idl_cnn_res(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, n_filters: int = 32
) -> nn.Module:
    """``cnn_res_model``: per stage a ResidualBottleNeck (changes channels) and a
    ResidualBlockE, each followed by LeakyReLU(0.1); max-pool between stages."""
    _, _, q = _quarter(image_size, "idl_cnn_res")
    f = n_filters

    def act() -> nn.Module:
        return nn.LeakyReLU(LEAK_RATE)

    return nn.Sequential(
        ResidualBottleNeck(in_channels, f),
        act(),
        ResidualBlockE(f),
        act(),
        nn.MaxPool2d(2),
        ResidualBottleNeck(f, 2 * f),
        act(),
        ResidualBlockE(2 * f),
        act(),
        nn.MaxPool2d(2),
        ResidualBottleNeck(2 * f, 4 * f),
        act(),
        ResidualBlockE(4 * f),
        act(),
        nn.Flatten(),
        nn.Linear(4 * f * q[0] * q[1], num_classes),
    )
