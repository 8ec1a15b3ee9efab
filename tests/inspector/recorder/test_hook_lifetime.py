"""The recorder owns hook lifetime: nothing is left behind, whatever happens in the block."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import inspector


def hook_total(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


def small_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
    )


def train_steps(model, rec, n=2):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(n):
        loss = model(torch.randn(4, 1, 8, 8)).logsumexp(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss=loss)


def test_no_hook_left_after_normal_exit(tmp_path):
    model = small_net()
    assert hook_total(model) == 0
    with inspector.watch(model, run="ok", root=tmp_path, every=1) as rec:
        assert hook_total(model) > 0 and rec.hook_count == hook_total(model)
        train_steps(model, rec)
    assert hook_total(model) == 0
    assert inspector.open_run(tmp_path / "ok").status == "finished"


class Exploding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = small_net()

    def forward(self, x):
        self.body(x)
        raise ValueError("boom in forward")


def test_no_hook_left_after_model_raises_and_run_marked_failed(tmp_path):
    model = Exploding()
    with pytest.raises(ValueError, match="boom"):
        with inspector.watch(model, run="bad", root=tmp_path, every=1):
            model(torch.randn(2, 1, 8, 8))
    assert hook_total(model) == 0
    reader = inspector.open_run(tmp_path / "bad")
    assert reader.status == "failed" and "boom" in reader.meta["error"]


def test_keyboard_interrupt_marks_interrupted_and_keeps_steps(tmp_path):
    model = small_net()
    with pytest.raises(KeyboardInterrupt):
        with inspector.watch(model, run="ctrlc", root=tmp_path, every=1) as rec:
            train_steps(model, rec, n=3)
            raise KeyboardInterrupt
    reader = inspector.open_run(tmp_path / "ctrlc")
    assert reader.status == "interrupted" and list(reader.steps()) == [0, 1, 2]
    assert hook_total(model) == 0


def test_train_eval_modes_restored(tmp_path):
    model = small_net()
    model.eval()
    model[1].train()
    modes = {m: m.training for m in model.modules()}
    with inspector.watch(model, run="modes", root=tmp_path, every=1) as rec:
        model.train()
        train_steps(model, rec, n=1)
    assert {m: m.training for m in model.modules()} == modes


def test_deepcopy_inside_block_gets_idle_hooks(tmp_path):
    model = small_net()
    with inspector.watch(model, run="copy", root=tmp_path, every=1) as rec:
        clone = copy.deepcopy(model)  # EMA weights, captum probes, checkpoints do this
        clone(torch.randn(2, 1, 8, 8))
        train_steps(model, rec, n=1)
    assert inspector.open_run(tmp_path / "copy").at_step("calls", 0)["0"] == 1


def test_step_after_close_is_an_error(tmp_path):
    model = small_net()
    with inspector.watch(model, run="closed", root=tmp_path, every=1) as rec:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        rec.step(loss=1.0)
