"""Callback points of the training loop, named like Lightning's.

Features that must not live in the loop (architecture tables, kernel snapshots, effective
receptive fields, saliency, diagnosis) plug in here. Every hook receives the ``TrainContext``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from inspector.recorder import Recorder
from inspector.store import RunWriter


@dataclass
class TrainContext:
    """What callbacks can see and use during a run."""

    model: nn.Module
    data: Any  # inspector.data.DataBundle
    config: Any  # TrainConfig
    device: torch.device
    writer: RunWriter
    recorder: Recorder | None = None
    optimizer: torch.optim.Optimizer | None = None
    step: int = 0  # the step in progress (0-based)
    total_steps: int = 0
    last_loss: torch.Tensor | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # host-side, updated at evals

    @property
    def recorded(self) -> bool:
        """Whether the current step is being recorded by the schedule."""
        return bool(self.recorder is not None and self.recorder._armed)


class Callback:
    """Base class: override the hooks you need."""

    def on_fit_start(self, ctx: TrainContext) -> None: ...
    def on_train_batch_start(self, ctx: TrainContext, batch) -> None: ...
    def on_after_backward(self, ctx: TrainContext) -> None: ...
    def on_before_optimizer_step(self, ctx: TrainContext) -> None: ...
    def on_train_batch_end(self, ctx: TrainContext, loss: torch.Tensor) -> None: ...
    def on_validation_start(self, ctx: TrainContext) -> None: ...
    def on_validation_end(self, ctx: TrainContext, metrics: dict[str, float]) -> None: ...
    def on_fit_end(self, ctx: TrainContext) -> None: ...
    def on_run_closed(self, ctx: TrainContext) -> None:
        """After the recorder flushed everything and the status is set (e.g. diagnosis)."""

    def on_exception(self, ctx: TrainContext, exc: BaseException) -> None: ...


class CallbackList(Callback):
    """Calls every callback's hook in order."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)

    def __getattribute__(self, name: str):
        if name.startswith("on_"):
            hooks = [getattr(cb, name) for cb in object.__getattribute__(self, "callbacks")]

            def call_all(*args, **kwargs):
                for hook in hooks:
                    hook(*args, **kwargs)

            return call_all
        return object.__getattribute__(self, name)
