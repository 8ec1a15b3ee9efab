"""ArchitectureCallback: both architecture records written at step 0 of a real harness run."""

from __future__ import annotations

import torch
from torch import nn

import inspector
from inspector.train import TrainConfig, train
from inspector.train.architecture_callback import ArchitectureCallback

torch.set_num_threads(1)


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 6),
    )


def test_records_written_at_fit_start_and_mode_restored(tmp_path):
    model = small_cnn()
    result = train(
        model,
        "shapes",
        TrainConfig(steps=2, batch_size=8, device="cpu"),
        root=tmp_path,
        callbacks=[ArchitectureCallback()],
        quiet=True,
        default_callbacks=False,
        data_options={"n_train": 16, "n_test": 8, "image_size": 28, "channels": 1},
    )
    assert result.status == "finished"
    reader = inspector.open_run(result.run_dir)
    table = reader.record("architecture", "table", step=0)
    assert table["input_shape"] == [1, 28, 28]
    assert table["totals"]["params"] == sum(p.numel() for p in model.parameters())
    assert [r["name"] for r in table["rows"]][:2] == ["0", "1"]
    assert table["rows"][0]["output_shape"] == [4, 28, 28]
    rf = reader.record("receptive_field", "layers", step=0)
    assert rf["input_size"] == [28, 28]
    by_name = {r["name"]: r for r in rf["layers"]}
    # conv 3 (pad 1): 3; pool 2: 4, jump 2; conv 3: 4 + 2*2 = 8; adaptive 13x13 -> 1: global
    assert by_name["3"]["rf"] == [4, 4] and by_name["4"]["rf"] == [8, 8]
    assert by_name["6"]["global"] is True
    assert model.training  # the harness left it training; the probes restored the mode


def test_sequence_runs_get_the_table_only(tmp_path):
    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(64, 8)
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            return self.fc(self.embed(x).mean(1))

    from inspector.data import load_data

    bundle = load_data("sequence", n_train=16, n_test=8)
    model = Tokens()
    model.embed = nn.Embedding(bundle.info.vocab_size, 8)
    model.fc = nn.Linear(8, bundle.info.num_classes)
    result = train(
        model,
        bundle,
        TrainConfig(steps=1, batch_size=8, device="cpu"),
        root=tmp_path,
        callbacks=[ArchitectureCallback()],
        quiet=True,
        default_callbacks=False,
    )
    reader = inspector.open_run(result.run_dir)
    table = reader.record("architecture", "table", step=0)
    assert table["rows"][0]["name"] == "embed"
    assert reader.record("receptive_field", "layers", step=0) is None
