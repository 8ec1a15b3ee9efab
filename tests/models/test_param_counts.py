"""Parameter counts of every canonical configuration, by hand from the chapters' definitions.

AlexNet and VGG-11 at 224 px are built on the meta device (no memory, no compute), so even
the 129 M parameter VGG-11 costs nothing; the others are cheap enough on the CPU. Shared parameters count once.
"""

from __future__ import annotations

import pytest
import torch

from inspector.models import create_model, get_spec, list_models


def conv(i: int, o: int, k: int = 3, bias: bool = True) -> int:
    return i * o * k * k + (o if bias else 0)


def lin(i: int, o: int) -> int:
    return i * o + o


def bn(c: int) -> int:  # gamma + beta
    return 2 * c


def inception(i: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int) -> int:
    return (
        conv(i, c1, 1)
        + conv(i, c2[0], 1)
        + conv(c2[0], c2[1], 3)
        + conv(i, c3[0], 1)
        + conv(c3[0], c3[1], 5)
        + conv(i, c4, 1)
    )


def residual(i: int, o: int, shortcut: bool) -> int:
    return conv(i, o, 3) + conv(o, o, 3) + 2 * bn(o) + (conv(i, o, 1) if shortcut else 0)


def densenet() -> int:
    total, c = conv(1, 64, 7) + bn(64), 64
    for block in range(4):
        total += sum(bn(c + 32 * i) + conv(c + 32 * i, 32, 3) for i in range(4))
        c += 4 * 32  # 192, 224, 240, 248
        if block < 3:
            total += bn(c) + conv(c, c // 2, 1)
            c //= 2
    assert c == 248
    return total + bn(248) + lin(248, 10)


def rnn(gates: int) -> int:
    layer = lambda i: gates * (i * 256 + 256 * 256 + 2 * 256)  # noqa: E731  W_ih, W_hh, 2 biases
    return 57 * 64 + layer(64) + 2 * layer(256) + lin(256, 18)


def bottleneck(i: int, o: int) -> int:
    b = max(o // 4, i)
    return (
        bn(i)
        + conv(i, b, 1)
        + bn(b)
        + conv(b, b, 3)
        + bn(b)
        + conv(b, o, 1)
        + (conv(i, o, 1) + bn(o) if i != o else 0)
    )


def block_e(c: int) -> int:
    return 2 * (conv(c, c, 3) + bn(c))


IDL_CNN = (
    conv(1, 32)
    + 2 * conv(32, 32)
    + conv(32, 64)
    + 2 * conv(64, 64)
    + conv(64, 128)
    + conv(128, 128)
    + lin(128 * 7 * 7, 10)
)
IDL_CNN_BN = 3 * bn(32) + 3 * bn(64) + 2 * bn(128)
IDL_FC = lin(784, 256) + 5 * lin(256, 256) + lin(256, 10)
NETWIDTH = conv(3, 32) + conv(32, 16) + lin(16 * 8 * 8, 32) + lin(32, 2)
NETDEPTH = conv(3, 32) + conv(32, 16) + conv(16, 16) + lin(16 * 4 * 4, 32) + lin(32, 2)
RESBLOCK = conv(32, 32, 3, bias=False) + bn(32)
NETRESDEEP_REST = conv(3, 32) + lin(32 * 8 * 8, 32) + lin(32, 2)

EXPECTED = {
    "softmax_regression": lin(784, 10),  # 7,850
    "mlp_d2l": lin(784, 256) + lin(256, 10),  # 203,530
    # LeNet-5 (28 px, no padding): 156 + 2,416 + 30,840 + 10,164 + 850 = 44,426
    "lenet5": conv(1, 6, 5) + conv(6, 16, 5) + lin(16 * 4 * 4, 120) + lin(120, 84) + lin(84, 10),
    "lenet5_bn": 44_426 + bn(6) + bn(16) + bn(120) + bn(84),  # 44,878
    "lenet5_bn_scratch": 44_426 + bn(6) + bn(16) + bn(120) + bn(84),
    # AlexNet at 224 px: 54 -> 26 -> 26 -> 12 -> 12 -> 5, so fc6 sees 256*5*5 = 6400
    "alexnet": (
        conv(1, 96, 11)
        + conv(96, 256, 5)
        + conv(256, 384)
        + conv(384, 384)
        + conv(384, 256)
        + lin(6400, 4096)
        + lin(4096, 4096)
        + lin(4096, 10)
    ),
    # VGG-11: 224/32 = 7, fc 512*7*7 = 25088 (= 128,806,154 in total)
    "vgg11": (
        conv(1, 64)
        + conv(64, 128)
        + conv(128, 256)
        + conv(256, 256)
        + conv(256, 512)
        + 3 * conv(512, 512)
        + lin(25088, 4096)
        + lin(4096, 4096)
        + lin(4096, 10)
    ),
    # ratio 8: channels 8..64, fc_features 25088 // 8 = 3136, hidden 4096 // 8 = 512
    "vgg_small": (
        conv(1, 8)
        + conv(8, 16)
        + conv(16, 32)
        + conv(32, 32)
        + conv(32, 64)
        + 3 * conv(64, 64)
        + lin(3136, 512)
        + lin(512, 512)
        + lin(512, 10)
    ),
    "nin": sum(
        conv(i, o, k) + 2 * conv(o, o, 1)
        for i, o, k in ((1, 96, 11), (96, 256, 5), (256, 384, 3), (384, 10, 3))
    ),
    "googlenet": (
        conv(1, 64, 7)
        + conv(64, 64, 1)
        + conv(64, 192, 3)
        + inception(192, 64, (96, 128), (16, 32), 32)
        + inception(256, 128, (128, 192), (32, 96), 64)
        + inception(480, 192, (96, 208), (16, 48), 64)
        + inception(512, 160, (112, 224), (24, 64), 64)
        + inception(512, 128, (128, 256), (24, 64), 64)
        + inception(512, 112, (144, 288), (32, 64), 64)
        + inception(528, 256, (160, 320), (32, 128), 128)
        + inception(832, 256, (160, 320), (32, 128), 128)
        + inception(832, 384, (192, 384), (48, 128), 128)
        + lin(1024, 10)
    ),
    "resnet18_d2l": (
        conv(1, 64, 7)
        + bn(64)
        + 2 * residual(64, 64, False)
        + sum(
            residual(i, o, True) + residual(o, o, False)
            for i, o in ((64, 128), (128, 256), (256, 512))
        )
        + lin(512, 10)
    ),
    "densenet_d2l": densenet(),
    "idl_fc_tanh": IDL_FC,  # 532,490
    "idl_fc_relu": IDL_FC,
    "idl_fc_leaky": IDL_FC,
    "idl_fc_bn": IDL_FC + 6 * bn(256),
    "idl_fc_ln": IDL_FC + 6 * bn(256),  # LayerNorm([256]) has the same 2 * 256
    "idl_cnn_tanh": IDL_CNN,  # 395,338
    "idl_cnn_relu": IDL_CNN,
    "idl_cnn_leaky": IDL_CNN,
    "idl_cnn_bn": IDL_CNN + IDL_CNN_BN,
    # LayerNorm([C, H, W]) is elementwise-affine: 2*C*H*W per layer
    "idl_cnn_ln": IDL_CNN + 3 * 2 * 32 * 28 * 28 + 3 * 2 * 64 * 14 * 14 + 2 * 2 * 128 * 7 * 7,
    "idl_fc_skip": (
        lin(784, 784)
        + lin(784, 256)
        + bn(784)
        + bn(256)
        + 2 * (2 * lin(256, 256) + 2 * bn(256))
        + lin(256, 10)
    ),
    "idl_cnn_skip": (
        conv(1, 32)
        + 2 * conv(32, 32)
        + conv(64, 64)
        + 2 * bn(32)
        + bn(64)
        + 2 * conv(64, 64)
        + conv(128, 128)
        + 2 * bn(64)
        + bn(128)
        + 2 * conv(128, 128)
        + 2 * bn(128)
        + lin(128 * 7 * 7, 10)
    ),
    "idl_cnn_1x1": IDL_CNN + IDL_CNN_BN + sum(conv(c, c, 1) + bn(c) for c in (32, 64, 128)),
    "idl_cnn_res": (
        bottleneck(1, 32)
        + block_e(32)
        + bottleneck(32, 64)
        + block_e(64)
        + bottleneck(64, 128)
        + block_e(128)
        + lin(128 * 7 * 7, 10)
    ),
    "rnn_classifier": rnn(1),
    "lstm_classifier": rnn(4),
    "gru_classifier": rnn(3),
    # DLWPT ch. 8 (the chapter prints 18,090 for Net and 38,386 for NetWidth)
    "net": conv(3, 16) + conv(16, 8) + lin(8 * 8 * 8, 32) + lin(32, 2),
    "netwidth": NETWIDTH,
    "netdropout": NETWIDTH,
    "netbatchnorm": NETWIDTH + bn(32) + bn(16),
    "netdepth": NETDEPTH,
    "netres": NETDEPTH,
    "netresdeep": NETRESDEEP_REST + 10 * RESBLOCK,  # 159,330
    "netresdeep_shared": NETRESDEEP_REST + RESBLOCK,  # one block instance: 75,810
    "plain_cnn": (  # depth 8 over 3 stages (3, 3, 2 blocks), widths 16/32/64: 132,506
        conv(1, 16)
        + 3 * conv(16, 16)
        + conv(16, 32)
        + 3 * conv(32, 32)
        + conv(32, 64)
        + 2 * conv(64, 64)
        + lin(64, 10)
    ),
    "mlp": lin(784, 64) + 8 * lin(64, 64) + lin(64, 10),  # 84,170
}

SPOT_CHECKS = {
    "lenet5": 44_426,
    "vgg11": 128_806_154,
    "net": 18_090,
    "netwidth": 38_386,
    "netresdeep": 159_330,
    "netresdeep_shared": 75_810,
}


def test_every_model_has_a_hand_count() -> None:
    assert sorted(EXPECTED) == list_models()


def test_arithmetic_matches_the_chapters_printed_totals() -> None:
    for name, total in SPOT_CHECKS.items():
        assert EXPECTED[name] == total, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_canonical_parameter_count(name: str) -> None:
    if get_spec(name).light:  # the 224 px giants: meta device, no memory or init compute
        with torch.device("meta"):
            model = create_model(name)
    else:  # the rest are cheap on CPU (meta RNNs / custom inits would import torch._dynamo)
        model = create_model(name)
    assert sum(p.numel() for p in model.parameters()) == EXPECTED[name]
