"""Theoretical receptive fields: hand arithmetic, graphs with branches, published values.

Notation in the comments: rf' = rf + (k_eff - 1) j, j' = j s, start' = start + ((k_eff-1)/2 - p) j,
k_eff = d (k - 1) + 1, starting from one pixel: rf = 1, j = 1, start = 0.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from inspector.probes.receptive_field import layer_field, max_receptive_field, receptive_field

torch.set_num_threads(1)


def rf_of(model: nn.Module, size: int = 32, channels: int = 1) -> dict:
    return receptive_field(model, torch.randn(2, channels, size, size))


def row(record: dict, name: str) -> dict:
    found = layer_field(record, name)
    assert found is not None, [r["name"] for r in record["layers"]]
    return found


def test_hand_computed_stack():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),  # rf 1+2*1=3, j 1, start 0+(1-1)*1=0
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),  # rf 3+2*1=5, j 1, start 0
        nn.MaxPool2d(2),  # rf 5+1*1=6, j 2, start 0+(0.5-0)*1=0.5
        nn.Conv2d(4, 4, 3),  # rf 6+2*2=10, j 2, start 0.5+(1-0)*2=2.5
        nn.Conv2d(4, 4, 5, stride=2, padding=2),  # rf 10+4*2=18, j 4, start 2.5+(2-2)*2=2.5
        nn.AvgPool2d(3, stride=2, padding=1),  # rf 18+2*4=26, j 8, start 2.5+(1-1)*4=2.5
    )
    r = rf_of(model)
    expected = {
        "0": (3, 1, 0.0),
        "1": (3, 1, 0.0),
        "2": (5, 1, 0.0),
        "3": (6, 2, 0.5),
        "4": (10, 2, 2.5),
        "5": (18, 4, 2.5),
        "6": (26, 8, 2.5),
    }
    for name, (size, jump, start) in expected.items():
        f = row(r, name)
        assert (f["rf"], f["jump"], f["start"]) == ([size] * 2, [jump] * 2, [start] * 2), name
        assert f["global"] is False
    assert r["input_size"] == [32, 32]
    assert max_receptive_field(r) == 26


def test_dilation_and_rectangular_kernels():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),  # k_eff 3: rf 3
        nn.Conv2d(2, 2, 3, padding=2, dilation=2),  # k_eff 2*2+1=5: rf 3+4=7
        nn.Conv2d(2, 2, 3, padding=4, dilation=4),  # k_eff 9: rf 7+8=15
        nn.Conv2d(2, 2, (1, 3), padding=(0, 1)),  # h: rf 15, w: 15+2=17
    )
    r = rf_of(model)
    assert [row(r, n)["rf"] for n in "0123"] == [[3, 3], [7, 7], [15, 15], [15, 17]]
    assert all(row(r, n)["start"] == [0.0, 0.0] for n in "0123")


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_string_and_asymmetric_pad():
    model = nn.Sequential(
        nn.ZeroPad2d((2, 0, 1, 0)),  # left 2 (w), top 1 (h): start = (-1, -2)
        nn.Conv2d(1, 1, 3, padding="same"),  # left pad 1: start += (1-1)*1 -> unchanged, rf 3
        nn.Conv2d(1, 1, 2, padding="same"),  # even kernel: left 0, start += 0.5, rf 4
    )
    r = rf_of(model)
    assert row(r, "0")["start"] == [-1.0, -2.0]
    assert row(r, "1")["rf"] == [3, 3] and row(r, "1")["start"] == [-1.0, -2.0]
    assert row(r, "2")["rf"] == [4, 4] and row(r, "2")["start"] == [-0.5, -1.5]


class Residual(nn.Module):
    """The branch (two 3x3 convs) sees more than the shortcut (identity or 1x1 strided)."""

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, stride=stride, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.shortcut = nn.Conv2d(4, 4, 1, stride=stride) if stride > 1 else nn.Identity()

    def forward(self, x):
        out = self.conv2(self.relu(self.conv1(x)))
        out += self.shortcut(x)
        return self.relu(out)


def test_residual_block_takes_the_larger_branch():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), Residual(), Residual(stride=2), nn.Conv2d(4, 4, 3, padding=1)
    )
    r = rf_of(model)
    # stem rf 3. block 1: branch 3+2+2 = 7, shortcut (Identity) 3 -> 7.
    assert row(r, "1.shortcut")["rf"] == [3, 3]
    assert row(r, "1.relu:call2")["rf"] == [7, 7]
    # block 2: conv1 s2: 7+2=9 (j 2, start 0); conv2: 9+2*2=13; 1x1 s2 shortcut: 7, j 2.
    assert row(r, "2.shortcut")["rf"] == [7, 7] and row(r, "2.shortcut")["jump"] == [2, 2]
    assert row(r, "2.relu:call2")["rf"] == [13, 13]
    # the add merges the fields: the output sees 13, not the shortcut's 7
    assert row(r, "3")["rf"] == [13 + 2 * 2] * 2 and row(r, "3")["jump"] == [2, 2]
    assert r["warnings"] == []


def test_misaligned_branches_give_their_union_and_a_warning():
    class Shifted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 2, padding="same")  # covers [-0.5, 1.5] around unit 0

        def forward(self, x):
            return self.conv(x) + x  # x covers [-0.5, 0.5]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = Shifted()
            self.out = nn.Conv2d(1, 1, 1)

        def forward(self, x):
            return self.out(self.block(x))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: 'same' with an even kernel
        r = rf_of(Net())
    assert row(r, "out")["rf"] == [2, 2] and row(r, "out")["start"] == [0.5, 0.5]
    assert any("centres differ" in w for w in r["warnings"])


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(2, 2, 1)
        self.b2 = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 3, padding=1))
        self.b3 = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 5, padding=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(2, 2, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


def test_concatenation_takes_the_widest_branch():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), Inception(), nn.Conv2d(8, 2, 3, padding=1))
    r = rf_of(model)
    # stem 3; branches 3, 5, 7, 5 -> concat 7; next 3x3 conv: 9
    assert row(r, "1.b1")["rf"] == [3, 3]
    assert row(r, "1.b3.1")["rf"] == [7, 7]
    assert row(r, "1.b4.1")["rf"] == [5, 5]
    assert row(r, "2")["rf"] == [9, 9]


def test_global_pooling_flatten_linear_and_functional_ops():
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)  # rf 3, start 1
            self.skip = nn.Identity()
            self.fc = nn.Linear(2 * 7 * 7, 3)

        def forward(self, x):
            x = F.max_pool2d(self.skip(self.conv(x)), 2)  # rf 4, j 2, start 1.5
            return self.fc(torch.flatten(x, 1))  # 7 positions: rf 4+6*2=16 -> global

    r = rf_of(Net(), size=16)
    assert row(r, "skip")["rf"] == [3, 3]
    assert row(r, "max_pool2d")["rf"] == [4, 4] and row(r, "max_pool2d")["start"] == [1.5, 1.5]
    fc = row(r, "fc")
    assert fc["global"] is True and fc["rf"] == [16, 16]

    pooled = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),
        nn.AdaptiveAvgPool2d((2, 2)),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2, 2),
    )
    r = rf_of(pooled, size=8)
    # 8 -> 2: a 4x4 window of stride 4: rf 3+3=6, j 4; then 2 -> 1 is global: 6+4=10
    assert row(r, "1")["rf"] == [6, 6] and row(r, "1")["jump"] == [4, 4]
    assert row(r, "1")["global"] is False
    assert row(r, "2")["global"] is True and row(r, "2")["rf"] == [10, 10]
    assert row(r, "4")["global"] is True

    class MeanPool(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(self.conv(x).mean((2, 3)))

    r = rf_of(MeanPool(), size=8)
    assert row(r, "mean")["global"] is True and row(r, "fc")["global"] is True


def test_upsampling_is_marked_unknown_and_sequences_have_no_field():
    model = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=1), nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 3, padding=1)
    )
    r = rf_of(model, size=8)
    assert row(r, "0")["rf"] == [3, 3]
    assert row(r, "1")["rf"] is None and "interpolate" in row(r, "1")["note"]
    assert row(r, "2")["rf"] is None
    assert r["warnings"]

    tokens = receptive_field(nn.Sequential(nn.Embedding(5, 3)), torch.randint(0, 5, (2, 7)))
    assert tokens["layers"] == [] and tokens["input_size"] == [7]


def test_model_state_restored_and_no_hooks_left():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(inplace=True))
    model.train()
    rf_of(model, size=8)
    assert model.training
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks


def _meta_built(factory):
    """A torchvision model built without weights or init cost (values are irrelevant)."""
    with torch.device("meta"):
        model = factory(weights=None)
    return model


def test_published_alexnet_and_vgg16_features():
    alexnet = _meta_built(torchvision.models.alexnet).features.to_empty(device="cpu")
    r = receptive_field(alexnet, torch.zeros(1, 3, 224, 224))
    assert row(r, "12")["rf"] == [195, 195] and row(r, "12")["jump"] == [32, 32]
    vgg = _meta_built(torchvision.models.vgg16).features.to_empty(device="cpu")
    r = receptive_field(vgg, torch.zeros(1, 3, 224, 224))
    assert row(r, "30")["rf"] == [212, 212] and row(r, "30")["jump"] == [32, 32]
    assert max_receptive_field(r) == 212


def test_torchvision_resnet18_and_densenet121_run():
    resnet = torchvision.models.resnet18(weights=None)
    r = receptive_field(resnet, torch.randn(1, 3, 224, 224))
    assert row(r, "layer4.1.relu:call2")["rf"] == [435, 435]  # the published ResNet-18 value
    assert row(r, "avgpool")["global"] and row(r, "fc")["global"]
    assert r["warnings"] == []
    densenet = torchvision.models.densenet121(weights=None)
    r = receptive_field(densenet, torch.randn(1, 3, 64, 64))
    assert row(r, "features.norm5")["jump"] == [32, 32]
    assert row(r, "features.norm5")["rf"][0] > row(r, "features.transition3.pool")["rf"][0]
    assert row(r, "adaptive_avg_pool2d")["global"] and row(r, "classifier")["global"]


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (3, 2)])
def test_single_conv_matches_unit_zero_of_an_autograd_reference(stride: int, padding: int):
    """Gradient of output unit (0, 0) w.r.t. the input marks exactly the pixels in its field."""
    conv = nn.Conv2d(1, 1, 5, stride=stride, padding=padding, dilation=2, bias=False)
    nn.init.constant_(conv.weight, 1.0)
    model = nn.Sequential(conv, nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False))
    nn.init.constant_(model[1].weight, 1.0)
    x = torch.ones(1, 1, 40, 40, requires_grad=True)
    model(x)[0, 0, 1, 1].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    f = row(rf_of(model, size=40), "1")
    lo = f["start"][0] + f["jump"][0] - (f["rf"][0] - 1) / 2  # field of unit 1
    hi = f["start"][0] + f["jump"][0] + (f["rf"][0] - 1) / 2
    # pixels inside the image that the unit depends on lie in its field, touching both ends
    # where the field is inside the image
    assert rows.min().item() >= lo and rows.max().item() <= hi
    if lo >= 0:
        assert rows.min().item() == lo
    assert rows.max().item() == hi


def test_seed_models_by_hand():
    models = pytest.importorskip("models")
    lenet = models.create_model("lenet5", in_channels=1, num_classes=10, image_size=28)
    r = receptive_field(lenet, torch.randn(1, 1, 28, 28))
    # conv 5 (no pad): rf 5, start 2; pool 2: rf 6, j 2, start 2.5; conv 5: rf 6+4*2=14,
    # start 2.5+2*2=6.5; pool 2: rf 16, j 4, start 7.5; flatten 4x4 -> fc3 global 16+3*4=28
    got = {
        n: (row(r, n)["rf"][0], row(r, n)["jump"][0], row(r, n)["start"][0])
        for n in ("conv1", "pool1", "conv2", "pool2")
    }
    assert got == {
        "conv1": (5, 1, 2.0),
        "pool1": (6, 2, 2.5),
        "conv2": (14, 2, 6.5),
        "pool2": (16, 4, 7.5),
    }
    assert row(r, "fc3")["global"] and row(r, "fc3")["rf"] == [28, 28]
    deep = models.create_model("netresdeep", in_channels=1, num_classes=10, image_size=28)
    r = receptive_field(deep, torch.randn(1, 1, 28, 28))
    # conv 3: 3; pool 2: 4 (j 2); each of the 10 residual 3x3 blocks adds 2*2: 8 ... 44;
    # pool 2: 44 + 1*2 = 46
    assert [row(r, f"resblocks.{i}.act")["rf"][0] for i in range(10)] == list(range(8, 45, 4))
    assert row(r, "pool2")["rf"] == [46, 46] and row(r, "pool2")["jump"] == [4, 4]


def test_sequential_fallback_when_tracking_cannot_run(monkeypatch):
    from inspector.probes import receptive_field as rf_module

    def refuse(self, func, types, args=(), kwargs=None):
        raise RuntimeError("this model cannot run under a TorchFunctionMode")

    monkeypatch.setattr(rf_module._FieldTracker, "__torch_function__", refuse)
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1),  # 3
        nn.MaxPool2d(2),  # 4, j 2
        nn.Conv2d(2, 2, 3, dilation=2),  # k_eff 5: 4 + 4*2 = 12
        nn.AdaptiveAvgPool2d(1),  # 12x12 -> 8x8 positions -> global
        nn.Flatten(),
        nn.Linear(2, 2),
    )
    r = rf_of(model, size=24)
    assert r["method"] == "sequential" and "sequential-only" in r["warnings"][0]
    assert [row(r, n)["rf"][0] for n in "012"] == [3, 4, 12]
    assert row(r, "3")["global"] and row(r, "5")["global"]

    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("broken model")

    with pytest.raises(ValueError, match="broken model"):
        rf_of(Broken())


class InceptionAvg(Inception):
    """Inception with an average-pool branch: every pixel in a window gets gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.b4 = nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1), nn.Conv2d(2, 2, 1))


@pytest.mark.parametrize(
    "name,model",
    [
        (
            "residual",
            lambda: nn.Sequential(
                nn.Conv2d(1, 4, 3, padding=1), Residual(), Residual(stride=2), nn.AvgPool2d(2)
            ),
        ),
        (
            "inception",
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, 3, stride=2),
                InceptionAvg(),
                nn.Conv2d(8, 2, 3, padding=2, dilation=2),
            ),
        ),
        (
            "dilated",
            lambda: nn.Sequential(
                nn.Conv2d(1, 2, 3, padding=2, dilation=2),
                nn.Conv2d(2, 2, 5, stride=3),
                nn.AvgPool2d(3, 2, 1),
            ),
        ),
    ],
)
def test_fields_match_the_autograd_footprint_of_an_interior_unit(name, model):
    """Naive reference: with positive weights, the input pixels whose gradient is non-zero
    for one output unit span exactly that unit's receptive field."""
    net = model()
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 0.05)
            nn.init.zeros_(m.bias)
    size = 40
    record = rf_of(net, size=size)
    last = record["layers"][-1]
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = net.eval()(x)
    unit = out.shape[-1] // 2
    out[0, :, unit, unit].sum().backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    centre = last["start"][0] + unit * last["jump"][0]
    lo, hi = centre - (last["rf"][0] - 1) / 2, centre + (last["rf"][0] - 1) / 2
    assert 0 <= lo and hi <= size - 1, (name, lo, hi)  # the whole field is inside the image
    assert (rows.min().item(), rows.max().item()) == (lo, hi), name
    assert (cols.min().item(), cols.max().item()) == (lo, hi), name
