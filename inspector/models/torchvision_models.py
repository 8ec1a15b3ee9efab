"""``tv:<name>``: any torchvision classification model, built without weights.

``num_classes`` goes to torchvision's constructor. When ``in_channels`` is not 3 the first
``nn.Conv2d`` of the model (in registration order: the stem) is replaced by a fresh conv with
the same kernel, stride, padding, dilation, groups and bias but ``in_channels`` inputs, so a
grayscale dataset feeds e.g. ``tv:resnet18`` directly. ``image_size`` is accepted and ignored
(torchvision classifiers end in adaptive pooling); models with a minimum input size (e.g.
inception_v3 needs 75 px) fail on smaller inputs with torchvision's own error.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

from torch import nn

from inspector.errors import ModelError
from inspector.models.registry import InputKind, ModelSpec


def _names() -> list[str]:
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def _check_name(name: str) -> None:
    names = _names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
        hint = f"closest: {', '.join('tv:' + c for c in close)}; " if close else ""
        raise ModelError(
            f"unknown torchvision model tv:{name}; {hint}torchvision classifiers: "
            f"{', '.join(names)}"
        )


def replace_first_conv(model: nn.Module, in_channels: int) -> nn.Module:
    """Swap the first Conv2d for one taking ``in_channels`` inputs (fresh init)."""
    for parent_name, parent in model.named_modules():
        for child_name, child in parent.named_children():
            if isinstance(child, nn.Conv2d):
                if child.in_channels == in_channels:
                    return model
                if child.groups != 1:
                    raise ModelError(
                        f"cannot adapt a grouped first conv to {in_channels} input channels"
                    )
                new = nn.Conv2d(
                    in_channels,
                    child.out_channels,
                    child.kernel_size,
                    stride=child.stride,
                    padding=child.padding,
                    dilation=child.dilation,
                    bias=child.bias is not None,
                    padding_mode=child.padding_mode,
                )
                setattr(parent, child_name, new)
                return model
        del parent_name
    raise ModelError("this torchvision model has no Conv2d to adapt to in_channels")


def create_tv_model(
    name: str, in_channels: int = 3, num_classes: int = 1000, image_size: Any = None, **kwargs: Any
) -> nn.Module:
    """torchvision ``get_model(name, weights=None, num_classes=...)`` plus the stem swap."""
    import torchvision

    del image_size
    for key in ("vocab_size", "seq_len"):
        if key in kwargs:
            raise ModelError(
                f"tv:{name} takes image input; the data gives sequences ({key}). "
                "Use an image dataset or a sequence model (rnn/lstm/gru_classifier)"
            )
    _check_name(name)
    try:
        model = torchvision.models.get_model(name, weights=None, num_classes=num_classes, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"cannot build tv:{name} with {kwargs}: {exc}") from exc
    if in_channels != 3:
        replace_first_conv(model, in_channels)
    return model


def tv_spec(name: str) -> ModelSpec:
    _check_name(name)
    return ModelSpec(
        name=f"tv:{name}",
        builder=functools.partial(create_tv_model, name),
        input_kind=InputKind.IMAGE,
        source=f"torchvision.models.{name} (no pretrained weights)",
        notes="first Conv2d replaced when in_channels != 3; image_size ignored",
        family="torchvision",
        canonical={"in_channels": 3, "num_classes": 1000},
    )
