"""Registry entries from Inside Deep Learning ch. 6, Deep Learning with PyTorch ch. 8 and the
depth-study families. ``canonical`` is the chapter's configuration."""

from __future__ import annotations

from inspector.models import dlwpt, families, idl_models, sequence
from inspector.models.catalog_d2l import FMNIST
from inspector.models.registry import InputKind, ModelSpec

IMG, SEQ = InputKind.IMAGE, InputKind.SEQUENCE
CIFAR2 = {"in_channels": 3, "num_classes": 2, "image_size": 32}
NAMES = {"vocab_size": 57, "seq_len": 20, "num_classes": 18}
ENTRIES: list[ModelSpec] = []
_IDL_SRC = "IDL ch. 6"
for act, label in (("tanh", "tanh"), ("relu", "relu"), ("leaky_relu", "leaky")):
    note = (
        "the chapter's fc_relu_model / cnn_relu_model (LeakyReLU 0.1)"
        if act == "leaky_relu"
        else "plain ReLU variant the text compares against"
        if act == "relu"
        else "-"
    )
    ENTRIES.append(
        ModelSpec(
            f"idl_fc_{label}",
            idl_models.idl_fc,
            IMG,
            f"{_IDL_SRC} intro baseline fc_model (n=256, 6 hidden) / sec. 6.1.3 fc_relu_model",
            note,
            "idl",
            {**FMNIST, "act": act},
        )
    )
    ENTRIES.append(
        ModelSpec(
            f"idl_cnn_{label}",
            idl_models.idl_cnn,
            IMG,
            f"{_IDL_SRC} intro baseline cnn_model (32/64/128 filters) / sec. 6.1.3 cnn_relu_model",
            note,
            "idl",
            {**FMNIST, "act": act},
        )
    )
ENTRIES += [
    ModelSpec(
        "idl_fc_bn",
        idl_models.idl_fc,
        IMG,
        f"{_IDL_SRC} sec. 6.2.3 fc_bn_model",
        "BN after each Linear, LeakyReLU 0.1",
        "idl",
        {**FMNIST, "act": "leaky_relu", "norm": "batch"},
    ),
    ModelSpec(
        "idl_cnn_bn",
        idl_models.idl_cnn,
        IMG,
        f"{_IDL_SRC} sec. 6.2.3 cnn_bn_model",
        "BN after each conv, LeakyReLU 0.1",
        "idl",
        {**FMNIST, "act": "leaky_relu", "norm": "batch"},
    ),
    ModelSpec(
        "idl_fc_ln",
        idl_models.idl_fc,
        IMG,
        f"{_IDL_SRC} sec. 6.2.5 fc_ln_model",
        "LayerNorm([n]) after each Linear",
        "idl",
        {**FMNIST, "act": "leaky_relu", "norm": "layer"},
    ),
    ModelSpec(
        "idl_cnn_ln",
        idl_models.idl_cnn,
        IMG,
        f"{_IDL_SRC} sec. 6.2.5 cnn_ln_model",
        "LayerNorm([C, H, W]) after each conv; its size follows image_size",
        "idl",
        {**FMNIST, "act": "leaky_relu", "norm": "layer"},
    ),
    ModelSpec(
        "idl_fc_skip",
        idl_models.idl_fc_skip,
        IMG,
        f"{_IDL_SRC} sec. 6.3.1 SkipFC (fig. 6.7), fc_skip_model",
        "-",
        "idl",
        dict(FMNIST),
    ),
    ModelSpec(
        "idl_cnn_skip",
        idl_models.idl_cnn_skip,
        IMG,
        f"{_IDL_SRC} sec. 6.3.2 SkipConv2d, cnn_skip_model",
        "-",
        "idl",
        dict(FMNIST),
    ),
    ModelSpec(
        "idl_cnn_1x1",
        idl_models.idl_cnn_1x1,
        IMG,
        f"{_IDL_SRC} sec. 6.4.1 infoShareBlock (fig. 6.8), cnn_1x1_model",
        "cnnLayer is the BN version, as in the chapter",
        "idl",
        dict(FMNIST),
    ),
    ModelSpec(
        "idl_cnn_res",
        idl_models.idl_cnn_res,
        IMG,
        f"{_IDL_SRC} sec. 6.5 ResidualBlockE + ResidualBottleNeck (fig. 6.11), cnn_res_model",
        "-",
        "idl",
        dict(FMNIST),
    ),
]
for cell, builder in (
    ("rnn", sequence.rnn_classifier),
    ("lstm", sequence.lstm_classifier),
    ("gru", sequence.gru_classifier),
):
    ENTRIES.append(
        ModelSpec(
            f"{cell}_classifier",
            builder,
            SEQ,
            f"{_IDL_SRC} sec. 6.6.3 ({'rnn' if cell == 'rnn' else cell}_3layer: Embedding 64 -> "
            f"3-layer {cell.upper()} 256 -> LastTimeStep -> Linear)",
            "canonical vocab 57 letters / 18 languages (names task); gradient clamping is a "
            "training option (--clip), not built in"
            + ("; GRU is discussed in sec. 6.6.2" if cell == "gru" else ""),
            "sequence",
            dict(NAMES),
        )
    )

_DLWPT = "DLWPT ch. 8"
ENTRIES += [
    ModelSpec(
        "net",
        dlwpt.Net,
        IMG,
        f"{_DLWPT} sec. 8.3.1 Net (fig. 8.10)",
        "activations and pools are module instances (hooks see them)",
        "dlwpt",
        dict(CIFAR2),
    ),
    ModelSpec(
        "netwidth",
        dlwpt.NetWidth,
        IMG,
        f"{_DLWPT} sec. 8.5.1 NetWidth (n_chans1=32)",
        "-",
        "dlwpt",
        dict(CIFAR2),
    ),
    ModelSpec(
        "netdropout",
        dlwpt.NetDropout,
        IMG,
        f"{_DLWPT} sec. 8.5.2 NetDropout (Dropout2d p=0.4)",
        "-",
        "dlwpt",
        dict(CIFAR2),
    ),
    ModelSpec(
        "netbatchnorm",
        dlwpt.NetBatchNorm,
        IMG,
        f"{_DLWPT} sec. 8.5.2 NetBatchNorm",
        "-",
        "dlwpt",
        dict(CIFAR2),
    ),
    ModelSpec(
        "netdepth",
        dlwpt.NetDepth,
        IMG,
        f"{_DLWPT} sec. 8.5.3 NetDepth (fig. 8.11)",
        "-",
        "dlwpt",
        dict(CIFAR2),
    ),
    ModelSpec(
        "netres",
        dlwpt.net_res,
        IMG,
        f"{_DLWPT} sec. 8.5.3 NetRes (fig. 8.11)",
        "-",
        "dlwpt",
        dict(CIFAR2),
    ),
    ModelSpec(
        "netresdeep",
        dlwpt.net_res_deep,
        IMG,
        f"{_DLWPT} sec. 8.5.3 NetResDeep + ResBlock (fig. 8.12), independent blocks",
        "each of the n_blocks ResBlocks has its own weights (what the text intends)",
        "dlwpt",
        {**CIFAR2, "n_blocks": 10},
    ),
    ModelSpec(
        "netresdeep_shared",
        dlwpt.net_res_deep_shared,
        IMG,
        f"{_DLWPT} sec. 8.5.3 NetResDeep exactly as listed: n_blocks * [ResBlock(...)]",
        "ONE ResBlock instance repeated n_blocks times: shared weights and BN (a bug "
        "the diagnosis should flag)",
        "dlwpt",
        {**CIFAR2, "n_blocks": 10},
    ),
    ModelSpec(
        "plain_cnn",
        families.plain_cnn,
        IMG,
        "depth study family (IDL sec. 6.5 / DLWPT sec. 8.5.3 residual ordering)",
        "depth (hidden blocks, split over 3 stages), width, act, norm, skip are arguments; "
        "residual adds no parameters; max-pool after the stem, stride-2 transitions doubling "
        "the channels between stages (He et al. 2016 CIFAR layout), global average pooling; "
        "He init, hidden BatchNorm weight 0.5 (DLWPT NetResDeep); norm=layer is "
        "GroupNorm(1, C) (LayerNorm over C, H, W with per-channel affine)",
        "family",
        {**FMNIST, "depth": 8, "width": 16, "act": "relu", "norm": "none", "skip": "none"},
    ),
    ModelSpec(
        "mlp",
        families.mlp,
        IMG,
        "depth study family (IDL ch. 6 FC baseline generalised)",
        "depth (hidden blocks), width, act, norm, skip are arguments; residual adds no "
        "parameters; norm=batch is BatchNorm1d, norm=layer is LayerNorm(width)",
        "family",
        {**FMNIST, "depth": 8, "width": 64, "act": "relu", "norm": "none", "skip": "none"},
    ),
]
