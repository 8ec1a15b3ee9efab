"""torch.compile: a compiled model records what the eager one does, under its own names,
with the graph breaks counted; fullgraph=True is refused with what to do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import inspector
from inspector.errors import InspectorError

from .conftest import batches, tiny_mlp

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]
STATS = ("act_mean", "act_std", "act_max", "act_zero_frac", "grad_norm", "grad_std", "calls")


def record(root, compiled: bool):
    model = tiny_mlp()
    runnable = torch.compile(model) if compiled else model
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(UserWarning, match="graph") if compiled else _nothing():
        # every=2: recorded and unrecorded steps alternate, as under the default schedule
        with inspector.watch(
            runnable, "compiled" if compiled else "eager", root=root, every=2
        ) as rec:
            for x, y in batches(5):
                loss = nn.functional.cross_entropy(runnable(x), y)
                loss.backward()
                opt.step()
                rec.step(loss=loss)
                opt.zero_grad()
    return inspector.open_run(rec.writer.dir)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_compiled_model_records_the_eager_statistics(tmp_path) -> None:
    torch._dynamo.reset()
    eager = record(tmp_path, compiled=False)
    compiled = record(tmp_path, compiled=True)
    names = [layer.name for layer in compiled.layers()]
    assert names == [layer.name for layer in eager.layers()]
    assert not [n for n in names if "_orig_mod" in n]
    assert compiled.steps().tolist() == eager.steps().tolist() == [0, 2, 4]
    for stat in STATS:
        a, b = compiled.series(stat), eager.series(stat)
        assert a.layers == b.layers and a.values.size, stat
        np.testing.assert_allclose(a.values, b.values, rtol=1e-5, atol=1e-7, err_msg=stat)
    ga, ge = compiled.series("g_norm", role="param"), eager.series("g_norm", role="param")
    np.testing.assert_allclose(ga.values, ge.values, rtol=1e-5)
    np.testing.assert_allclose(compiled.scalar("loss")[1], eager.scalar("loss")[1], rtol=1e-5)
    info = compiled.meta["compile"]
    assert info["compiled"] is True and info["graph_breaks"] > 0 and info["reasons"]
    assert "compile" not in eager.meta


def test_fullgraph_compile_is_refused_before_anything_is_written(tmp_path) -> None:
    compiled = torch.compile(tiny_mlp(), fullgraph=True)
    with pytest.raises(InspectorError, match="fullgraph=True") as err:
        with inspector.watch(compiled, "fullgraph", root=tmp_path):
            pass
    assert "without fullgraph=True" in str(err.value)
    assert compiled._orig_mod[0]._forward_hooks == {}  # no hook left behind
    assert not list(tmp_path.iterdir())  # no run folder
