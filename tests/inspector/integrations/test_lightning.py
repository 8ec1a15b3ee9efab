"""Lightning: InspectorCallback records a real Trainer.fit (CPU), named after the logger's
version, at the Trainer's log_every_n_steps; the run opens in diagnosis and reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import inspector
from inspector.diagnosis.engine import diagnose_run
from inspector.report import build_html_report, build_markdown

from .conftest import tiny_mlp

pl = pytest.importorskip("lightning.pytorch")
from inspector.integrations.lightning import InspectorCallback  # noqa: E402

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]


class TinyModule(pl.LightningModule):
    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.net = tiny_mlp()
        self.fail_at = fail_at
        self.losses: list[float] = []

    def training_step(self, batch, batch_idx):
        if self.fail_at is not None and self.global_step == self.fail_at:
            raise RuntimeError("boom at step 3")
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.losses.append(loss.item())
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loader() -> DataLoader:
    g = torch.Generator().manual_seed(1)
    data = TensorDataset(torch.randn(64, 6, generator=g), torch.randint(0, 3, (64,), generator=g))
    return DataLoader(data, batch_size=8)


def fit(tmp_path, module: TinyModule, **trainer_kw) -> InspectorCallback:
    from lightning.pytorch.loggers import CSVLogger

    callback = InspectorCallback(root=tmp_path / "runs", exact=True)
    defaults = dict(
        accelerator="cpu",
        devices=1,
        max_steps=6,
        log_every_n_steps=2,
        val_check_interval=3,
        limit_val_batches=2,
        num_sanity_val_steps=1,
        logger=CSVLogger(tmp_path / "logs", name="tiny"),
        callbacks=[callback],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer = pl.Trainer(**{**defaults, **trainer_kw})
    trainer.fit(module, loader(), loader())
    return callback


def test_fit_is_recorded_and_opens_in_diagnosis_and_reports(tmp_path) -> None:
    module = TinyModule()
    callback = fit(tmp_path, module)
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.meta["name"] == "TinyModule-version_0"
    assert run.meta["framework"]["logger"] == {"name": "tiny", "version": "version_0"}
    assert run.status == "finished"
    assert run.steps().tolist() == [0, 2, 4]  # log_every_n_steps=2
    steps, loss = run.scalar("loss")
    assert steps.tolist() == list(range(6))
    np.testing.assert_allclose(loss, module.losses, rtol=1e-6)
    assert {layer.name for layer in run.layers("module")} == {
        "net.0",
        "net.1",
        "net.2",
        "net.3",
        "net.4",
    }
    # validation and the sanity check (same layers, batch 8) are not recorded
    assert run.series("calls").values.max() == 1
    assert run.series("act_numel").values[0].tolist() == [8 * 16] * 3
    assert np.isfinite(run.series("g_norm", role="param").values).all()
    diagnosis = diagnose_run(run)
    assert diagnosis.verdict
    assert "net.0" in build_html_report([run]) and "TinyModule-version_0" in build_markdown([run])


def test_accumulated_batches_are_one_step_each(tmp_path) -> None:
    callback = fit(tmp_path, TinyModule(), accumulate_grad_batches=2)
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.steps().tolist() == [0, 2, 4]
    assert run.meta["steps"] == 6  # optimizer steps
    assert run.series("calls").values.max() == 2  # two micro-batches per step
    assert run.series("act_numel").values[0].tolist() == [2 * 8 * 16] * 3


def test_without_log_every_n_steps_the_default_schedule_records(tmp_path) -> None:
    """Lightning's implicit 50 would record step 0 only here: Inspector's default schedule
    records the first steps densely instead."""
    callback = fit(tmp_path, TinyModule(), log_every_n_steps=None)
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.steps().tolist()[:5] == [0, 1, 2, 3, 4]


def test_exception_in_training_marks_the_run_failed(tmp_path) -> None:
    module = TinyModule(fail_at=3)
    callback = InspectorCallback(root=tmp_path / "runs", every=1)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=6,
        logger=False,
        callbacks=[callback],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(module, loader())
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.status == "failed" and "boom at step 3" in run.meta["error"]
    assert run.meta["name"] == "TinyModule"  # no logger: the model's class
    assert run.steps().tolist() == [0, 1, 2]
    assert callback.recorder.hook_count == 0


def test_mixed_precision_plugin_scaler_is_unscaled(tmp_path) -> None:
    """precision='16-mixed' (here its plugin on CPU): gradients recorded at 2**16 scale equal
    those recorded at scale 1 (scaling by a power of two is exact)."""
    from lightning.pytorch.plugins import MixedPrecision

    def run(name: str, scale: float):
        scaler = torch.amp.GradScaler("cpu", init_scale=scale, growth_interval=10**6)
        callback = InspectorCallback(name, root=tmp_path / "runs", every=1, exact=True)
        trainer = pl.Trainer(
            accelerator="cpu",
            max_steps=4,
            logger=False,
            callbacks=[callback],
            plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)],
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
        trainer.fit(TinyModule(), loader())
        return inspector.open_run(callback.recorder.writer.dir)

    scaled, plain = run("scaled", 2.0**16), run("plain", 1.0)
    assert scaled.scalar("amp_scale")[1].tolist() == [2.0**16] * 4
    assert scaled.scalar("amp_skipped")[1].tolist() == [0.0] * 4
    for stat in ("grad_norm", "grad_max", "grad_std"):
        np.testing.assert_allclose(scaled.series(stat).values, plain.series(stat).values, rtol=1e-3)


def test_ddp_strategy_under_torchrun_records_on_rank_zero(tmp_path) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(here.parents[3])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    worker = here.with_name("lightning_ddp_worker.py")
    root, out = tmp_path / "runs", tmp_path / "seen"
    out.mkdir()
    done = subprocess.run(
        [*cmd, str(worker), str(root), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    seen = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert seen[0]["recorder"] == "Recorder" and seen[0]["steps"] == 4
    assert seen[1] == {"recorder": "NullRecorder", "steps": 4, "hooks": 0}
    (run_dir,) = list(root.iterdir())
    run = inspector.open_run(run_dir)
    assert run.meta["name"] == "TinyModule-version_0" and run.status == "finished"
    assert run.meta["rank"] == 0 and run.meta["world_size"] == 2
    assert {layer.name for layer in run.layers("module")} == {"net.0", "net.1", "net.2"}
    assert run.steps().tolist() == [0, 1, 2, 3]
