"""``inspector.diagnose(model)``: a short recorded training, then the diagnosis of that run.

The second user journey: hand over an ``nn.Module``, learn in a minute what is wrong with
its gradient flow and what to change. The run is stored like any other, so the dashboard
can show the evidence behind each finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inspector.diagnosis import Diagnosis, Thresholds, diagnose_run
from inspector.errors import DataError, ModelError

# A small CNN on 28px shapes takes well under a minute on one CPU core at these settings,
# with every step recorded; enough steps for the BN running averages to settle (30) and for
# the loss trend to show.
DEFAULT_STEPS = 80
DEFAULT_BATCH = 32
# The same optimizer settings as `inspector run` (SGD, momentum 0.9, lr 0.05), so a
# diagnosis describes the training a user would run; the learning-rate rule says whether
# it suits the model.
DEFAULT_LR = 0.05
SHAPES_SIZES = (28, 32, 64)


def shapes_options(input_shape: Sequence[int] | None, options: Mapping[str, Any]) -> dict:
    """Dataset options that make the built-in ``shapes`` data match ``input_shape``."""
    out = dict(options)
    if input_shape is None or len(input_shape) != 3:
        return out
    c, h, w = (int(d) for d in input_shape)
    if c in (1, 3):
        out.setdefault("channels", c)
    if h == w and h in SHAPES_SIZES:
        out.setdefault("image_size", h)
    return out


def check_input_shape(model: nn.Module, input_shape: Sequence[int]) -> None:
    """ModelError naming the shape and the failing layer if ``model`` rejects the input."""
    from inspector.train.forward_check import check_forward

    try:
        x = torch.zeros(2, *(int(d) for d in input_shape))
    except (TypeError, ValueError, RuntimeError):
        raise ModelError(f"input shape {tuple(input_shape)} is not a valid tensor shape") from None
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    check_forward(model, x.to(device))


def fit_images(bundle: Any, input_shape: Sequence[int]) -> Any:
    """The bundle with images resized / channel-adapted to ``input_shape`` if they differ."""
    from inspector.diagnosis.resize import ResizedImages

    info = bundle.info
    c, h, w = (int(d) for d in input_shape)
    if tuple(info.input_shape or ()) == (c, h, w):
        return bundle
    if not dataclasses.is_dataclass(bundle) or not dataclasses.is_dataclass(info):
        raise DataError(
            f"dataset {info.name!r} gives images of shape {tuple(info.input_shape)} but "
            f"--input-shape is {(c, h, w)}; pick dataset options that match"
        )
    new_info = dataclasses.replace(
        info, in_channels=c, image_size=h, input_shape=(c, h, w), has_masks=False
    )
    return dataclasses.replace(
        bundle,
        info=new_info,
        train=ResizedImages(bundle.train, (c, h, w)),
        test=ResizedImages(bundle.test, (c, h, w)),
    )


def diagnose(
    model: nn.Module,
    data: Any = "shapes",
    input_shape: Sequence[int] | None = None,
    steps: int = DEFAULT_STEPS,
    device: str = "auto",
    lr: float = DEFAULT_LR,
    root: str | Path | None = None,
    run: str | None = None,
    thresholds: Thresholds | None = None,
    quiet: bool = True,
    *,
    batch_size: int = DEFAULT_BATCH,
    optimizer: str = "sgd",
    seed: int = 0,
    config: Any = None,
    data_options: Mapping[str, Any] | None = None,
    extras: bool = True,
    callbacks: Iterable[Any] = (),
    meta: Mapping[str, Any] | None = None,
) -> Diagnosis:
    """Train ``model`` briefly with every step recorded, then diagnose the stored run.

    ``data``: a dataset name or a ``DataBundle``. ``input_shape`` (C, H, W): checked against
    the model first (one clear ``ModelError`` naming the shape and the layer that rejected
    it), and the image data is built to it (``shapes``: channels/image_size) or resized. ``config`` (a
    ``TrainConfig``) replaces steps/lr/device/batch_size/optimizer/seed. ``extras=False``
    skips the other default probes (saliency, receptive fields...) for speed. The findings
    are stored in the run; ``Diagnosis.run_dir`` says where.
    """
    from inspector.train import TrainConfig, train
    from inspector.train.default_callbacks import default_callbacks
    from inspector.train.diagnosis_callback import DiagnosisCallback

    if not isinstance(model, nn.Module):
        raise ModelError(f"diagnose() needs an nn.Module, got {type(model).__name__}")
    if input_shape is not None and len(input_shape) == 3:  # (C, H, W) image input
        check_input_shape(model, input_shape)
    if config is None:
        config = TrainConfig(
            steps=steps,
            batch_size=batch_size,
            optimizer=optimizer,
            lr=lr,
            device=device,
            seed=seed,
            every=1,
        )
    else:
        config = dataclasses.replace(config, every=1)
    bundle = data
    if isinstance(data, str):
        from inspector.data import load_data

        options = dict(data_options or {})
        if data == "shapes":
            options = shapes_options(input_shape, options)
        bundle = load_data(data, seed=config.seed, **options)
    if input_shape is not None and len(input_shape) == 3 and bundle.info.kind == "image":
        bundle = fit_images(bundle, input_shape)
    checker = DiagnosisCallback(thresholds)
    cbs = [c for c in default_callbacks() if not isinstance(c, DiagnosisCallback)] if extras else []
    model_meta = {
        "name": type(model).__name__,
        "source": "python",
        **dict((meta or {}).get("model", {})),
    }
    result = train(
        model,
        bundle,
        config,
        run=run or f"diagnose-{model_meta['name']}",
        root=root,
        callbacks=[*cbs, *callbacks, checker],
        quiet=quiet,
        meta={**dict(meta or {}), "model": model_meta, "purpose": "diagnose"},
        default_callbacks=False,
    )
    if checker.result is not None:
        return checker.result
    return diagnose_run(str(result.run_dir), thresholds)  # re-raises the rule's error


__all__ = ["DEFAULT_LR", "DEFAULT_STEPS", "diagnose", "diagnose_run"]
