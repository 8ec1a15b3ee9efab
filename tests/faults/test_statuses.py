"""Issue 13.2 (liveness), 13.8 and 13.12: every way a run can end gets the right status.

A schedule that raises at entry leaves no hooks and no open store; a bad schedule fails
before a run folder exists; a malformed ``rec.step()`` value or a store deleted/truncated
mid-run ends ``failed`` with the reason; a reused PID or a stale heartbeat never reads
``running``.
"""

from __future__ import annotations

import os
import socket
import time

import pytest
import torch
from torch import nn

import inspector
from inspector.errors import InspectorError, StoreError
from inspector.store import RunWriter, open_run
from inspector.store.liveness import STALE_SECONDS, process_start_time, writer_alive
from inspector.store.schema import DB_NAME


def hooks(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


def net() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))


def train_steps(model, rec, n: int) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(n):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec.step(loss=loss)


def test_a_schedule_that_raises_at_entry_leaves_nothing_behind(tmp_path):
    model = net()

    def broken(step: int) -> bool:
        raise ValueError("my schedule is broken")

    with pytest.raises(ValueError, match="broken"):
        with inspector.watch(model, "sched", root=tmp_path, every=broken):
            pass
    assert hooks(model) == 0
    reader = open_run(tmp_path / "sched")
    assert reader.status == "failed" and "my schedule is broken" in reader.meta["error"]
    assert not (tmp_path / "sched" / (DB_NAME + "-wal")).exists()  # connection closed


def test_a_bad_schedule_fails_before_any_run_folder(tmp_path):
    from inspector.train import TrainConfig, train

    with pytest.raises(InspectorError, match="bad schedule"):
        train(net(), "shapes", TrainConfig(steps=2, every="abc"), root=tmp_path, quiet=True)
    with pytest.raises(InspectorError, match="bad schedule"):
        with inspector.watch(net(), "x", root=tmp_path, every="abc"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_study_with_a_bad_every_creates_nothing(tmp_path):
    from inspector.cli import main

    rc = main(
        ["study", "depth", "--model", "plain_mlp", "--depths", "2", "--steps", "2",
         "--every", "abc", "--runs-root", str(tmp_path)]
    )  # fmt: skip
    assert rc == 2
    assert [p for p in tmp_path.rglob(DB_NAME)] == []


@pytest.mark.parametrize(
    "value, match",
    [(torch.tensor([]), "single number"), (torch.ones(3), "single number"), ("x", "number")],
)
def test_a_malformed_step_value_ends_failed_with_the_reason(tmp_path, value, match):
    model = net()
    with pytest.raises(InspectorError, match=match):
        with inspector.watch(model, "bad", root=tmp_path, every=1) as rec:
            train_steps(model, rec, 2)
            rec.step(loss=value)
    reader = open_run(tmp_path / "bad")
    assert reader.status == "failed" and match in reader.meta["error"]
    assert len(reader.steps()) == 2 and hooks(model) == 0


def test_a_store_deleted_mid_run_ends_failed_with_the_reason(tmp_path):
    model = net()
    with pytest.raises(StoreError, match="deleted"):
        with inspector.watch(model, "gone", root=tmp_path, every=1) as rec:
            train_steps(model, rec, 2)
            for p in (tmp_path / "gone").glob(DB_NAME + "*"):
                p.unlink()
            train_steps(model, rec, 2)
    assert hooks(model) == 0


def test_a_store_truncated_mid_run_ends_failed_with_the_reason(tmp_path):
    model = net()
    with pytest.raises(StoreError, match="truncated"):
        with inspector.watch(model, "cut", root=tmp_path, every=1) as rec:
            train_steps(model, rec, 2)
            os.truncate(tmp_path / "cut" / DB_NAME, 0)
            train_steps(model, rec, 2)
    assert hooks(model) == 0


def test_a_reused_pid_does_not_read_running(tmp_path):
    w = RunWriter.create("reused", root=tmp_path, heartbeat=False)
    me = os.getpid()
    assert writer_alive({"pid": me, "host": socket.gethostname(),
                         "process_start": process_start_time(me)})  # fmt: skip
    # the PID is alive (it is this test) but started at another time: another process
    w.set_meta({"pid": me, "process_start": (process_start_time(me) or 0) + 12345})
    assert open_run(w.dir).status == "interrupted"
    w.close()


def test_a_stale_heartbeat_does_not_read_running(tmp_path):
    w = RunWriter.create("stale", root=tmp_path, heartbeat=False)
    # another host (PID not checkable) whose writer stopped beating long ago
    w.set_meta({"host": "elsewhere", "heartbeat": time.time() - 10 * STALE_SECONDS})
    assert open_run(w.dir).status == "interrupted"
    w.set_meta({"heartbeat": time.time()})
    assert open_run(w.dir).status == "running"
    w.close()


def test_the_heartbeat_thread_stamps_the_run(tmp_path, monkeypatch):
    import inspector.store.writer as writer_mod

    monkeypatch.setattr(writer_mod, "HEARTBEAT_SECONDS", 0.01)
    w = RunWriter.create("beat", root=tmp_path)
    first = open_run(w.dir).meta["heartbeat"]
    deadline = time.time() + 60
    while open_run(w.dir).meta["heartbeat"] == first and time.time() < deadline:
        time.sleep(0.05)
    assert open_run(w.dir).meta["heartbeat"] > first
    w.close()


def test_watch_on_a_function_is_a_clear_error(tmp_path):
    with pytest.raises(InspectorError, match="needs a torch.nn.Module, got function"):
        with inspector.watch(lambda x: x, root=tmp_path):
            pass
    assert list(tmp_path.iterdir()) == []


def test_compiled_model_layers_have_no_orig_mod_prefix(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    compiled = torch.compile(model, backend="eager")
    with inspector.watch(compiled, "compiled", root=tmp_path, every=1) as rec:
        opt = torch.optim.SGD(compiled.parameters(), lr=0.1)
        for _ in range(2):
            loss = compiled(torch.randn(8, 4)).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss=loss)
    names = [layer.name for layer in open_run(tmp_path / "compiled").layers()]
    assert names and not any("_orig_mod" in n for n in names)
    assert {"0", "2", "0.weight"} <= set(names)
