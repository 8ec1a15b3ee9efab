"""Write the architecture table and the theoretical receptive fields at fit start (step 0).

One example from the training split is pushed through the model (eval mode, no grad, the
recorder paused so these passes never reach the per-step statistics); the model's mode is
restored afterwards. Records: ``architecture``/``table`` and ``receptive_field``/``layers``.
"""

from __future__ import annotations

import contextlib
import warnings

import torch

from inspector.store.records import ARCHITECTURE, RECEPTIVE_FIELD
from inspector.train.callbacks import Callback, TrainContext


def example_batch(ctx: TrainContext, n: int = 1) -> torch.Tensor:
    """The first ``n`` training inputs as a batch on the run's device."""
    xs = [ctx.data.train[i][0] for i in range(min(n, len(ctx.data.train)))]
    return torch.stack(xs).to(ctx.device)


class ArchitectureCallback(Callback):
    """Records the per-layer parameter/shape table and receptive fields of the run's model."""

    def __init__(self, receptive_field: bool = True) -> None:
        self.receptive_field = receptive_field

    def on_fit_start(self, ctx: TrainContext) -> None:
        from inspector.probes.param_summary import param_summary
        from inspector.probes.receptive_field import receptive_field

        x = example_batch(ctx)
        was_training = ctx.model.training
        paused = ctx.recorder.paused() if ctx.recorder is not None else contextlib.nullcontext()
        try:
            with paused:
                table = param_summary(ctx.model, x)
                ctx.writer.put_record(*ARCHITECTURE, table, step=0)
                if self.receptive_field and x.dim() >= 3 and x.is_floating_point():
                    rf = receptive_field(ctx.model, x)
                    ctx.writer.put_record(*RECEPTIVE_FIELD, rf, step=0)
        except Exception as exc:  # a probe failure must not stop the training run
            warnings.warn(f"architecture probes skipped: {type(exc).__name__}: {exc}", stacklevel=2)
        finally:
            ctx.model.train(was_training)
