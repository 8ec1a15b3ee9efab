"""Hugging Face Trainer: InspectorCallback records a tiny GPT-2 built from a config (no
download) for a few CPU steps, at args.logging_steps; the run opens in diagnosis/reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import inspector
from inspector.diagnosis.engine import diagnose_run
from inspector.report import build_markdown

transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")  # the Trainer needs it
from inspector.integrations.transformers import InspectorCallback  # noqa: E402

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]


class Tokens(torch.utils.data.Dataset):
    """Random token ids made here (no tokenizer download); labels = inputs (causal LM)."""

    def __init__(self, n: int = 64, length: int = 12, vocab: int = 64) -> None:
        g = torch.Generator().manual_seed(0)
        self.ids = torch.randint(0, vocab, (n, length), generator=g)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def tiny_gpt2():
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=64, n_positions=16, n_embd=32, n_layer=2, n_head=2)
    return transformers.GPT2LMHeadModel(config)


def make_trainer(tmp_path, model, callback, **args_kw):
    defaults = dict(
        output_dir=str(tmp_path / "out"),
        max_steps=6,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        learning_rate=1e-3,
        logging_steps=2,
        eval_strategy="steps",
        eval_steps=3,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    args = transformers.TrainingArguments(**{**defaults, **args_kw})
    return transformers.Trainer(
        model=model,
        args=args,
        train_dataset=Tokens(),
        eval_dataset=Tokens(8),
        callbacks=[callback],
    )


def test_train_is_recorded_and_opens_in_diagnosis_and_reports(tmp_path) -> None:
    callback = InspectorCallback(root=tmp_path / "runs")
    trainer = make_trainer(tmp_path, tiny_gpt2(), callback, run_name="tiny-gpt2")
    trainer.train()
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.meta["name"] == "tiny-gpt2" and run.status == "finished"
    assert run.meta["framework"]["name"] == "transformers"
    assert run.steps().tolist() == [0, 2, 4]  # logging_steps=2
    names = {layer.name for layer in run.layers("module")}
    assert {"transformer.h.0.mlp.c_fc", "transformer.h.1.attn.c_attn", "lm_head"} <= names
    # the recorded per-step losses average to what the Trainer logged for the same steps
    steps, loss = run.scalar("loss")
    assert steps.tolist() == list(range(6))
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    np.testing.assert_allclose(loss.reshape(3, 2).mean(axis=1), logged, rtol=1e-3)
    assert run.scalar("lr")[1][0] > 0
    # evaluation (eval_steps=3: after steps 3 and 6) is not recorded: one call per step
    assert run.series("calls").values.max() == 1
    assert np.isfinite(run.series("g_norm", role="param").values).all()
    assert diagnose_run(run).verdict
    assert "tiny-gpt2" in build_markdown([run])


def test_gradient_accumulation_is_one_step_each(tmp_path) -> None:
    callback = InspectorCallback(root=tmp_path / "runs", every=1)
    make_trainer(tmp_path, tiny_gpt2(), callback, gradient_accumulation_steps=2).train()
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.steps().tolist() == list(range(6))
    assert run.series("calls").values.max() == 2  # two micro-batches per optimizer step


def test_default_logging_steps_leave_inspectors_schedule(tmp_path) -> None:
    """The Trainer's default logging_steps=500 would record step 0 only in a short run."""
    callback = InspectorCallback(root=tmp_path / "runs")
    make_trainer(tmp_path, tiny_gpt2(), callback, logging_steps=500, eval_strategy="no").train()
    run = inspector.open_run(callback.recorder.writer.dir)
    assert run.steps().tolist()[:5] == [0, 1, 2, 3, 4]


class Breaks(torch.nn.Module):
    """A GPT-2 whose forward fails at the 4th training call."""

    def __init__(self) -> None:
        super().__init__()
        self.lm = tiny_gpt2()
        self.calls = 0

    def forward(self, input_ids, labels=None):
        self.calls += self.training
        if self.training and self.calls == 4:
            raise RuntimeError("boom in forward")
        return self.lm(input_ids=input_ids, labels=labels)


def test_a_failed_train_is_closed_as_failed(tmp_path) -> None:
    callback = InspectorCallback(root=tmp_path / "runs", every=1)
    with pytest.raises(RuntimeError, match="boom"):
        make_trainer(tmp_path, Breaks(), callback, eval_strategy="no").train()
    failed = callback.recorder.writer.dir
    callback.end(RuntimeError("boom in forward"))  # the Trainer has no exception event
    run = inspector.open_run(failed)
    assert run.status == "failed" and "boom in forward" in run.meta["error"]
    assert run.steps().tolist() == [0, 1, 2]
    assert callback.recorder.hook_count == 0
