"""ERF and saliency callbacks write the records of docs/RECORDS.md, or skip, or record errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inspector.probes.saliency import ALL_METHODS, SaliencyConfig
from inspector.store import RunReader
from inspector.train import TrainConfig, train
from inspector.train.erf_callback import ERFCallback
from inspector.train.saliency_callback import SaliencyCallback

SHAPES = {"n_train": 64, "n_test": 32}
CHEAP = SaliencyConfig(ig_steps=8, smoothgrad_samples=4)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 6),
    )


def run(model, tmp_path, callbacks, data="shapes", options=SHAPES, steps=3):
    result = train(
        model,
        data,
        TrainConfig(steps=steps, batch_size=16),
        root=tmp_path,
        callbacks=callbacks,
        quiet=True,
        data_options=options,
        default_callbacks=False,
    )
    assert result.status == "finished"
    return RunReader(result.run_dir)


def test_records_and_arrays_on_shapes(tmp_path):
    reader = run(cnn(), tmp_path, [ERFCallback(), SaliencyCallback(config=CHEAP)])
    erf = reader.records("erf")
    assert [(k, s, v["phase"]) for k, s, v in erf] == [("3", 0, "init"), ("3", 3, "final")]
    init = erf[0][2]
    assert init["theoretical_rf"] == [8, 8]  # 3x3 conv, 2x2 pool, 3x3 conv: 3 -> 4 -> 8
    assert init["input_size"] == [28, 28] and init["mass_share"] == 0.95
    assert init["erf_size"] == pytest.approx(2 * init["erf_radius"] + 1, abs=1e-3)
    for phase, step in (("init", 0), ("final", 3)):
        m = reader.array(f"erf/3/{phase}", step)
        assert m.shape == (28, 28) and m.dtype == np.float32
        assert m.sum() == pytest.approx(1.0, abs=1e-4)

    summary = reader.record("saliency", "summary")
    assert summary["methods"] == [str(m) for m in ALL_METHODS]
    assert summary["target_layer"] == "3" and summary["step"] == 3
    assert len(summary["labels"]) == len(summary["predictions"]) == 8
    assert summary["class_names"][:2] == ["circle", "square"]
    for method in summary["methods"]:
        t = summary["trust"][method]
        assert set(t) >= {
            "randomization_spearman",
            "reflects_model",
            "mask_share",
            "pointing_hit_rate",
        }
        assert 0 <= t["mask_share"] <= 1 and 0 <= t["pointing_hit_rate"] <= 1
        assert isinstance(t["reflects_model"], bool)
        maps = reader.array(f"saliency/{method}", 3)
        assert maps.shape == (8, 28, 28) and maps.dtype == np.float32 and (maps >= 0).all()
    images = reader.array("saliency/images", 3)
    masks = reader.array("saliency/masks", 3)
    assert images.shape == (8, 1, 28, 28) and masks.shape == (8, 28, 28)
    assert masks.dtype == np.uint8 and masks.any()
    assert reader.record("saliency", "error") is None and reader.records("probe_error") == []


class TokenNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(16, 4)
        self.out = nn.Linear(4, 4)

    def forward(self, x):
        return self.out(self.emb(x).mean(1))


def test_skips_quietly_for_sequences_and_mlps(tmp_path):
    seq = run(
        TokenNet(),
        tmp_path,
        [ERFCallback(), SaliencyCallback()],
        data="sequence",
        options={"n_train": 32, "n_test": 16},
        steps=2,
    )
    mlp = run(
        nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 6)),
        tmp_path,
        [ERFCallback(), SaliencyCallback()],
        steps=2,
    )
    for reader in (seq, mlp):
        assert reader.records("erf") == [] and reader.records("saliency") == []
        assert reader.records("probe_error") == []
        assert not [n for n in reader.array_names() if n.startswith(("erf/", "saliency/"))]


def test_probe_failures_become_records_not_crashes(tmp_path):
    reader = run(
        cnn(),
        tmp_path,
        [ERFCallback(layer="nope"), SaliencyCallback(target_layer="nope", trust=False)],
        steps=2,
    )
    error = reader.record("saliency", "error")
    assert "nope" in error["error"] and error["step"] == 2
    errors = {k: v for k, _, v in reader.records("probe_error")}
    assert set(errors) == {"erf/init", "erf/final"} and "nope" in errors["erf/init"]["error"]
    assert reader.records("erf") == []


def test_callbacks_leave_the_training_run_unchanged(tmp_path):
    """Neither probe may draw from the global RNG: the same seed gives the same losses."""
    kwargs = {"root": tmp_path, "quiet": True, "data_options": SHAPES, "default_callbacks": False}
    config = TrainConfig(steps=4, batch_size=16)
    plain = train(cnn(), "shapes", config, **kwargs)
    probed = train(
        cnn(), "shapes", config, callbacks=[ERFCallback(), SaliencyCallback(config=CHEAP)], **kwargs
    )
    assert (plain.final_loss, plain.test_loss) == (probed.final_loss, probed.test_loss)
