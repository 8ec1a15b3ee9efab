"""``inspector summary``: the table, totals, tied/shared notes and one-line errors."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch

from inspector.cli import main

torch.set_num_threads(1)

USER_MODELS = """
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 2)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(30, 6)
        self.decoder = nn.Linear(6, 30)
        self.decoder.weight = self.embed.weight

    def forward(self, tokens):
        return self.decoder(self.embed(tokens)).mean(1)


def build(width=4):
    return Net(width)


def tied():
    return TiedLM()
"""


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "user_net.py"
    path.write_text(textwrap.dedent(USER_MODELS))
    return path


def test_table_with_shapes_params_and_receptive_fields(user_file, capsys):
    code = main(
        ["summary", f"{user_file}:build", "--input-shape", "3,32,32", "--model-arg", "width=6"]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("name"))
    for column in ("type", "output shape", "params", "trainable", "mult-adds", "rf", "jump"):
        assert column in header
    conv1 = next(line for line in lines if line.startswith("conv1 "))
    assert "6x32x32" in conv1 and "168" in conv1 and "3x3" in conv1  # 6*27+6 params
    pool = next(line for line in lines if line.startswith("max_pool2d_1"))
    assert "10x10" in pool and "4x4" in pool  # 3 -> pool 4 (j2) -> conv 8 -> pool 10 (j4)
    fc = next(line for line in lines if line.startswith("fc "))
    assert "global" in fc
    total = 168 + (6 * 9 * 4 + 4) + (256 * 2 + 2)
    assert f"params: {total:,}" in out


def test_json_and_tied_weights_note(user_file, capsys):
    code = main(
        ["summary", f"{user_file}:tied", "--input-shape", "5", "--vocab-size", "30", "--json"]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    totals = data["architecture"]["totals"]
    assert totals["params"] == 30 * 6 + 30  # the tied matrix counted once, plus the bias
    assert totals["torchinfo_params"] == totals["params"] + 30 * 6
    assert data["receptive_field"] is None
    code = main(["summary", f"{user_file}:tied", "--input-shape", "5", "--vocab-size", "30"])
    out = capsys.readouterr().out
    assert code == 0
    assert "tied: embed.weight = decoder.weight" in out and "torchinfo would report" in out


def test_input_shape_from_data(user_file, capsys):
    code = main(
        [
            "summary",
            f"{user_file}:build",
            "--data",
            "shapes",
            "--data-arg",
            "image_size=32",
            "--data-arg",
            "channels=3",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "on input 3x32x32" in capsys.readouterr().out


def test_bad_inputs_give_one_line_errors(user_file, tmp_path, capsys):
    code = main(["summary", f"{user_file}:build", "--input-shape", "3,28,28"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1
    assert "(1, 3, 28, 28)" in err and "layer" in err
    code = main(["summary", f"{tmp_path}/missing.py:build", "--input-shape", "3,32,32"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "missing.py not found" in err
    code = main(["summary", f"{user_file}:nope", "--input-shape", "3,32,32"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and "build" in err and "tied" in err
    code = main(["summary", f"{user_file}:build", "--input-shape", "3,x,32"])
    assert code != 0 and "--input-shape" in capsys.readouterr().err


def test_registry_and_torchvision_models(capsys):
    pytest.importorskip("models")
    assert main(["summary", "lenet5", "--input-shape", "1,28,28"]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "pool2" in out and "16x16" in out
    assert main(["summary", "tv:resnet18", "--input-shape", "3,64,64"]) == 0
    out = capsys.readouterr().out
    assert "layer4.1.conv2" in out and "shared: layer1.0.relu runs 2x" in out
