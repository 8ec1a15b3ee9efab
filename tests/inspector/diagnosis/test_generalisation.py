"""generalisation_gap on hand-written loops: memorising random labels must trigger it, learning
a real rule must not; and the harness' stored ``test_loss`` is what the rule reads."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.diagnosis import Severity, diagnose_run
from tests.inspector.diagnosis.conftest import CLASSES, IN, blobs

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train_with_test_loss(root, name: str, x, y, x_test, y_test, steps: int = 120):
    """Full-batch Adam on (x, y), the test loss passed to ``rec.step`` every 10 steps."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(IN, 256), nn.ReLU(), nn.Linear(256, CLASSES))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    test_losses = []
    with inspector.watch(model, run=name, root=root, every=5) as rec:
        for step in range(steps):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            extra = {}
            if step % 10 == 9:
                with torch.no_grad(), rec.paused():
                    test = float(nn.functional.cross_entropy(model(x_test), y_test))
                test_losses.append(test)
                extra["test_loss"] = test
            rec.step(loss=loss, **extra)
    return inspector.open_run(rec.writer.dir), test_losses


def test_memorising_random_labels_is_a_generalisation_gap(tmp_path):
    g = torch.Generator().manual_seed(3)
    x, x_test = torch.randn(24, IN, generator=g), torch.randn(256, IN, generator=g)
    y = torch.randint(0, CLASSES, (24,), generator=g)  # labels with nothing to learn
    y_test = torch.randint(0, CLASSES, (256,), generator=g)
    reader, test_losses = train_with_test_loss(tmp_path, "memorise", x, y, x_test, y_test)
    d = diagnose_run(reader)
    f = d.by_rule("generalisation_gap")
    assert len(f) == 1 and f[0].severity == Severity.WARNING, d.rules()
    ev = f[0].evidence
    # the numbers are the stored ones: best and last test loss of the loop above
    assert ev["test_loss_last"] == pytest.approx(test_losses[-1], rel=1e-6)
    assert ev["test_loss_best"] == pytest.approx(min(test_losses), rel=1e-6)
    assert ev["test_loss_best_step"] == 10 * int(np.argmin(test_losses)) + 9
    assert ev["test_loss_last"] > 1.2 * ev["test_loss_best"] and ev["train_loss_last"] < 0.1
    assert ev["chance_loss"] is None  # a hand-written loop does not say how many classes
    assert "dropout" in f[0].fix and "weight decay" in f[0].fix and "augmentation" in f[0].fix
    assert "stop early" in f[0].fix


def test_learning_a_real_rule_is_not_a_gap(tmp_path):
    x_all, y_all = blobs(768, seed=0)  # one draw: train and test share the class centres
    x, y, x_test, y_test = x_all[:512], y_all[:512], x_all[512:], y_all[512:]
    reader, test_losses = train_with_test_loss(tmp_path, "learn", x, y, x_test, y_test)
    assert test_losses[-1] < math.log(CLASSES)  # it did learn
    d = diagnose_run(reader)
    assert not d.by_rule("generalisation_gap"), d.by_rule("generalisation_gap")[0].message
