"""The training harness: one recorded loop with callbacks, metadata and clear failures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.errors import InspectorError, ModelError
from inspector.train import Callback, TrainConfig, train
from inspector.train.config import resolve_device

SMALL = {"n_train": 96, "n_test": 48}


def tiny_cnn(classes: int = 6) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 14 * 14, classes),
    )


class Trace(Callback):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_fit_start(self, ctx):
        self.calls.append("fit_start")

    def on_after_backward(self, ctx):
        self.calls.append("after_backward")

    def on_train_batch_end(self, ctx, loss):
        self.calls.append("batch_end")

    def on_validation_end(self, ctx, metrics):
        self.calls.append("validation_end")

    def on_fit_end(self, ctx):
        self.calls.append("fit_end")

    def on_run_closed(self, ctx):
        self.calls.append("run_closed")

    def on_exception(self, ctx, exc):
        self.calls.append("exception")


def test_fit_records_everything_and_calls_callbacks_in_order(tmp_path):
    trace = Trace()
    config = TrainConfig(steps=6, batch_size=16, every=1, eval_every=3, seed=3)
    result = inspector.fit(
        tiny_cnn(),
        "shapes",
        config,
        run="loop",
        root=tmp_path,
        quiet=True,
        callbacks=[trace],
        data_options=SMALL,
        meta={"model": {"name": "tiny"}},
    )
    assert result.status == "finished" and result.steps == 6
    assert 0.0 <= result.test_accuracy <= 1.0 and np.isfinite(result.final_loss)
    assert trace.calls[0] == "fit_start" and trace.calls[-2:] == ["fit_end", "run_closed"]
    assert trace.calls.count("batch_end") == 6 and trace.calls.count("validation_end") == 2
    reader = inspector.open_run(result.run_dir)
    meta = reader.meta
    assert meta["hparams"]["steps"] == 6 and meta["hparams"]["seed"] == 3
    assert meta["data"]["name"] == "shapes" and meta["model"]["name"] == "tiny"
    assert meta["device"] == "cpu" and meta["environment"]["torch"] == torch.__version__
    assert list(reader.steps()) == list(range(6))
    assert {"loss", "accuracy", "lr", "test_loss", "test_accuracy"} <= set(reader.scalar_names())
    assert reader.array_steps("kernels/0")[0] == 0 and reader.array("kernels/0").shape == (
        4,
        1,
        3,
        3,
    )


def test_same_seed_same_losses(tmp_path):
    config = TrainConfig(steps=4, batch_size=16, every=2, seed=7)
    losses = []
    for i in range(2):
        torch.manual_seed(123)
        model = tiny_cnn()
        r = train(
            model, "shapes", config, run=f"seed{i}", root=tmp_path, quiet=True, data_options=SMALL
        )
        losses.append(inspector.open_run(r.run_dir).scalar("loss")[1])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


class Crash(Callback):
    def on_train_batch_end(self, ctx, loss):
        if ctx.step == 1:
            raise RuntimeError("callback crashed")


def test_failure_marks_run_failed_and_calls_on_exception(tmp_path):
    trace = Trace()
    with pytest.raises(RuntimeError, match="callback crashed"):
        train(
            tiny_cnn(),
            "shapes",
            TrainConfig(steps=5, batch_size=16, every=1),
            run="crash",
            root=tmp_path,
            quiet=True,
            callbacks=[trace, Crash()],
            data_options=SMALL,
        )
    assert "exception" in trace.calls and "run_closed" not in trace.calls
    reader = inspector.open_run(tmp_path / "crash")
    assert reader.status == "failed" and len(reader.steps()) >= 1


def test_wrong_input_shape_names_shape_and_layer(tmp_path):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(10, 6))
    with pytest.raises(ModelError, match=r"\(2, 1, 28, 28\).*'0' \(Conv2d\)"):
        train(model, "shapes", TrainConfig(steps=1), root=tmp_path, quiet=True, data_options=SMALL)
    assert not list(tmp_path.iterdir())  # nothing created for a model that cannot run


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"steps": 0}, "--steps"),
        ({"lr": -1}, "--lr"),
        ({"batch_size": 0}, "--batch-size"),
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(InspectorError, match=match):
        TrainConfig(**kwargs)


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(InspectorError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InspectorError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_frozen_model_is_a_clear_error(tmp_path):
    model = tiny_cnn()
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(InspectorError, match="no trainable parameters"):
        train(model, "shapes", TrainConfig(steps=1), root=tmp_path, quiet=True, data_options=SMALL)
