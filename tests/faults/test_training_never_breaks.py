"""Issue 13.5-6: recording never breaks the user's training.

Forward passes under ``torch.inference_mode()`` and inside ``torch.func`` transforms on a
recorded step are skipped with one note; a full disk stops recording with one warning,
training goes on and the run ends ``incomplete``.
"""

from __future__ import annotations

import sqlite3
import warnings

import pytest
import torch
from torch import nn

import inspector
from inspector.store import RunWriter, open_run


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))


def sgd_step(model, opt, rec) -> torch.Tensor:
    loss = model(torch.randn(16, 6)).logsumexp(1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    rec.step(loss=loss)
    return loss


def _requiring(params: dict) -> list[torch.Tensor]:
    return [v.clone().requires_grad_(True) for v in params.values()]


def test_inference_mode_forward_on_a_recorded_step(tmp_path):
    model = net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with inspector.watch(model, "inf", root=tmp_path, every=1) as rec:
            for _ in range(3):
                model.eval()
                with torch.inference_mode():
                    model(torch.randn(4, 6))  # e.g. a validation pass mid-step
                model.train()
                sgd_step(model, opt, rec)
    notes = [w for w in caught if "inference_mode" in str(w.message)]
    assert len(notes) == 1  # warned once, not per call
    reader = open_run(tmp_path / "inf")
    assert reader.status == "finished" and len(reader.steps()) == 3
    assert any("inference_mode" in n for n in reader.meta["notes"])
    assert len(reader.layer_series("0", "act_mean")[0]) == 3  # the training passes recorded


def test_torch_func_grad_and_vmap_over_a_watched_model(tmp_path):
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    x = torch.randn(5, 6)

    def loss_fn(p, inp):
        return torch.func.functional_call(model, p, (inp,)).pow(2).mean()

    req = _requiring(params)
    reference = torch.autograd.grad(loss_fn(dict(zip(params, req)), x), req)

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with inspector.watch(model, "func", root=tmp_path, every=1) as rec:
            grads = torch.func.grad(loss_fn)(params, x)
            per_sample = torch.func.vmap(lambda row: model(row))(x)
            sgd_step(model, opt, rec)
    assert per_sample.shape == (5, 3)
    for got, want in zip((grads[k] for k in params), reference):
        torch.testing.assert_close(got, want)  # the transform's result is untouched
    assert sum("torch.func" in str(w.message) for w in caught) == 1
    reader = open_run(tmp_path / "func")
    assert reader.status == "finished" and len(reader.steps()) == 1


def cap_size(writer: RunWriter, extra_pages: int) -> None:
    """A real SQLITE_FULL ("database or disk is full") once the database grows by
    ``extra_pages``: SQLite's max_page_count stands in for a small disk."""
    pages = writer._conn.execute("PRAGMA page_count").fetchone()[0]
    writer._conn.execute(f"PRAGMA max_page_count = {pages + extra_pages}")


def test_a_full_disk_degrades_recording_and_training_goes_on(tmp_path):
    model = net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with inspector.watch(model, "full", root=tmp_path, every=1) as rec:
            cap_size(rec.writer, 4)
            for _ in range(40):
                losses.append(float(sgd_step(model, opt, rec)))
            rec.writer.put_record("x", "y", {"a": 1} | {str(i): i for i in range(5000)})
    assert len(losses) == 40  # training finished
    full = [w for w in caught if "disk full" in str(w.message)]
    assert len(full) == 1  # one warning
    assert rec.hook_count == 0  # recording stopped
    reader = open_run(tmp_path / "full")
    assert reader.status == "incomplete" and reader.meta["error"] == "disk full"
    assert 1 <= len(reader.steps()) < 40  # what fitted is kept


def test_an_injected_disk_full_error_from_any_write(tmp_path, monkeypatch):
    """The error injected at the SQLite call, as the issue describes, on a meta write."""
    model = net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    class FullConnection:
        def __init__(self, conn):
            self._conn = conn

        def __getattr__(self, name):
            return getattr(self._conn, name)

        def __enter__(self):
            return self._conn.__enter__()

        def __exit__(self, *exc):
            return self._conn.__exit__(*exc)

        def executemany(self, sql, rows):
            raise sqlite3.OperationalError("database or disk is full")

        execute = executemany

    with pytest.warns(RuntimeWarning, match="disk full"):
        with inspector.watch(model, "inj", root=tmp_path, every=1) as rec:
            sgd_step(model, opt, rec)
            real = rec.writer._conn
            rec.writer._conn = FullConnection(real)
            rec.writer.set_meta({"epoch": 1})
            for _ in range(3):
                sgd_step(model, opt, rec)
            rec.writer._conn = real  # space was freed: the final status gets written
    reader = open_run(tmp_path / "inj")
    assert reader.status == "incomplete"


def test_a_full_disk_in_the_harness_ends_incomplete(tmp_path, monkeypatch):
    from inspector.train import TrainConfig, train

    real_create = RunWriter.create.__func__

    def small_disk(cls, *args, **kwargs):
        writer = real_create(cls, *args, **kwargs)
        cap_size(writer, 6)
        return writer

    monkeypatch.setattr(RunWriter, "create", classmethod(small_disk))
    model = nn.Sequential(nn.Flatten(), nn.LazyLinear(6))
    with pytest.warns(RuntimeWarning, match="disk full"):
        result = train(
            model,
            "shapes",
            TrainConfig(steps=30, batch_size=8, every=1),
            run="harness",
            root=tmp_path,
            quiet=True,
            default_callbacks=False,
        )
    assert result.status == "incomplete"
