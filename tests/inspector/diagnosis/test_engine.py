"""Storing findings, the DiagnosisCallback in the harness, and the diagnose() API."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import inspector
from inspector.diagnosis import diagnose_run, load_findings, store_findings
from inspector.diagnosis.resize import fit_image
from inspector.errors import ModelError
from inspector.store import RunWriter
from inspector.store.schema import DB_NAME
from inspector.store.writer import connect

torch.set_num_threads(1)
TINY_DATA = {"n_train": 64, "n_test": 16}


def small_cnn(in_channels: int = 1, size: int = 28, classes: int = 6) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * (size // 2) ** 2, classes),
    )


def test_store_and_load_findings(runs):
    reader = runs.reader("unused_branch")
    diag = diagnose_run(reader)
    writer = RunWriter(reader.dir, connect(reader.dir / DB_NAME))
    try:
        store_findings(writer, diag)
    finally:
        writer.close()
    stored = reader.record("findings", "all")
    assert stored["verdict"] == diag.verdict
    assert stored["findings"] == [f.to_dict() for f in diag.findings]
    back = load_findings(reader)
    assert back.findings == diag.findings and back.verdict == diag.verdict
    # diagnose_run also accepts a run id / path
    assert diagnose_run(str(reader.dir)).rules() == diag.rules()


def test_callback_stores_findings_when_the_run_closes(tmp_path):
    from inspector.train import TrainConfig, train
    from inspector.train.diagnosis_callback import DiagnosisCallback

    cb = DiagnosisCallback(raise_errors=True)
    result = train(
        small_cnn(),
        "shapes",
        TrainConfig(steps=4, batch_size=16, every=1),
        root=tmp_path,
        callbacks=[cb],
        quiet=True,
        data_options=TINY_DATA,
        default_callbacks=False,
    )
    assert cb.result is not None
    stored = inspector.open_run(result.run_dir).record("findings", "all")
    assert stored["verdict"] == cb.result.verdict
    assert [f["rule"] for f in stored["findings"]] == cb.result.rules()


def test_diagnose_api_builds_data_to_the_input_shape(tmp_path):
    from inspector.diagnose_api import diagnose

    d = diagnose(
        small_cnn(3, 32),
        "shapes",
        input_shape=(3, 32, 32),
        steps=4,
        batch_size=16,
        root=tmp_path,
        data_options=TINY_DATA,
        extras=False,
    )
    reader = inspector.open_run(d.run_dir)
    assert reader.meta["data"]["info"]["input_shape"] == [3, 32, 32]
    assert reader.meta["hparams"]["every"] == 1 and len(reader.steps()) == 4
    assert reader.record("findings", "all")["verdict"] == d.verdict
    assert d.verdict.startswith("gradient flow:")


def test_diagnose_api_resizes_when_the_dataset_cannot_match(tmp_path):
    from inspector.diagnose_api import diagnose

    d = diagnose(
        small_cnn(3, 20),
        "shapes",
        input_shape=(3, 20, 20),
        steps=2,
        batch_size=8,
        root=tmp_path,
        data_options=TINY_DATA,
        extras=False,
    )
    assert inspector.open_run(d.run_dir).meta["data"]["info"]["input_shape"] == [3, 20, 20]


def test_diagnose_api_rejects_a_wrong_input_shape_naming_layer_and_shape(tmp_path):
    from inspector.diagnose_api import diagnose

    with pytest.raises(ModelError, match=r"\(2, 1, 28, 28\).*'0' \(Conv2d\)"):
        diagnose(small_cnn(3, 28), "shapes", input_shape=(1, 28, 28), root=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing trained, nothing stored


def test_fit_image_matches_naive_reference():
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4)
    assert torch.equal(fit_image(x, (2, 4, 4)), x)
    assert torch.allclose(fit_image(x, (1, 4, 4)), x.mean(0, keepdim=True))
    grey = x[:1]
    assert torch.equal(fit_image(grey, (3, 4, 4)), grey.repeat(3, 1, 1))
    up = fit_image(torch.ones(1, 4, 4) * 5, (1, 8, 8))
    assert up.shape == (1, 8, 8) and torch.allclose(up, torch.full((1, 8, 8), 5.0))
