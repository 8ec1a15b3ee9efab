"""Registry behaviour: errors a user can act on, torchvision models, small-input adaptation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from inspector.errors import ModelError
from inspector.models import ModelSpec, create_model, get_spec, list_models


def test_list_models_is_sorted_and_covers_the_chapters() -> None:
    names = list_models()
    assert names == sorted(names)
    for required in (
        "softmax_regression",
        "mlp_d2l",
        "lenet5",
        "lenet5_bn_scratch",
        "lenet5_bn",
        "alexnet",
        "vgg11",
        "vgg_small",
        "nin",
        "googlenet",
        "resnet18_d2l",
        "densenet_d2l",
        "idl_fc_tanh",
        "idl_cnn_leaky",
        "idl_fc_skip",
        "idl_cnn_skip",
        "idl_cnn_1x1",
        "idl_cnn_res",
        "rnn_classifier",
        "lstm_classifier",
        "gru_classifier",
        "net",
        "netwidth",
        "netdropout",
        "netbatchnorm",
        "netdepth",
        "netres",
        "netresdeep",
        "netresdeep_shared",
        "plain_cnn",
        "mlp",
    ):
        assert required in names


def test_unknown_name_lists_closest_matches_first() -> None:
    with pytest.raises(ModelError) as err:
        create_model("lenet")
    msg = str(err.value)
    assert msg.index("closest: lenet5") < msg.index("all models:")
    assert "tv:" in msg


def test_unknown_kwarg_names_the_accepted_ones() -> None:
    with pytest.raises(ModelError, match="does not take bogus.*accepts in_channels"):
        create_model("lenet5", bogus=1)


def test_bad_choice_and_too_small_image_are_model_errors() -> None:
    with pytest.raises(ModelError, match="act='swish'"):
        create_model("plain_cnn", act="swish")
    with pytest.raises(ModelError, match="too small for lenet5"):
        create_model("lenet5", image_size=8)
    with pytest.raises(ModelError, match="norm"):
        create_model("idl_fc_tanh", norm="group")


def test_create_with_defaults_builds_the_chapter_configuration() -> None:
    model = create_model("net")
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 2)
    spec = get_spec("lenet5_bn_scratch")
    assert isinstance(spec, ModelSpec) and spec.canonical["norm"] == "scratch"
    assert spec.to_dict()["input_kind"] == "image"


def test_image_size_changes_flattened_sizes() -> None:
    model = create_model("lenet5", in_channels=3, image_size=32)
    assert model.fc3.in_features == 16 * 5 * 5
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_224px_models_keep_their_stages_on_small_inputs() -> None:
    small = create_model("nin", image_size=28)
    big = create_model("nin", image_size=224)
    assert small.nin1[0].stride == (1, 1) and big.nin1[0].stride == (4, 4)
    assert [type(m) for m in small.modules()] == [type(m) for m in big.modules()]
    vgg = create_model("vgg_small", image_size=28)
    assert vgg.fc[1].in_features == 64  # 28 -> 14 -> 7 -> 4 -> 2 -> 1 (ceil-mode pools)


def test_tv_resnet18_with_one_input_channel() -> None:
    torch.manual_seed(0)
    model = create_model("tv:resnet18", in_channels=1, num_classes=7, image_size=28)
    assert model.conv1.in_channels == 1 and model.conv1.out_channels == 64
    assert model.conv1.kernel_size == (7, 7) and model.conv1.stride == (2, 2)
    assert model.fc.out_features == 7
    model.eval()
    out = model(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    spec = get_spec("tv:resnet18")
    assert spec.family == "torchvision" and spec.input_kind == "image"


def test_tv_three_channels_keeps_the_stem() -> None:
    model = create_model("tv:mobilenet_v3_small", num_classes=3)
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 3


def test_tv_errors() -> None:
    with pytest.raises(ModelError, match="closest: tv:resnet18"):
        create_model("tv:resnet_18")
    with pytest.raises(ModelError, match="takes image input"):
        create_model("tv:resnet18", vocab_size=10, seq_len=5, num_classes=2)


def test_sequence_models_reject_image_kwargs() -> None:
    with pytest.raises(ModelError, match="does not take in_channels"):
        create_model("lstm_classifier", in_channels=1)
