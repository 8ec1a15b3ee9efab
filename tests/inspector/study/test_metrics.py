"""Study metrics against values computed by hand on a fixture run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.study.metrics import (
    findings_counts,
    gradient_flow,
    last_spatial_rf,
    run_metrics,
    steps_to_threshold,
    tail_mean,
)

STEPS = 20


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    """A tanh MLP (two Tanh modules) trained 20 steps, recorded every step, with references."""
    root = tmp_path_factory.mktemp("runs")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    ref = {"losses": [], "acc": [], "ratios": [], "act_std0": {}}
    grads = {}

    def keep_grad(name):
        def hook(module, inputs, out):
            out.register_hook(lambda g: grads.__setitem__(name, float(g.norm())))

        return hook

    def keep_act_std(name):
        def hook(module, inputs, out):
            ref["act_std0"].setdefault(name, float(out.detach().std(unbiased=False)))

        return hook

    for i in (1, 3):
        model[i].register_forward_hook(keep_act_std(i))
    # the ratio compares the first and last activation modules (the two Tanh)
    model[1].register_forward_hook(keep_grad("first"))
    model[3].register_forward_hook(keep_grad("last"))
    x = torch.randn(32, 4)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    with inspector.watch(model, run="fixture", root=root, every=1) as rec:
        for step in range(STEPS):
            out = model(x)
            loss = nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc = float((out.argmax(1) == y).float().mean())
            ref["losses"].append(float(loss.detach()))
            ref["acc"].append(acc)
            ref["ratios"].append(grads["first"] / grads["last"])
            extra = {"test_accuracy": 0.625} if step == STEPS - 1 else {}
            rec.step(loss=loss, accuracy=acc, **extra)
    ref["params"] = sum(p.numel() for p in model.parameters())
    return inspector.open_run(root / "fixture"), ref


def test_run_metrics_match_hand_computed_values(fixture_run):
    reader, ref = fixture_run
    m = run_metrics(reader, loss_threshold=ref["losses"][10])
    assert m["final_loss"] == pytest.approx(np.mean(ref["losses"][-2:]), rel=1e-5)  # 10% of 20
    assert m["final_accuracy"] == pytest.approx(np.mean(ref["acc"][-2:]), rel=1e-5)
    assert m["test_accuracy"] == pytest.approx(0.625)
    assert m["grad_ratio_init"] == pytest.approx(ref["ratios"][0], rel=1e-4)
    assert m["grad_ratio_median"] == pytest.approx(np.median(ref["ratios"]), rel=1e-4)
    assert m["act_std_init"] == [pytest.approx(ref["act_std0"][i], rel=1e-4) for i in (1, 3)]
    assert m["params"] == ref["params"] == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert m["seconds_per_step"] > 0
    assert m["findings"] is None and m["receptive_field"] is None  # not recorded here
    # window = 20 // 20 = 1: the first step whose loss is <= the threshold, counted from 1
    expected = next(i for i, v in enumerate(ref["losses"]) if v <= ref["losses"][10]) + 1
    assert m["steps_to_threshold"] == expected
    assert run_metrics(reader, loss_threshold=-1.0)["steps_to_threshold"] is None


def test_grad_ratio_without_activation_modules_uses_first_and_last_module(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 3))
    grads = {}

    def keep(i):
        def hook(module, inputs, out):
            out.register_hook(lambda g: grads.__setitem__(i, g))

        return hook

    for i in (0, 1):
        model[i].register_forward_hook(keep(i))
    with inspector.watch(model, run="linear", root=tmp_path, every=1) as rec:
        loss = nn.functional.cross_entropy(model(torch.randn(16, 4)), torch.arange(16) % 3)
        loss.backward()
        rec.step(loss=loss)
    m = run_metrics(inspector.open_run(tmp_path / "linear"))
    assert m["grad_ratio_init"] == pytest.approx(float(grads[0].norm() / grads[1].norm()), rel=1e-4)
    assert len(m["act_std_init"]) == 2  # all modules when there is no activation module


def test_tail_mean_and_steps_to_threshold_by_hand():
    values = np.arange(1.0, 21.0)  # 1..20: last 10% = [19, 20]
    assert tail_mean(values) == 19.5
    assert tail_mean(np.array([3.0, np.nan])) == 3.0
    assert tail_mean(np.array([])) is None
    losses = np.array([2.0, 1.0, 3.0, 0.9, 0.8, 0.7])
    steps = np.arange(6)
    assert steps_to_threshold(steps, losses, 1.0, window=1) == 2
    # window 2 moving means: 1.5, 2.0, 1.95, 0.85 (ends at step 4), ...
    assert steps_to_threshold(steps, losses, 1.0, window=2) == 5
    assert steps_to_threshold(steps, losses, 0.1, window=2) is None
    assert steps_to_threshold(steps, np.full(6, np.nan), 1.0) is None


class FakeReader:
    def __init__(self, records):
        self.records_ = records

    def record(self, kind, key, step=-1):
        return self.records_.get((kind, key))


def test_findings_counts_and_receptive_field_from_records():
    findings = {
        "verdict": "x",
        "findings": [{"severity": "error"}, {"severity": "warning"}, {"severity": "warning"}],
    }
    rf = {
        "input_size": [28, 28],
        "layers": [
            {"name": "c1", "rf": [3, 3], "global": False},
            {"name": "c2", "rf": [7, 5], "global": False},
            {"name": "fc", "rf": [28, 28], "global": True},
        ],
    }
    reader = FakeReader({("findings", "all"): findings, ("receptive_field", "layers"): rf})
    assert findings_counts(reader) == {"error": 1, "warning": 2, "info": 0}
    assert last_spatial_rf(reader) == 7
    empty = FakeReader({})
    assert findings_counts(empty) is None and last_spatial_rf(empty) is None


def test_gradient_flow_word_comes_from_the_stored_verdict():
    def verdict(text):
        return FakeReader({("findings", "all"): {"verdict": text, "findings": []}})

    assert gradient_flow(verdict("gradient flow: vanishing (first layers get 1e-3 ...)")) == (
        "vanishing"
    )
    assert gradient_flow(verdict("gradient flow: healthy (first/last ...)")) == "healthy"
    assert gradient_flow(verdict("gradient flow: broken by NaN/Inf from step 3")) == "broken"
    assert gradient_flow(verdict("")) is None and gradient_flow(FakeReader({})) is None
    bad = FakeReader({("findings", "all"): {"verdict": None, "findings": ["not a dict"]}})
    assert gradient_flow(bad) is None and findings_counts(bad) == {
        "error": 0,
        "warning": 0,
        "info": 0,
    }


@pytest.mark.slow
def test_demo_cells_plain_deep_net_has_vanishing_findings_residual_has_none(tmp_path):
    """The demo's 12-layer tanh MLP (its settings, 60 steps): the study cell carries the
    diagnosis' vanishing-gradient error in its findings counts; the residual twin does not."""
    from inspector.cli.demo_cmd import SIZES, demo_spec
    from inspector.study.runner import run_study

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    spec = demo_spec(SIZES["full"])
    spec = dataclasses.replace(
        spec,
        axes={**spec.axes, "depth": [12], "norm": ["none"]},
        steps=60,
        data_options={"n_train": 256, "n_test": 64},
    )
    try:
        study = run_study(spec, root=tmp_path, jobs=1, quiet=True)
    finally:
        torch.set_num_threads(before)
    cells = {c["config"]["skip"]: c["metrics"] for c in study.cells}
    assert cells["none"]["findings"]["error"] >= 1
    assert cells["none"]["gradient_flow"] == "vanishing"
    assert cells["none"]["grad_ratio_init"] < 1e-2
    assert cells["residual"]["findings"]["error"] == 0
    assert cells["residual"]["gradient_flow"] == "healthy"
    # what inspector demo prints under its tables, and the details command it suggests
    from inspector.cli import main
    from inspector.cli.demo_cmd import _findings_summary

    text = _findings_summary(study, tmp_path)
    line = next(x for x in text.splitlines() if "vanishing_gradients" in x)
    assert line.startswith("depth 12 plain") and "ERROR" in line
    command = text.splitlines()[-1].removeprefix("details: inspector ").split()
    assert command[:2] == ["diagnose", "--run"]
    assert main([*command, "--brief"]) == 0
