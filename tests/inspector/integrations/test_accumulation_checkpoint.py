"""Gradient accumulation (k micro-batches, one rec.step per optimizer step) records the
statistics of all k; activation checkpointing's recomputed forwards are not counted twice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

import inspector

from .conftest import batches, tiny_mlp

pytestmark = pytest.mark.usefixtures("one_torch_thread")
STATS = ("act_numel", "act_mean", "act_std", "act_min", "act_max", "act_zero_frac", "grad_numel")
STATS += ("grad_norm", "grad_mean", "grad_std", "grad_min", "grad_max", "calls")


def stored(run, stat: str, role: str = "module") -> dict[str, np.ndarray]:
    s = run.series(stat, role=role)
    return {layer: s.values[i] for i, layer in enumerate(s.layers)}


def assert_same_run(a, b, stats=STATS, rtol: float = 1e-5) -> None:
    for stat in stats:
        sa, sb = stored(a, stat), stored(b, stat)
        assert sa.keys() == sb.keys() and sa, stat
        for layer in sa:
            np.testing.assert_allclose(
                sa[layer], sb[layer], rtol=rtol, atol=1e-7, err_msg=f"{stat} {layer}"
            )
    ga, gb = stored(a, "g_norm", "param"), stored(b, "g_norm", "param")
    assert ga.keys() == gb.keys() and ga
    for name in ga:
        np.testing.assert_allclose(ga[name], gb[name], rtol=rtol)


def test_accumulated_micro_batches_are_one_step_over_all_of_them(tmp_path) -> None:
    k, data = 4, batches(3 * 4, size=8)
    # reference: each optimizer step on the k micro-batches concatenated, mean loss
    model = tiny_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with inspector.watch(model, "whole", root=tmp_path, every=1, exact=True) as rec:
        for i in range(0, len(data), k):
            x = torch.cat([b[0] for b in data[i : i + k]])
            y = torch.cat([b[1] for b in data[i : i + k]])
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            rec.step()
            opt.zero_grad()
    whole = inspector.open_run(rec.writer.dir)
    model = tiny_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with inspector.watch(model, "accumulated", root=tmp_path, every=1, exact=True) as rec:
        for i, (x, y) in enumerate(data):
            (nn.functional.cross_entropy(model(x), y) / k).backward()
            if (i + 1) % k == 0:  # one optimizer step, one recorded step, per k micro-batches
                opt.step()
                rec.step()
                opt.zero_grad()
    accumulated = inspector.open_run(rec.writer.dir)
    assert accumulated.steps().tolist() == whole.steps().tolist() == [0, 1, 2]
    assert_same_run(accumulated, whole, [s for s in STATS if s != "calls"])
    assert set(np.concatenate(list(stored(accumulated, "calls").values()))) == {float(k)}
    assert stored(accumulated, "act_numel")["0"].tolist() == [k * 8 * 16] * 3
    for layer in ("0", "2", "4"):
        np.testing.assert_array_equal(
            accumulated.histogram(layer, "act")[2], whole.histogram(layer, "act")[2]
        )


class Checkpointed(nn.Module):
    """stem -> checkpointed block -> head; ``reentrant=None``: no checkpointing."""

    def __init__(self, reentrant: bool | None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Linear(6, 16)
        self.block = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)
        self.reentrant = reentrant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        if self.reentrant is None:
            h = self.block(h)
        else:
            h = checkpoint(self.block, h, use_reentrant=self.reentrant)
        return self.head(h)


def record(root, reentrant: bool | None):
    model = Checkpointed(reentrant)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with inspector.watch(model, f"ckpt-{reentrant}", root=root, every=1, exact=True) as rec:
        for x, y in batches(3):
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            rec.step()
            opt.zero_grad()
    return inspector.open_run(rec.writer.dir)


@pytest.mark.parametrize("reentrant", [False, True])
def test_checkpointed_forward_recomputation_is_not_double_counted(tmp_path, reentrant) -> None:
    plain = record(tmp_path, None)
    checkpointed = record(tmp_path, reentrant)
    assert_same_run(checkpointed, plain)
    assert set(np.concatenate(list(stored(checkpointed, "calls").values()))) == {1.0}
