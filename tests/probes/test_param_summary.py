"""Parameter/shape table: totals by tensor identity, shared and tied flags, torchinfo's count."""

from __future__ import annotations

import math

import torch
from torch import nn

from inspector.probes.param_summary import param_summary

torch.set_num_threads(1)


def unique_params(model: nn.Module) -> list[torch.Tensor]:
    """Naive reference: every registration of every module, deduplicated by id()."""
    seen: dict[int, torch.Tensor] = {}
    for _, module in model.named_modules(remove_duplicate=False):
        for _, p in module.named_parameters(recurse=False):
            seen[id(p)] = p
    return list(seen.values())


def rows_by_name(record: dict) -> dict[str, dict]:
    return {r["name"]: r for r in record["rows"]}


def lenet() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.Sigmoid(),
        nn.Linear(120, 84),
        nn.Sigmoid(),
        nn.Linear(84, 10),
    )


def test_lenet_rows_and_totals_match_hand_counts():
    model = lenet()
    record = param_summary(model, torch.randn(4, 1, 28, 28))
    rows = rows_by_name(record)
    assert record["input_shape"] == [1, 28, 28]
    conv = rows["0"]
    # 6 * (1*5*5) + 6 = 156 params; each of 6x28x28 outputs: 25 mults + bias -> 156 * 784
    assert conv["params"] == 156 and conv["output_shape"] == [6, 28, 28]
    assert conv["mult_adds"] == 156 * 28 * 28
    assert rows["3"]["params"] == 16 * 6 * 25 + 16 and rows["3"]["output_shape"] == [16, 10, 10]
    assert rows["7"]["params"] == 400 * 120 + 120 and rows["7"]["mult_adds"] == 400 * 120 + 120
    assert rows["2"]["output_shape"] == [6, 14, 14]  # parameter-free but spatial: listed
    # parameter-free layers after Flatten are listed too (issue 15 item 6)
    assert rows["6"]["type"] == "Flatten" and rows["6"]["params"] == 0
    totals = record["totals"]
    assert totals["params"] == 61706 == sum(p.numel() for p in unique_params(model))
    assert totals["trainable"] == 61706 and totals["frozen"] == 0
    assert totals["torchinfo_params"] == 61706
    assert totals["mult_adds"] == sum(r["mult_adds"] for r in record["rows"])
    assert totals["shared_modules"] == [] and totals["tied_params"] == []
    assert [r["name"] for r in record["rows"]] == [str(i) for i in range(12)]  # every layer


class TiedLM(nn.Module):
    """An embedding tied to the output layer and a frozen bias."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.rnn = nn.GRU(8, 8, batch_first=True)
        self.decoder = nn.Linear(8, 50)
        self.decoder.weight = self.embed.weight
        self.head = nn.Linear(50, 3)
        self.head.bias.requires_grad_(False)

    def forward(self, tokens):
        h, _ = self.rnn(self.embed(tokens))
        return self.head(self.decoder(h).mean(1))


def test_tied_weights_counted_once_where_torchinfo_counts_twice():
    model = TiedLM()
    record = param_summary(model, torch.randint(0, 50, (2, 7)))
    totals = record["totals"]
    reference = sum(p.numel() for p in unique_params(model))
    assert totals["params"] == reference
    assert sum(r["params"] for r in record["rows"]) == reference  # rows add up to the total
    assert totals["torchinfo_params"] == reference + 50 * 8  # torchinfo double counts the tie
    assert totals["tied_params"] == [{"params": ["embed.weight", "decoder.weight"], "numel": 400}]
    rows = rows_by_name(record)
    assert rows["embed"]["params"] == 400 and rows["embed"]["tied_with"] == ["decoder.weight"]
    assert rows["decoder"]["params"] == 50 and rows["decoder"]["tied_with"] == ["embed.weight"]
    assert rows["head"]["trainable"] == 150 and rows["head"]["frozen"] == 3
    assert totals["frozen"] == 3 and totals["trainable"] == reference - 3
    assert rows["rnn"]["output_shape"] == [7, 8]  # first tensor of the GRU's tuple output
    # a Linear on (N, L, E) does its multiply-adds at every one of the 7 positions
    assert rows["decoder"]["mult_adds"] == (8 * 50 + 50) * 7


class SharedBlock(nn.Module):
    """One conv applied twice and also registered under a second name."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.again = self.conv
        self.fc = nn.Linear(3 * 8 * 8, 2)

    def forward(self, x):
        return self.fc(self.again(torch.relu(self.conv(x))).flatten(1))


def test_shared_module_flagged_and_counted_once():
    model = SharedBlock()
    record = param_summary(model, torch.randn(2, 3, 8, 8))
    rows = rows_by_name(record)
    assert rows["conv"]["shared"] is True and rows["conv"]["calls"] == 2
    assert rows["conv"]["params"] == 84 and rows["conv"]["tied_with"] == []
    assert rows["conv"]["mult_adds"] == 2 * 84 * 64  # both calls do the work
    assert "again" not in rows
    assert record["totals"]["params"] == 84 + 192 * 2 + 2
    assert record["totals"]["shared_modules"] == [
        {"name": "conv", "aliases": ["again"], "calls": 2}
    ]
    assert rows["fc"]["shared"] is False


class WithUnused(nn.Module):
    """A frozen first layer, a parameter on the root and a layer forward never calls."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        self.unused = nn.Linear(2, 2)
        self.scale = nn.Parameter(torch.ones(2))
        self.body[0].requires_grad_(False)

    def forward(self, x):
        return self.body(x) * self.scale


def test_frozen_unused_and_mode_restored():
    model = WithUnused().train()
    record = param_summary(model, torch.randn(3, 4), use_torchinfo=False)
    assert model.training and all(not m._forward_hooks for m in model.modules())
    rows = rows_by_name(record)
    assert rows["body.0"]["frozen"] == 20 and rows["body.0"]["trainable"] == 0
    assert rows["unused"]["calls"] == 0 and rows["unused"]["output_shape"] is None
    assert record["rows"][-1]["name"] == "unused"
    assert rows[""]["params"] == 2 and rows[""]["type"] == "WithUnused"  # the root's own
    assert rows["body.1"]["params"] == 0  # ReLU on a vector: listed (issue 15 item 6)
    assert record["totals"]["torchinfo_params"] is None
    assert record["totals"]["params"] == 20 + 10 + 6 + 2 and record["totals"]["frozen"] == 20
    assert math.isclose(record["totals"]["trainable"], 18)


def test_parameter_free_layers_after_flatten_are_rows():
    """Activations and affine-free norm layers of an MLP head are in the table (issue 15.6)."""
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.BatchNorm1d(8, affine=False), nn.Tanh(),
        nn.Linear(8, 3),
    )  # fmt: skip
    rows = [
        (r["name"], r["type"], r["params"])
        for r in param_summary(model, torch.randn(4, 3, 2, 2))["rows"]
    ]
    assert rows == [
        ("0", "Flatten", 0), ("1", "Linear", 104), ("2", "ReLU", 0), ("3", "BatchNorm1d", 0),
        ("4", "Tanh", 0), ("5", "Linear", 27),
    ]  # fmt: skip
