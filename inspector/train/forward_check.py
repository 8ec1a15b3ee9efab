"""Run one forward pass on a real batch before training, and explain a failure.

A model that rejects the data's input shape should fail with one clear message naming the
shape tried and the layer that failed, not a traceback from deep inside the loop.
"""

from __future__ import annotations

import torch
from torch import nn

from inspector.errors import ModelError
from inspector.probes.temporary_hooks import TemporaryHooks, leaf_modules


def check_forward(model: nn.Module, x: torch.Tensor) -> None:
    """Forward ``x`` through ``model`` (no grad, eval-free); raise ModelError on failure."""
    entered: list[str] = []
    names = {m: n for n, m in model.named_modules()}
    hooks = TemporaryHooks().pre(
        leaf_modules(model), lambda mod, _inp: entered.append(names.get(mod, "?"))
    )
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            out = model(x)
    except Exception as exc:
        layer = entered[-1] if entered else "(before the first layer)"
        layer_type = type(dict(model.named_modules()).get(layer, model)).__name__
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"the model rejected input of shape {tuple(x.shape)} (batch first) at layer "
            f"'{layer}' ({layer_type}): {msg}. Check --input-shape / the dataset's image size "
            "and channels."
        ) from None
    finally:
        hooks.remove()
        model.train(was_training)
    logits = out[0] if isinstance(out, (tuple, list)) else out
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ModelError(
            f"the model must return class logits of shape (batch, classes); got {shape} for "
            f"input {tuple(x.shape)}"
        )
