"""Registry entries from the cheat sheet and Dive into Deep Learning (PyTorch ed. ch. 5,
zh ch. 7): softmax regression to DenseNet. ``canonical`` is the chapter's configuration."""

from __future__ import annotations

from inspector.models import classic_cnns as cc
from inspector.models import modern_cnns
from inspector.models.registry import InputKind, ModelSpec

IMG = InputKind.IMAGE
FMNIST = {"in_channels": 1, "num_classes": 10, "image_size": 28}
SMALL_INPUT = (
    "stem_stride defaults to the chapter's 4 for inputs >= 128 px and to 1 below, "
    "so 28/32 px inputs keep all conv/pool stages (block structure unchanged)"
)

ENTRIES = [
    ModelSpec(
        "softmax_regression",
        cc.softmax_regression,
        IMG,
        "cheat sheet sec. 1 (softmax regression, single affine layer)",
        "softmax is left to the cross-entropy loss",
        "classic",
        dict(FMNIST),
    ),
    ModelSpec(
        "mlp_d2l",
        cc.mlp_d2l,
        IMG,
        "cheat sheet sec. 2.4 / D2L MLP (fig. 2.1): 784 -> 256 ReLU -> 10",
        "hidden width is the d2l 256",
        "classic",
        dict(FMNIST),
    ),
    ModelSpec(
        "lenet5",
        cc.lenet5,
        IMG,
        "cheat sheet sec. 6.6 LeNet-5 (fig. 6.5), D2L layout: conv6@5 pool conv16@5 pool "
        "120 84 10, sigmoid",
        "no padding on 28 px (d2l layout): fc1 sees 16*4*4",
        "classic",
        dict(FMNIST),
    ),
    ModelSpec(
        "lenet5_bn_scratch",
        cc.lenet5,
        IMG,
        "D2L ch. 5 sec. 5.10.2 (LeNet with the from-scratch BatchNorm of sec. 5.10.1)",
        "moving moments are buffers; moving variance starts at 1 (chapter: 0)",
        "classic",
        {**FMNIST, "norm": "scratch"},
    ),
    ModelSpec(
        "lenet5_bn",
        cc.lenet5,
        IMG,
        "D2L ch. 5 sec. 5.10 / zh 7.5 (LeNet with nn.BatchNorm2d / BatchNorm1d)",
        "-",
        "classic",
        {**FMNIST, "norm": "torch"},
    ),
    ModelSpec(
        "alexnet",
        cc.alexnet,
        IMG,
        "D2L zh ch. 7.1 (fig. 7.1.2) / cheat sheet sec. 6.7: 96@11/4, 256@5, 384, 384, "
        "256 @3, 4096, 4096",
        SMALL_INPUT + "; width_mult/fc_hidden give a light variant",
        "classic",
        {"in_channels": 1, "num_classes": 10, "image_size": 224},
        light={"width_mult": 0.25, "fc_hidden": 256},
    ),
    ModelSpec(
        "vgg11",
        cc.vgg,
        IMG,
        "D2L ch. 5 sec. 5.7 (conv_arch ((1,64),(1,128),(2,256),(2,512),(2,512)), "
        "fc 4096) / zh 7.2 fig. 7.2.1",
        "max-pools use ceil mode (identical at 224 px; 28 px -> 14, 7, 4, 2, 1)",
        "classic",
        {"in_channels": 1, "num_classes": 10, "image_size": 224},
        light={"ratio": 16, "fc_hidden": 64},
    ),
    ModelSpec(
        "vgg_small",
        cc.vgg,
        IMG,
        "D2L ch. 5 sec. 5.7 small_conv_arch (ratio = 8: channels, fc_features and "
        "fc_hidden_units divided by 8)",
        "max-pools use ceil mode (as vgg11)",
        "classic",
        {"in_channels": 1, "num_classes": 10, "image_size": 224, "ratio": 8},
    ),
    ModelSpec(
        "nin",
        cc.nin,
        IMG,
        "D2L ch. 5 sec. 5.8 / zh 7.3 (fig. 7.3.1): NiN blocks 96@11/4, 256@5, 384@3, "
        "classes@3, global average pooling",
        SMALL_INPUT,
        "classic",
        {"in_channels": 1, "num_classes": 10, "image_size": 224},
    ),
    ModelSpec(
        "googlenet",
        modern_cnns.googlenet,
        IMG,
        "D2L ch. 5 sec. 5.9 / zh 7.4 (fig. 7.4.1 Inception, 7.4.2 full model)",
        "runs unchanged at 28/32 px (maps 14, 7, 4, 2, 1); d2l trains it at 96 px",
        "modern",
        {"in_channels": 1, "num_classes": 10, "image_size": 96},
    ),
    ModelSpec(
        "resnet18_d2l",
        modern_cnns.resnet18_d2l,
        IMG,
        "D2L ch. 5 sec. 5.11 / zh 7.6 (Residual block with 1x1 shortcut, fig. ResNet18)",
        "runs unchanged at 28/32 px; d2l trains it at 96 px",
        "modern",
        {"in_channels": 1, "num_classes": 10, "image_size": 96},
    ),
    ModelSpec(
        "densenet_d2l",
        modern_cnns.densenet_d2l,
        IMG,
        "D2L ch. 5 sec. 5.12 / zh 7.7 (dense blocks 4x4 convs, growth 32, transition "
        "layers halving channels)",
        "transition avg-pools use ceil mode so 28 px works (identical at d2l's 96 px)",
        "modern",
        {"in_channels": 1, "num_classes": 10, "image_size": 96},
    ),
]
