"""Saliency maps through captum, made safe for real models.

Six methods (vanilla gradients, Integrated Gradients, SmoothGrad, Guided Backprop, Grad-CAM on
the last conv layer, Occlusion) return comparable maps: (N, H, W) float32, non-negative (abs,
summed over input channels), normalised to max 1 per image.

Why a copy of the model: captum's Guided Backprop hooks every ``nn.ReLU`` with a full backward
hook, and PyTorch refuses an in-place op on a tensor that such a hook wraps
(torchvision's ResNets use ``ReLU(inplace=True)``); Grad-CAM's forward hook captures a layer
output that a later in-place ReLU or ``out += identity`` would overwrite. So every method runs
on a deep copy in eval mode where each module's ``inplace`` flag is off (the same function,
computed out of place), with any hooks (e.g. an active ``inspector.watch``) removed and
parameter gradients off. The user's model is never touched.

Tuple outputs: ``output_selector`` picks the logits from whatever the forward returns:
``None`` = the tensor itself, or the first element of a tuple/list (the first value of a
dict); an ``int`` indexes a tuple/list, a ``str`` keys a dict, a callable gets the raw output.

One-off probe: host syncs are allowed (marked ``# sync-ok``).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import torch
from torch import nn

from inspector.errors import InspectorError
from inspector.probes.temporary_hooks import TemporaryHooks

OutputSelector = int | str | Callable[[Any], torch.Tensor] | None


class Method(StrEnum):
    SALIENCY = "saliency"
    INTEGRATED_GRADIENTS = "integrated_gradients"
    SMOOTHGRAD = "smoothgrad"
    GUIDED_BACKPROP = "guided_backprop"
    GRADCAM = "gradcam"
    OCCLUSION = "occlusion"


ALL_METHODS: tuple[Method, ...] = tuple(Method)


@dataclass(frozen=True)
class SaliencyConfig:
    """Costs of the expensive methods; defaults keep 8 images at 28-32 px to seconds on CPU."""

    ig_steps: int = 16
    smoothgrad_samples: int = 8
    smoothgrad_noise: float = 0.15  # noise std as a share of the batch's value range
    occlusion_window: int | None = None  # default: about 1/6 of the smaller image side
    occlusion_stride: int | None = None  # default: half the window, rounded up
    seed: int = 0  # SmoothGrad noise
    max_batch: int = 256  # examples per forward in IG / SmoothGrad / Occlusion


@dataclass
class SaliencyMaps:
    """Maps per method plus what they explain; ``errors`` holds methods that failed."""

    maps: dict[str, np.ndarray]
    predictions: list[int]
    targets: list[int]
    target_layer: str | None
    errors: dict[str, str] = field(default_factory=dict)


def select_output(output: Any, selector: OutputSelector = None) -> torch.Tensor:
    """The logits tensor out of a forward's return value (see the module docstring)."""
    if callable(selector):
        out = selector(output)
    elif selector is None:
        out = output
        if isinstance(out, dict):
            out = next(iter(out.values()))
        elif isinstance(out, (tuple, list)):
            out = out[0]
    elif isinstance(selector, int) and isinstance(output, (tuple, list)):
        out = output[selector]
    elif isinstance(selector, str) and isinstance(output, dict):
        out = output[selector]
    else:
        raise InspectorError(
            f"output_selector {selector!r} does not fit a forward returning "
            f"{type(output).__name__}; use an int (tuple), str (dict) or callable"
        )
    if not isinstance(out, torch.Tensor):
        raise InspectorError(
            f"the selected model output is {type(out).__name__}, not a tensor; "
            "pass output_selector to pick the logits"
        )
    return out


class SelectedOutput(nn.Module):
    """Wraps a model so captum sees one (N, classes) logits tensor."""

    def __init__(self, model: nn.Module, selector: OutputSelector = None) -> None:
        super().__init__()
        self.model = model
        self.selector = selector

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return select_output(self.model(x), self.selector)


def inference_copy(model: nn.Module) -> nn.Module:
    """Deep copy in eval mode, hooks removed, ``inplace`` flags off, parameter grads off."""
    clone = copy.deepcopy(model)
    for m in clone.modules():
        for hooks in (
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
            "_backward_pre_hooks",
            "_forward_hooks_with_kwargs",
            "_forward_pre_hooks_with_kwargs",
            "_forward_hooks_always_called",
        ):
            store = getattr(m, hooks, None)
            if store is not None:
                store.clear()
        if getattr(m, "inplace", False) is True:
            m.inplace = False
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone.eval()


def prepare_model(model: nn.Module, output_selector: OutputSelector = None) -> SelectedOutput:
    return SelectedOutput(inference_copy(model), output_selector).eval()


def model_device(model: nn.Module, fallback: torch.device) -> torch.device:
    for p in model.parameters():
        return p.device
    return fallback


def conv_layers_in_order(model: nn.Module, example: torch.Tensor) -> list[tuple[str, int]]:
    """(name, output pixels h*w) of the Conv2d modules in the order the forward calls them."""
    names = {id(m): n for n, m in model.named_modules()}
    order: dict[str, int] = {}

    def hook(module, inputs, output):
        if names[id(module)] not in order and isinstance(output, torch.Tensor):
            order[names[id(module)]] = int(output[0, 0].numel()) if output.dim() == 4 else 0

    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    was = model.training
    try:
        model.eval()
        with TemporaryHooks().forward(convs, hook), torch.no_grad():
            model(example)
    finally:
        model.train(was)
    return list(order.items())


def last_conv_layer(model: nn.Module, example: torch.Tensor) -> str | None:
    """Grad-CAM's default layer: the last Conv2d called whose output is wider than 1x1.

    A 1x1 map upsamples to a constant image, so a deeper 1x1 conv (small inputs through a
    deep net) is passed over; the last conv is the fallback, None when there is no conv.
    """
    order = conv_layers_in_order(model, example)
    wide = [name for name, pixels in order if pixels > 1]
    if wide:
        return wide[-1]
    return order[-1][0] if order else None


def normalise_maps(attr: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) attributions -> (N, H, W) float32: abs, channel sum, max 1 per image."""
    m = attr.detach().float().abs()
    if m.dim() == 4:
        m = m.sum(dim=1)
    m = torch.nan_to_num(m, nan=0.0, posinf=0.0, neginf=0.0)
    peak = m.flatten(1).amax(dim=1).clamp_min(1e-30).view(-1, 1, 1)
    return (m / peak).cpu().numpy().astype(np.float32)  # sync-ok: one-off probe


def occlusion_geometry(h: int, w: int, config: SaliencyConfig) -> tuple[int, int]:
    window = config.occlusion_window or max(2, round(min(h, w) / 6))
    stride = config.occlusion_stride or max(1, -(-window // 2))
    return window, min(stride, window)  # captum refuses a stride larger than the window


def _attribute(
    method: Method,
    wrapped: SelectedOutput,
    x: torch.Tensor,
    target: torch.Tensor,
    layer: nn.Module | None,
    config: SaliencyConfig,
) -> torch.Tensor:
    from captum.attr import (
        GuidedBackprop,
        IntegratedGradients,
        LayerAttribution,
        LayerGradCam,
        NoiseTunnel,
        Occlusion,
        Saliency,
    )

    n = x.shape[0]
    per_eval = max(1, config.max_batch // max(n, 1))
    if method is Method.SALIENCY:
        return Saliency(wrapped).attribute(x, target=target, abs=True)
    if method is Method.INTEGRATED_GRADIENTS:
        return IntegratedGradients(wrapped).attribute(
            x,
            baselines=torch.zeros_like(x),
            target=target,
            n_steps=config.ig_steps,
            internal_batch_size=max(n, config.max_batch),
        )
    if method is Method.SMOOTHGRAD:
        spread = max(float(x.detach().max() - x.detach().min()), 1e-6)  # sync-ok: one-off
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(config.seed)
            return NoiseTunnel(Saliency(wrapped)).attribute(
                x,
                nt_type="smoothgrad",
                nt_samples=config.smoothgrad_samples,
                nt_samples_batch_size=per_eval,
                stdevs=config.smoothgrad_noise * spread,
                target=target,
                abs=True,
            )
    if method is Method.GUIDED_BACKPROP:
        return GuidedBackprop(wrapped).attribute(x, target=target)
    if method is Method.GRADCAM:
        if layer is None:
            raise InspectorError(
                "Grad-CAM needs a Conv2d layer and the model has none; pass "
                "target_layer=NAME of a spatial layer"
            )
        cam = LayerGradCam(wrapped, layer).attribute(x, target=target, relu_attributions=True)
        if cam.dim() != 4:
            raise InspectorError(
                f"Grad-CAM layer output has shape {tuple(cam.shape)}; it needs "
                "a spatial (N, C, H, W) layer"
            )
        return LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
    if method is Method.OCCLUSION:
        window, stride = occlusion_geometry(x.shape[2], x.shape[3], config)
        c = x.shape[1]
        return Occlusion(wrapped).attribute(
            x,
            sliding_window_shapes=(c, window, window),
            strides=(c, stride, stride),
            baselines=0.0,
            target=target,
            perturbations_per_eval=per_eval,
        )
    raise InspectorError(f"unknown saliency method {method!r}")


def parse_methods(methods: Sequence[str] | None) -> list[Method]:
    if methods is None:
        return list(ALL_METHODS)
    out = []
    for m in methods:
        try:
            out.append(Method(m))
        except ValueError:
            raise InspectorError(
                f"unknown saliency method {m!r}; choose from {', '.join(ALL_METHODS)}"
            ) from None
    return out


def attribute_all(
    wrapped: SelectedOutput,
    images: torch.Tensor,
    targets: torch.Tensor,
    methods: Sequence[Method],
    target_layer: str | None,
    config: SaliencyConfig,
    strict: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Maps of each method for a prepared model; failures raise, or go to ``errors``."""
    layer = wrapped.model.get_submodule(target_layer) if target_layer else None
    maps: dict[str, np.ndarray] = {}
    errors: dict[str, str] = {}
    for method in methods:
        try:
            x = images.detach().clone().requires_grad_(True)
            with torch.enable_grad(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
                attr = _attribute(method, wrapped, x, targets, layer, config)
            maps[str(method)] = normalise_maps(attr)
        except Exception as exc:
            if strict:
                raise
            errors[str(method)] = f"{type(exc).__name__}: {exc}"
    return maps, errors


def compute_saliency(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor | Sequence[int] | None = None,
    methods: Sequence[str] | None = None,
    target_layer: str | None = None,
    output_selector: OutputSelector = None,
    config: SaliencyConfig | None = None,
    strict: bool = True,
) -> SaliencyMaps:
    """Saliency maps of ``images`` for the predicted classes (or ``labels`` when given).

    ``target_layer`` (Grad-CAM) defaults to the last Conv2d the forward calls. With
    ``strict=False`` a failing method is reported in ``errors`` instead of raising.
    """
    config = config or SaliencyConfig()
    if images.dim() != 4:
        raise InspectorError(
            f"saliency needs image batches (N, C, H, W); got shape {tuple(images.shape)}"
        )
    chosen = parse_methods(methods)
    wrapped = prepare_model(model, output_selector)
    device = model_device(wrapped, images.device)
    x = images.detach().to(device).float()
    with torch.no_grad():
        logits = wrapped(x)
    if logits.dim() != 2:
        raise InspectorError(
            f"the model's (selected) output has shape {tuple(logits.shape)}; "
            "saliency needs (N, classes) logits (see output_selector)"
        )
    preds = logits.argmax(dim=1)
    if labels is None:
        targets = preds
    else:
        targets = torch.as_tensor(labels, device=device).long().view(-1)
    if target_layer is None:
        target_layer = last_conv_layer(wrapped.model, x[:1])
    elif target_layer not in dict(wrapped.model.named_modules()):
        raise InspectorError(
            f"no module named {target_layer!r} in {type(model).__name__} (target_layer)"
        )
    maps, errors = attribute_all(wrapped, x, targets, chosen, target_layer, config, strict)
    return SaliencyMaps(
        maps=maps,
        predictions=preds.cpu().tolist(),  # sync-ok: one-off probe
        targets=targets.cpu().tolist(),  # sync-ok: one-off probe
        target_layer=target_layer,
        errors=errors,
    )
