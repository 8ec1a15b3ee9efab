"""Learned-kernel snapshots: conv weights at recorded steps, stored as run artifacts."""

from __future__ import annotations

from torch import nn

from inspector.store.records import kernels_array
from inspector.train.callbacks import Callback, TrainContext


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]


class KernelSnapshots(Callback):
    """Save the first conv layer's weights (or the named layers) every ``every`` steps.

    Snapshots are taken at the first step, then at most ``max_snapshots`` times evenly over
    the run, and at the end, so the dashboard can show filters evolving from noise.
    """

    def __init__(self, layers: tuple[str, ...] = (), max_snapshots: int = 12) -> None:
        self.layers = layers
        self.max_snapshots = max_snapshots
        self._targets: list[tuple[str, nn.Conv2d]] = []
        self._every = 1

    def on_fit_start(self, ctx: TrainContext) -> None:
        convs = conv_layers(ctx.model)
        if self.layers:
            self._targets = [(n, m) for n, m in convs if n in self.layers]
        else:
            self._targets = convs[:1]
        self._every = max(1, -(-ctx.total_steps // self.max_snapshots))
        self._save(ctx, 0)

    def on_train_batch_end(self, ctx: TrainContext, loss) -> None:
        step = ctx.step + 1  # weights after this step's update
        if step % self._every == 0 and step < ctx.total_steps:
            self._save(ctx, step)

    def on_fit_end(self, ctx: TrainContext) -> None:
        self._save(ctx, ctx.total_steps)

    def _save(self, ctx: TrainContext, step: int) -> None:
        for name, conv in self._targets:
            weights = conv.weight.detach().float().cpu().numpy()  # sync-ok: snapshot step
            ctx.writer.put_array(kernels_array(name), weights, step=step)
