"""The seed architectures from the model registry, diagnosed through ``inspector.diagnose``."""

from __future__ import annotations

import pytest
import torch

from inspector.diagnose_api import diagnose
from inspector.diagnosis import Severity

models = pytest.importorskip("models")
torch.set_num_threads(1)

DATA = {"n_train": 64, "n_test": 16}


def run(tmp_path, name: str, steps: int = 8, **kw):
    torch.manual_seed(0)
    shape = {"in_channels": 1, "num_classes": 6, "image_size": 28}
    if name.startswith("netres"):
        shape = {"in_channels": 3, "num_classes": 6, "image_size": 32}
    model = models.create_model(name, **shape, **kw)
    return diagnose(
        model,
        "shapes",
        input_shape=(shape["in_channels"], shape["image_size"], shape["image_size"]),
        steps=steps,
        batch_size=16,
        root=tmp_path,
        data_options=DATA,
        extras=False,
    )


def test_plain_sigmoid_mlp_vs_residual_batchnorm_mlp(tmp_path):
    plain = run(tmp_path, "mlp", depth=20, width=32, act="sigmoid", norm="none", skip="none")
    f = plain.by_rule("vanishing_gradients")
    assert f and f[0].severity == Severity.ERROR
    assert not plain.by_rule("saturation")
    assert f[0].layers[0] == "1.layer"  # the first hidden Linear
    fixed = run(tmp_path, "mlp", depth=20, width=32, act="sigmoid", norm="batch", skip="residual")
    assert not fixed.by_rule("vanishing_gradients") and not fixed.by_rule("saturation")
    assert fixed.verdict.startswith("gradient flow: healthy")


def test_netresdeep_shared_block_is_flagged_and_the_intended_one_is_not(tmp_path):
    shared = run(tmp_path, "netresdeep_shared", steps=3, n_blocks=3)
    warn = [f for f in shared.by_rule("shared_modules") if f.severity == Severity.WARNING]
    assert warn and warn[0].evidence["max_uses"] == 3
    intended = run(tmp_path, "netresdeep", steps=3, n_blocks=3)
    assert not [f for f in intended.by_rule("shared_modules") if f.severity == Severity.WARNING]
