"""Hugging Face ``Trainer``: ``InspectorCallback`` records ``trainer.train()`` like ``watch``.

    from inspector.integrations.transformers import InspectorCallback
    trainer = transformers.Trainer(model, args, callbacks=[InspectorCallback()], ...)

Recording starts at ``on_train_begin`` on the Trainer's model (under torchrun/DDP rank 0
records), one step ends at each ``on_step_end`` (once per optimizer step, so the micro-batches
of ``gradient_accumulation_steps`` are merged) with the step's ``loss`` (the model output's
``loss`` of its last forward) and ``lr``; forward passes while the model is in eval mode
(evaluation, prediction) are not recorded. Cadence follows ``args.logging_steps`` when set
with ``logging_strategy="steps"`` (the default 500 counts as unset: Inspector's default
schedule, dense early) unless ``every`` is given; the run is named ``args.run_name``
when set. A GradScaler found on the Trainer's optimizer (``fp16=True``) is unscaled.

The Trainer has no exception event: when ``train()`` raises, the run is closed as failed by
the next ``on_train_begin`` of this callback or at interpreter exit, or call
``callback.end(exc)`` yourself.
"""

from __future__ import annotations

import atexit
import dataclasses
import math
from typing import Any

import transformers
from torch import nn

from inspector.integrations.callback_session import WatchSession, first_loss


class _TrainingLoss:
    """Top-level forward hooks: keep the last training loss (a device tensor, no sync) and
    pause recording while the model runs in eval mode."""

    def __init__(self, session: WatchSession, model: nn.Module) -> None:
        self.session = session
        self.loss: Any = None
        self._handles = [
            model.register_forward_pre_hook(self._before),
            model.register_forward_hook(self._after),
        ]

    def _before(self, module: nn.Module, args: Any) -> None:
        if module.training:
            self.session.resume()
        else:
            self.session.pause()

    def _after(self, module: nn.Module, args: Any, output: Any) -> None:
        if module.training:
            loss = getattr(output, "loss", None)
            self.loss = loss if loss is not None else first_loss(output)

    def remove(self) -> None:
        while self._handles:
            self._handles.pop().remove()


class InspectorCallback(transformers.TrainerCallback):
    """Record the model's layers while ``Trainer.train`` runs.

    ``run`` / ``root`` / ``every`` and any other keyword (``exact``, ``types``, ``include``,
    ``ranks``...) are passed to ``inspector.watch``.
    """

    def __init__(
        self, run: str | None = None, root: Any = None, *, every: Any = None, **watch_kwargs: Any
    ):
        self.session = WatchSession(run, root, every, watch_kwargs)
        self._loss: _TrainingLoss | None = None
        atexit.register(self._at_exit)

    @property
    def recorder(self) -> Any:
        return self.session.recorder

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if self.session.active:  # the previous train() raised: it never reached on_train_end
            self.end(RuntimeError("training stopped before on_train_end"))
        if model is None:
            return
        meta = {
            "framework": {"name": "transformers", "version": transformers.__version__},
            "output_dir": str(args.output_dir),
        }
        scaler = getattr(optimizer, "scaler", None)  # accelerate's AcceleratedOptimizer
        every = _logging_interval(args, state)
        self.session.start(model, args.run_name, every, meta, scaler, state.global_step)
        self._loss = _TrainingLoss(self.session, model)

    def on_step_end(self, args, state, control, optimizer=None, **kwargs):
        if not self.session.active:
            return
        scalars: dict[str, Any] = {"loss": self._loss.loss if self._loss else None}
        if optimizer is not None and optimizer.param_groups:
            scalars["lr"] = optimizer.param_groups[0]["lr"]
        self.session.step(state.global_step, **scalars)

    def on_train_end(self, args, state, control, **kwargs):
        self.end()

    def end(self, exc: BaseException | None = None) -> None:
        """Close the run: finished, or failed with ``exc``."""
        if self._loss is not None:
            self._loss.remove()
            self._loss = None
        self.session.end(exc)

    def _at_exit(self) -> None:
        if self.session.active:
            self.end(RuntimeError("the process exited before on_train_end"))


def _default_logging_steps() -> Any:
    fields = {f.name: f.default for f in dataclasses.fields(transformers.TrainingArguments)}
    return fields.get("logging_steps")


def _logging_interval(args: Any, state: Any) -> int | None:
    """``logging_steps`` as a step interval (a float < 1 is a share of the total steps)."""
    if str(getattr(args, "logging_strategy", "steps")).rsplit(".", 1)[-1].lower() != "steps":
        return None
    steps = args.logging_steps
    if steps == _default_logging_steps():  # not given: Inspector's default schedule
        return None
    if isinstance(steps, float) and steps < 1:
        steps = math.ceil(steps * max(state.max_steps, 1))
    return max(int(steps), 1)
