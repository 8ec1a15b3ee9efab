"""The verdict table: textbook cases and healthy models, each trained briefly on ``shapes``.

Every case is a real recorded run through ``inspector.diagnose`` (the harness, every step
recorded) and must get the verdict and findings the seed chapters predict: deep plain
sigmoid/tanh nets vanish, residual or BatchNorm nets of the same depth do not; bad
initialisation saturates, explodes or vanishes; a dead ReLU layer blocks; BatchNorm left in
eval mode and tiny batches are flagged; NetResDeep's shared block is named; torchvision's
resnet18 and the registry's lenet5_bn are healthy; a big MLP on 32 images overfits.

``python -m tests.inspector.diagnosis.test_verdict_table [runs-dir]`` prints the table as
Markdown (case, verdict, key number) for the README.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import nn

from inspector.diagnose_api import diagnose
from inspector.diagnosis import Diagnosis
from inspector.diagnosis.gradient_scale import TINY
from inspector.train.callbacks import Callback

models = pytest.importorskip("models")
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

GRAY = {"in_channels": 1, "num_classes": 6, "image_size": 28}
RGB = {"in_channels": 3, "num_classes": 6, "image_size": 32}
DATA = {"n_train": 256, "n_test": 128}
# the demo's settings (inspector demo): SGD momentum 0.9, lr 0.005, batch 64
DEMO = {"lr": 0.005, "batch_size": 64, "steps": 60}


def mlp(**kw: Any) -> nn.Module:
    return models.create_model("mlp", **GRAY, **kw)


def init_linear(model: nn.Module, std: Callable[[int], float]) -> nn.Module:
    """Every Linear weight ~ N(0, std(fan_in)): the chapters' 'bad initialisation' cases."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std(m.in_features))
    return model


def dead_relu_mlp() -> nn.Module:
    """A ReLU MLP whose third Linear has bias -100: every unit after it outputs zero."""
    model = mlp(depth=4, width=64, act="relu")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    nn.init.constant_(linears[2].bias, -100.0)
    return model


def resnet18() -> nn.Module:
    import torchvision

    return torchvision.models.resnet18(num_classes=6)  # a user's own model, not the registry


class FreezeBatchNorm(Callback):
    """The fine-tuning bug: BatchNorm put in eval mode while training."""

    def on_train_batch_start(self, ctx: Any, batch: Any) -> None:
        for m in ctx.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()


@dataclass(frozen=True)
class Case:
    build: Callable[[], nn.Module]
    verdict: str  # the verdict starts with this
    findings: dict[str, str]  # rule -> severity that must be present
    absent: tuple[str, ...] = ()  # rules that must not fire
    train: dict[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, int, int] = (1, 28, 28)
    data: dict[str, Any] = field(default_factory=lambda: dict(DATA))
    what: str = ""  # for the printed table
    says: str = ""  # a regular expression the first finding's message must match
    evidence: dict[str, Any] = field(default_factory=dict)  # of the first finding


VANISHING = "gradient flow: vanishing ("
HEALTHY = "gradient flow: healthy"
CASES: dict[str, Case] = {
    "tanh_mlp_depth12": Case(
        lambda: mlp(depth=12, width=64, act="tanh"),
        VANISHING + "first layers get",
        {"vanishing_gradients": "error"},
        train=DEMO,
        what="the demo's plain 12-layer tanh MLP",
        evidence={"criterion": "stuck", "chance_loss": pytest.approx(math.log(6))},
    ),
    "tanh_mlp_depth6": Case(
        lambda: mlp(depth=6, width=64, act="tanh"),
        VANISHING + "first layers get",
        {"vanishing_gradients": "warning"},
        train=DEMO,
        what="plain 6-layer tanh MLP",
        evidence={"criterion": "stuck", "chance_loss": pytest.approx(math.log(6))},
    ),
    "tanh_mlp_depth12_residual": Case(
        lambda: mlp(depth=12, width=64, act="tanh", skip="residual"),
        HEALTHY,
        {},
        ("vanishing_gradients", "saturation"),
        train=DEMO,
        what="same, residual",
    ),
    "tanh_mlp_depth12_batchnorm": Case(
        lambda: mlp(depth=12, width=64, act="tanh", norm="batch"),
        HEALTHY,
        {},
        ("vanishing_gradients", "saturation"),
        train=DEMO,
        what="same, BatchNorm",
    ),
    "sigmoid_mlp_depth20": Case(
        lambda: mlp(depth=20, width=32, act="sigmoid"),
        VANISHING + "first layers get",
        {"vanishing_gradients": "error"},
        ("saturation",),
        train={"steps": 30},
        what="plain 20-layer sigmoid MLP",
    ),
    "tanh_mlp_large_init": Case(
        lambda: init_linear(mlp(depth=20, width=32, act="tanh"), lambda f: 1.0),
        "gradient flow: vanishing (saturation)",
        {"vanishing_gradients": "error", "saturation": "error"},
        train={"steps": 30},
        what="20-layer tanh MLP, weights N(0, 1)",
    ),
    "tanh_mlp_small_init": Case(
        lambda: init_linear(mlp(depth=12, width=64, act="tanh"), lambda f: 0.01),
        VANISHING + "first layers get",
        {"vanishing_gradients": "error"},
        ("no_gradient",),
        train={"steps": 30},
        what="12-layer tanh MLP, weights N(0, 0.01)",
    ),
    "tanh_mlp_tiny_init": Case(
        lambda: init_linear(mlp(depth=12, width=64, act="tanh"), lambda f: 0.001),
        VANISHING + "first layers get",
        {"vanishing_gradients": "error"},
        ("no_gradient",),  # tiny (~1e-27) but not zero: the path is not blocked
        train={"steps": 30},
        what="12-layer tanh MLP, weights N(0, 0.001)",
        says=r"\(1\.layer[^)]*: \d\.\de-2\d\)",  # says how small: "(1.layer, ...: 2.0e-27)"
    ),
    "relu_mlp_large_init": Case(
        lambda: init_linear(mlp(depth=12, width=64, act="relu"), lambda f: 2.5 / math.sqrt(f)),
        "gradient flow: exploding",
        {"exploding_gradients": "warning"},
        ("vanishing_gradients",),
        train={"steps": 20, "lr": 1e-7},
        what="12-layer ReLU MLP, weights N(0, 2.5/sqrt(fan_in))",
    ),
    "dead_relu_bias": Case(
        dead_relu_mlp,
        "gradient flow: vanishing (dead ReLU layer)",
        {"dead_units": "error", "vanishing_gradients": "error"},
        train={"steps": 30, "lr": 0.02},
        what="ReLU MLP, one layer's bias -100",
    ),
    "lenet5_sigmoid": Case(
        lambda: models.create_model("lenet5", **GRAY),
        VANISHING + "first layers get",
        {"vanishing_gradients": "error"},
        train={"steps": 60},
        what="LeNet-5 (sigmoid), registry",
    ),
    "lenet5_bn": Case(
        lambda: models.create_model("lenet5_bn", **GRAY),
        HEALTHY,
        {},
        ("vanishing_gradients", "batchnorm_mismatch", "generalisation_gap", "loss_not_decreasing"),
        train={"steps": 200},
        data={"n_train": 2048, "n_test": 256},
        what="LeNet-5 with BatchNorm, registry",
    ),
    "lenet5_bn_eval_mode": Case(
        lambda: models.create_model("lenet5_bn", **GRAY),
        VANISHING + "first layers get",
        {"batchnorm_mismatch": "warning", "vanishing_gradients": "error"},
        train={"steps": 60, "callbacks": [FreezeBatchNorm()]},
        what="same, BatchNorm left in eval mode",
    ),
    "lenet5_bn_batch4": Case(
        lambda: models.create_model("lenet5_bn", **GRAY),
        HEALTHY,
        {"batchnorm_small_batch": "warning"},
        ("vanishing_gradients",),
        train={"steps": 30, "batch_size": 4},
        what="same, batch size 4",
    ),
    "netresdeep_shared_block": Case(
        lambda: models.create_model("netresdeep_shared", **RGB, n_blocks=3),
        HEALTHY,
        {"shared_modules": "warning"},
        train={"steps": 20, "lr": 3e-3},
        input_shape=(3, 32, 32),
        what="NetResDeep as listed (one block object repeated)",
    ),
    "netresdeep": Case(
        lambda: models.create_model("netresdeep", **RGB, n_blocks=3),
        HEALTHY,
        {},
        ("shared_modules", "vanishing_gradients"),
        train={"steps": 20, "lr": 3e-3},
        input_shape=(3, 32, 32),
        what="NetResDeep, distinct blocks",
    ),
    "torchvision_resnet18": Case(
        resnet18,
        HEALTHY,
        {},
        ("vanishing_gradients", "exploding_gradients", "dead_units"),
        train={"steps": 20, "lr": 0.01},
        input_shape=(3, 32, 32),
        what="torchvision resnet18 as a custom model",
    ),
    "wide_mlp_32_images": Case(
        lambda: mlp(depth=3, width=512, act="relu"),
        HEALTHY,
        {"generalisation_gap": "warning"},
        ("vanishing_gradients",),
        train={"steps": 150},
        data={"n_train": 32, "n_test": 256},
        what="3-layer ReLU MLP, width 512, 32 training images",
    ),
}


def run_case(name: str, root: Any) -> Diagnosis:
    case = CASES[name]
    torch.manual_seed(0)
    model = case.build()
    return diagnose(
        model,
        "shapes",
        input_shape=case.input_shape,
        root=root,
        run=name,
        data_options=case.data,
        extras=False,
        **case.train,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_verdict_table(name, tmp_path):
    case = CASES[name]
    d = run_case(name, tmp_path)
    found = {f.rule: str(f.severity) for f in reversed(d.findings)}  # worst of each rule
    assert d.verdict.startswith(case.verdict), (d.verdict, found)
    for rule, severity in case.findings.items():
        assert found.get(rule) == severity, (rule, found)
    for rule in case.absent:
        assert rule not in found, (rule, d.by_rule(rule)[0].title)
    if case.says:
        assert re.search(case.says, d.findings[0].message), d.findings[0].message
    for key, value in case.evidence.items():
        assert d.findings[0].evidence.get(key) == value, (key, d.findings[0].evidence)


def key_number(d: Diagnosis) -> str:
    """The number behind the verdict: the first/last gradient ratio, or the worst finding's."""
    for rule in ("vanishing_gradients", "exploding_gradients"):
        for f in d.by_rule(rule):
            if "ratio" in f.evidence:
                norm = f.evidence.get("first_grad_norm")
                if norm is not None and norm <= TINY * 1.0001:
                    return "first layers' gradient exactly 0"
                extra = f", first layers' norm {norm:.1e}" if norm else ""
                return f"ratio {f.evidence['ratio']:.2g}{extra}"
    if d.by_rule("generalisation_gap"):
        ev = d.by_rule("generalisation_gap")[0].evidence
        return f"train loss {ev['train_loss_last']:.2g}, test loss {ev['test_loss_last']:.3g}"
    return d.verdict.split("(", 1)[-1].rstrip(")")


def main(root: str) -> None:
    torch.set_num_threads(1)
    print("| case | verdict | findings (warning and worse) | key number |")
    print("| --- | --- | --- | --- |")
    for name, case in CASES.items():
        d = run_case(name, root)
        worse = [f"{f.rule} ({f.severity})" for f in d.findings if str(f.severity) != "info"]
        verdict = d.verdict.removeprefix("gradient flow: ").split(" (")[0]
        print(
            f"| {case.what} | {verdict} | {', '.join(worse) or '-'} | {key_number(d)} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/verdict-table")
