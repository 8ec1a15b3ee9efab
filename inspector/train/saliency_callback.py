"""Saliency maps and their trust checks at the end of a run (docs/RECORDS.md "saliency").

At fit end the fixed probe batch (``data.probe_batch(n=8, seed=0)``, the same images in every
run) is explained by every method; maps, images and masks are stored as arrays at the last
step and ``record("saliency", "summary")`` holds predictions and trust scores. Non-image data
and models without spatial layers are skipped without a record; a probe failure becomes
``record("saliency", "error")`` instead of failing the run.
"""

from __future__ import annotations

import contextlib
import traceback

import numpy as np

from inspector.probes.effective_rf import spatial_layers
from inspector.probes.saliency import OutputSelector, SaliencyConfig
from inspector.store.records import SALIENCY, saliency_array
from inspector.train.callbacks import Callback, TrainContext


class SaliencyCallback(Callback):
    """Records ``saliency/*`` arrays and the saliency summary when training ends."""

    def __init__(
        self,
        n_images: int = 8,
        methods: tuple[str, ...] | None = None,
        target_layer: str | None = None,
        output_selector: OutputSelector = None,
        trust: bool = True,
        max_stages: int = 3,
        config: SaliencyConfig | None = None,
    ) -> None:
        self.n_images = n_images
        self.methods = methods
        self.target_layer = target_layer
        self.output_selector = output_selector
        self.trust = trust
        self.max_stages = max_stages
        self.config = config or SaliencyConfig()

    def on_fit_end(self, ctx: TrainContext) -> None:
        info = getattr(ctx.data, "info", None)
        if info is None or info.kind != "image":
            return
        step = ctx.total_steps
        paused = ctx.recorder.paused() if ctx.recorder is not None else contextlib.nullcontext()
        try:
            with paused:
                x, y, masks = ctx.data.probe_batch(n=self.n_images, seed=0)
                if x.dim() != 4 or not x.is_floating_point():
                    return
                x = x.to(ctx.device)
                if not spatial_layers(ctx.model, x[:1]):
                    return
                self._explain(ctx, x, y, masks, step, list(info.class_names or []))
        except Exception as exc:
            ctx.writer.put_record(
                "saliency",
                "error",
                {
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(limit=4),
                    "step": step,
                },
            )

    def _explain(self, ctx: TrainContext, x, y, masks, step: int, class_names: list[str]) -> None:
        from inspector.saliency_api import explain

        result = explain(
            ctx.model,
            x,
            labels=None,
            methods=self.methods,
            masks=masks,
            target_layer=self.target_layer,
            output_selector=self.output_selector,
            randomization=self.trust,
            max_stages=self.max_stages,
            config=self.config,
            strict=False,
        )
        if not result.maps:
            raise RuntimeError(f"every saliency method failed: {result.errors}")
        writer = ctx.writer
        writer.put_array(saliency_array("images"), result.images.astype(np.float32), step=step)
        if result.masks is not None:
            writer.put_array(saliency_array("masks"), result.masks.astype(np.uint8), step=step)
        for method, maps in result.maps.items():
            writer.put_array(saliency_array(method), maps.astype(np.float32), step=step)
        summary = result.summary(class_names or None)
        summary["labels"] = [int(v) for v in y.view(-1).tolist()]  # sync-ok: one-off probe
        summary["step"] = step
        writer.put_record(*SALIENCY, summary)
