"""Effective receptive field at initialisation and after training (docs/RECORDS.md "erf").

Luo et al. 2016 observe that the ERF starts small and Gaussian and grows with training, so it
is measured twice: at fit start (``phase: init``, step 0) and at fit end (``phase: final``,
the last step) on the same test batch. Non-image data and models without spatial layers are
skipped without a record; a probe failure becomes ``record("probe_error", "erf/<phase>")``
instead of failing the run.
"""

from __future__ import annotations

import contextlib
import traceback

import torch

from inspector.probes.effective_rf import ERFResult, effective_rf, spatial_layers
from inspector.store.records import ERF_KIND, erf_array
from inspector.train.callbacks import Callback, TrainContext


def theoretical_rf(model: torch.nn.Module, example: torch.Tensor, layer: str) -> list[int] | None:
    """The layer's theoretical receptive field (h, w) from ``probes.receptive_field``."""
    from inspector.probes.receptive_field import layer_field, receptive_field

    try:
        row = layer_field(receptive_field(model, example), layer)
    except Exception:  # the theoretical probe writes its own record; a missing value is fine
        return None
    if not row or not row.get("rf") or row.get("global"):
        return None
    return [int(v) for v in row["rf"]]


class ERFCallback(Callback):
    """Writes ``erf/<layer>/init|final`` arrays and ``record("erf", layer)`` at both ends."""

    def __init__(
        self, layer: str | None = None, mass_share: float = 0.95, batch_size: int = 32
    ) -> None:
        self.layer = layer
        self.mass_share = mass_share
        self.batch_size = batch_size
        self._batch: torch.Tensor | None = None
        self._skip = False
        self._layer: str | None = None
        self._theoretical: list[int] | None = None

    def on_fit_start(self, ctx: TrainContext) -> None:
        info = getattr(ctx.data, "info", None)
        if info is None or info.kind != "image":
            self._skip = True
            return
        test = ctx.data.test
        if len(test) == 0:
            self._skip = True
            return
        # indexed directly: a DataLoader iterator would draw a seed from the global RNG and
        # shift the training run's randomness just because this callback is present
        x = torch.stack([test[i][0] for i in range(min(self.batch_size, len(test)))])
        if x.dim() != 4 or not x.is_floating_point():
            self._skip = True
            return
        self._batch = x
        self._measure(ctx, "init", 0)

    def on_fit_end(self, ctx: TrainContext) -> None:
        if not self._skip and self._batch is not None:
            self._measure(ctx, "final", ctx.total_steps)

    def _measure(self, ctx: TrainContext, phase: str, step: int) -> None:
        paused = ctx.recorder.paused() if ctx.recorder is not None else contextlib.nullcontext()
        try:
            with paused:
                x = self._batch.to(ctx.device)
                if (
                    self._layer is None
                    and self.layer is None
                    and not spatial_layers(ctx.model, x[:1])
                ):
                    self._skip = True  # no spatial layer: nothing to measure, no record
                    return
                result: ERFResult = effective_rf(
                    ctx.model, x, layer=self._layer or self.layer, mass_share=self.mass_share
                )
                if self._layer is None:  # the same layer at both ends
                    self._layer = result.layer
                    self._theoretical = theoretical_rf(ctx.model, x[:1], result.layer)
        except Exception as exc:
            ctx.writer.put_record(
                "probe_error",
                f"erf/{phase}",
                {
                    "probe": "erf",
                    "phase": phase,
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=4),
                },
                step=step,
            )
            return
        ctx.writer.put_array(erf_array(result.layer, phase), result.erf, step=step)
        ctx.writer.put_record(
            ERF_KIND, result.layer, result.to_record(phase, self._theoretical), step=step
        )
