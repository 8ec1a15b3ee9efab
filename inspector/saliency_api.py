"""On-demand saliency from Python: maps of six captum methods plus the two trust checks.

    from inspector.saliency_api import explain
    result = explain(model, images, masks=masks)        # images: (N, C, H, W) tensor
    result.maps["integrated_gradients"]                  # (N, H, W) float32, max 1 per image
    result.trust["saliency"]["reflects_model"]           # model-randomization sanity check

The harness' ``SaliencyCallback`` records the same thing at the end of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from inspector.errors import InspectorError
from inspector.probes.saliency import (
    OutputSelector,
    SaliencyConfig,
    compute_saliency,
    model_device,
    prepare_model,
)
from inspector.probes.saliency_trust import (
    REFLECTS_MODEL_THRESHOLD,
    randomization_check,
    trust_summary,
)


@dataclass
class SaliencyResult:
    """Maps, what they explain, and whether they can be trusted."""

    images: np.ndarray  # (N, C, H, W) float32 as fed to the model
    maps: dict[str, np.ndarray]  # method -> (N, H, W) float32, non-negative, max 1 per image
    predictions: list[int]
    targets: list[int]  # the classes explained (predictions unless labels were given)
    labels: list[int] | None
    target_layer: str | None  # Grad-CAM's layer
    trust: dict[str, dict]  # method -> randomization_spearman, reflects_model, mask_share...
    randomized_stages: list[list[str]] = field(default_factory=list)
    masks: np.ndarray | None = None  # (N, H, W) bool
    errors: dict[str, str] = field(default_factory=dict)  # methods that failed (strict=False)

    @property
    def methods(self) -> list[str]:
        return list(self.maps)

    def summary(self, class_names: Sequence[str] | None = None) -> dict[str, Any]:
        """The ``record("saliency", "summary")`` document of docs/RECORDS.md."""
        doc: dict[str, Any] = {
            "methods": self.methods,
            "target_layer": self.target_layer,
            "labels": self.labels,
            "predictions": self.predictions,
            "targets": self.targets,
            "class_names": list(class_names) if class_names is not None else None,
            "trust": self.trust,
            "trust_threshold": REFLECTS_MODEL_THRESHOLD,
            "randomized_stages": self.randomized_stages,
        }
        if self.errors:
            doc["errors"] = self.errors
        return doc


def explain(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor | Sequence[int] | None = None,
    methods: Sequence[str] | None = None,
    masks: torch.Tensor | np.ndarray | None = None,
    target_layer: str | None = None,
    output_selector: OutputSelector = None,
    *,
    randomization: bool = True,
    max_stages: int = 3,
    config: SaliencyConfig | None = None,
    strict: bool = True,
) -> SaliencyResult:
    """Saliency maps of ``images`` and their trust scores; the model itself is not modified.

    ``labels``: classes to explain (default: the model's predictions). ``methods``: subset of
    saliency, integrated_gradients, smoothgrad, guided_backprop, gradcam, occlusion.
    ``masks``: (N, H, W) object masks for mask_share / pointing_hit_rate. ``target_layer``:
    Grad-CAM's layer by module name (default: the last Conv2d called). ``output_selector``:
    for forwards returning a tuple/dict (default: the first element), an index, key or
    callable. ``randomization=False`` skips the cascade (it costs ``max_stages`` more passes).
    """
    config = config or SaliencyConfig()
    if masks is not None:
        if isinstance(masks, torch.Tensor):
            masks = masks.cpu()  # sync-ok: one-off probe
        masks_np = np.asarray(masks).astype(bool)
        if masks_np.shape != (images.shape[0], *images.shape[2:]):
            raise InspectorError(
                f"masks must be (N, H, W) = {(images.shape[0], *images.shape[2:])};"
                f" got {masks_np.shape}"
            )
    else:
        masks_np = None
    result = compute_saliency(
        model, images, labels, methods, target_layer, output_selector, config, strict
    )
    check = None
    if randomization and result.maps:
        wrapped = prepare_model(model, output_selector)
        device = model_device(wrapped, images.device)
        x = images.detach().to(device).float()
        targets = torch.as_tensor(result.targets, device=device)
        check = randomization_check(
            wrapped, x, targets, result.maps, result.target_layer, config, max_stages=max_stages
        )
    return SaliencyResult(
        images=images.detach().float().cpu().numpy(),  # sync-ok: one-off probe
        maps=result.maps,
        predictions=result.predictions,
        targets=result.targets,
        labels=None if labels is None else [int(v) for v in torch.as_tensor(labels).view(-1)],
        target_layer=result.target_layer,
        trust=trust_summary(result.maps, check, masks_np),
        randomized_stages=check.stages if check else [],
        masks=masks_np,
        errors={
            **result.errors,
            **({f"randomization:{k}": v for k, v in check.errors.items()} if check else {}),
        },
    )
