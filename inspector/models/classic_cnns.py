"""The early networks of the cheat sheet and d2l: softmax regression, MLP, LeNet-5, AlexNet,
VGG and NiN.

Layer sizes follow the chapters; each builder takes the data's shape (``in_channels``,
``num_classes``, ``image_size``) and computes flattened sizes by arithmetic. Networks written
for 224x224 inputs keep their block structure on 28/32 px inputs through a documented knob
(``stem_stride`` for AlexNet/NiN, ceil-mode pooling for VGG).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from inspector.models.common import check_positive, hw, make_act, out_size, scaled
from inspector.models.scratch_batchnorm import ScratchBatchNorm


def softmax_regression(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28
) -> nn.Module:
    """Cheat sheet sec. 1: one affine layer; softmax lives in the cross-entropy loss."""
    h, w = hw(image_size)
    return nn.Sequential(
        OrderedDict(flatten=nn.Flatten(), linear=nn.Linear(in_channels * h * w, num_classes))
    )


def mlp_d2l(
    in_channels: int = 1, num_classes: int = 10, image_size: int = 28, hidden: int = 256
) -> nn.Module:
    """Cheat sheet sec. 2.4 / d2l: one hidden layer of 256 ReLU units."""
    h, w = hw(image_size)
    return nn.Sequential(
        OrderedDict(
            flatten=nn.Flatten(),
            fc1=nn.Linear(in_channels * h * w, hidden),
            act1=nn.ReLU(),
            fc2=nn.Linear(hidden, num_classes),
        )
    )


def _lenet_norm(norm: str, features: int, dims: int) -> list[tuple[str, nn.Module]]:
    if norm == "none":
        return []
    if norm == "scratch":
        return [("bn", ScratchBatchNorm(features, num_dims=dims))]
    if norm == "torch":
        return [("bn", nn.BatchNorm2d(features) if dims == 4 else nn.BatchNorm1d(features))]
    raise ValueError(f"norm must be none, scratch or torch; got {norm!r}")


def lenet5(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 28,
    norm: str = "none",
    act: str = "sigmoid",
) -> nn.Module:
    """LeNet-5 as in d2l: conv 6@5x5 -> pool -> conv 16@5x5 -> pool -> 120 -> 84 -> classes.

    ``norm``: none | scratch (the chapter's hand-written BatchNorm) | torch (nn.BatchNorm);
    BN sits between each conv/linear and its sigmoid, as in d2l sec. 5.10.2.
    """
    h, w = hw(image_size)
    s = check_positive(
        (
            out_size(out_size(out_size(out_size(h, 5), 2, 2), 5), 2, 2),
            out_size(out_size(out_size(out_size(w, 5), 2, 2), 5), 2, 2),
        ),
        "lenet5",
        image_size,
    )
    layers: list[tuple[str, nn.Module]] = []

    def stage(i: int, layer: nn.Module, features: int, dims: int, pool: bool) -> None:
        layers.append((f"{'conv' if dims == 4 else 'fc'}{i}", layer))
        layers.extend((f"{n}{i}", m) for n, m in _lenet_norm(norm, features, dims))
        layers.append((f"act{i}", make_act(act)))
        if pool:
            layers.append((f"pool{i}", nn.MaxPool2d(2, 2)))

    stage(1, nn.Conv2d(in_channels, 6, 5), 6, 4, True)
    stage(2, nn.Conv2d(6, 16, 5), 16, 4, True)
    layers.append(("flatten", nn.Flatten()))
    stage(3, nn.Linear(16 * s[0] * s[1], 120), 120, 2, False)
    stage(4, nn.Linear(120, 84), 84, 2, False)
    layers.append(("fc5", nn.Linear(84, num_classes)))
    return nn.Sequential(OrderedDict(layers))


def _auto_stem_stride(image_size: object, stem_stride: int | None, big: int) -> int:
    """4 (the chapter's) for >=128 px inputs, else 1 so 28/32 px maps do not vanish."""
    if stem_stride is not None:
        return stem_stride
    return big if min(hw(image_size)) >= 128 else 1


def alexnet(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 224,
    stem_stride: int | None = None,
    width_mult: float = 1.0,
    fc_hidden: int = 4096,
    dropout: float = 0.5,
) -> nn.Module:
    """d2l AlexNet: 96@11x11/4 -> pool -> 256@5x5 -> pool -> 384, 384, 256 @3x3 -> pool ->
    two dropout-regularised ReLU layers of ``fc_hidden`` -> classes."""
    s = _auto_stem_stride(image_size, stem_stride, 4)
    c1, c2, c3, c5 = (scaled(c, width_mult) for c in (96, 256, 384, 256))
    size = []
    for n in hw(image_size):
        n = out_size(out_size(n, 11, s, 1), 3, 2)
        n = out_size(n, 3, 2)  # 5x5 conv keeps size (pad 2)
        size.append(out_size(n, 3, 2))
    size = check_positive(tuple(size), "alexnet", image_size)
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(in_channels, c1, 11, stride=s, padding=1),
            act1=nn.ReLU(),
            pool1=nn.MaxPool2d(3, 2),
            conv2=nn.Conv2d(c1, c2, 5, padding=2),
            act2=nn.ReLU(),
            pool2=nn.MaxPool2d(3, 2),
            conv3=nn.Conv2d(c2, c3, 3, padding=1),
            act3=nn.ReLU(),
            conv4=nn.Conv2d(c3, c3, 3, padding=1),
            act4=nn.ReLU(),
            conv5=nn.Conv2d(c3, c5, 3, padding=1),
            act5=nn.ReLU(),
            pool5=nn.MaxPool2d(3, 2),
            flatten=nn.Flatten(),
            fc6=nn.Linear(c5 * size[0] * size[1], fc_hidden),
            act6=nn.ReLU(),
            drop6=nn.Dropout(dropout),
            fc7=nn.Linear(fc_hidden, fc_hidden),
            act7=nn.ReLU(),
            drop7=nn.Dropout(dropout),
            fc8=nn.Linear(fc_hidden, num_classes),
        )
    )


VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 same-padding conv+ReLU, then a 2x2/2 max-pool (ceil mode)."""
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [
            nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1),
            nn.ReLU(),
        ]
    layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    return nn.Sequential(*layers)


def vgg(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 224,
    ratio: int = 1,
    fc_hidden: int | None = None,
    dropout: float = 0.5,
) -> nn.Module:
    """VGG-11 (d2l sec. 5.7, ``conv_arch``): 8 convs in 5 blocks + 3 linear layers.

    ``ratio`` divides every conv width and (unless ``fc_hidden`` is given) the 4096-unit
    hidden layers: ratio=8 is the chapter's small-channel network.
    """
    if ratio < 1:
        raise ValueError(f"ratio must be >= 1, got {ratio}")
    blocks: list[tuple[str, nn.Module]] = []
    c_in = in_channels
    h, w = hw(image_size)
    for i, (n_convs, c_out) in enumerate(VGG11_ARCH, start=1):
        blocks.append((f"vgg_block_{i}", vgg_block(n_convs, c_in, c_out // ratio)))
        c_in = c_out // ratio
        h, w = out_size(h, 2, 2, ceil=True), out_size(w, 2, 2, ceil=True)
    check_positive((h, w), "vgg", image_size)
    hidden = fc_hidden if fc_hidden is not None else 4096 // ratio
    fc = nn.Sequential(
        nn.Flatten(),
        nn.Linear(c_in * h * w, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )
    return nn.Sequential(OrderedDict([*blocks, ("fc", fc)]))


def nin_block(
    in_channels: int, out_channels: int, kernel: int, stride: int, padding: int
) -> nn.Sequential:
    """One conv followed by two 1x1 convs acting as per-pixel fully connected layers."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 1),
        nn.ReLU(),
    )


def nin(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 224,
    stem_stride: int | None = None,
    dropout: float = 0.5,
) -> nn.Module:
    """NiN (d2l sec. 5.8): AlexNet's 11/5/3 kernels and widths, no linear layer; the last
    NiN block has ``num_classes`` channels and global average pooling makes the logits."""
    s = _auto_stem_stride(image_size, stem_stride, 4)
    size = []
    for n in hw(image_size):
        n = out_size(out_size(n, 11, s, 0), 3, 2)
        n = out_size(out_size(n, 3, 2), 3, 2)
        size.append(n)
    check_positive(tuple(size), "nin", image_size)
    return nn.Sequential(
        OrderedDict(
            nin1=nin_block(in_channels, 96, 11, s, 0),
            pool1=nn.MaxPool2d(3, 2),
            nin2=nin_block(96, 256, 5, 1, 2),
            pool2=nn.MaxPool2d(3, 2),
            nin3=nin_block(256, 384, 3, 1, 1),
            pool3=nn.MaxPool2d(3, 2),
            drop=nn.Dropout(dropout),
            nin4=nin_block(384, num_classes, 3, 1, 1),
            gap=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
        )
    )
