"""Build the model a command names, fitted to the data it will see.

Registry names (``models.list_models()``, ``tv:<name>``) get the data's shape arguments
(channels, classes, image size or vocabulary); user targets (``path/file.py:factory``,
``package.module:factory``) get only the user's ``--model-arg`` values.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from inspector.errors import InspectorError, ModelError
from inspector.validation import MAX_DEPTH


def is_registry_name(target: str) -> bool:
    from inspector.models import list_models

    return target.startswith("tv:") or target in list_models()


def build_model(
    target: str, data_info: Any, model_args: dict | None = None
) -> tuple[nn.Module, dict]:
    """(model, metadata to rerun it) for ``target`` on data described by ``data_info``."""
    model_args = dict(model_args or {})
    if is_registry_name(target):
        from inspector.models import create_model, get_spec

        if not target.startswith("tv:"):
            kind = get_spec(target).input_kind
            if kind != data_info.kind:
                raise ModelError(
                    f"model {target!r} takes {kind} input but dataset {data_info.name!r} gives "
                    f"{data_info.kind} input; pick a matching --data or model"
                )
        kwargs = {**data_info.model_kwargs(), **model_args}
        depth = kwargs.get("depth")
        if isinstance(depth, int) and not isinstance(depth, bool) and depth > MAX_DEPTH:
            raise ModelError(f"depth={depth} is more layers than Inspector builds (<= {MAX_DEPTH})")
        try:
            model = create_model(target, **kwargs)
        except InspectorError:
            raise
        except Exception as exc:  # e.g. a negative size or a model too large for memory
            raise ModelError(_build_failed(target, kwargs, exc)) from None
        meta = {"name": target, "kwargs": kwargs, "source": "registry"}
    elif ":" not in target and not target.endswith(".py"):
        from inspector.models import get_spec

        get_spec(target)  # neither a registry name nor a user target: raises, listing close names
    else:
        from inspector.model_loader import load_model

        model = load_model(target, **model_args)
        meta = {"name": target, "kwargs": model_args, "source": "target"}
    if not isinstance(model, nn.Module):
        raise ModelError(f"{target!r} did not produce an nn.Module (got {type(model).__name__})")
    return model, meta


def _build_failed(target: str, kwargs: dict, exc: BaseException) -> str:
    """One line for a registry model whose constructor raised (bad keyword, size, memory)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if isinstance(exc, MemoryError) or "allocate" in text:
        return (
            f"model {target}({args}) does not fit in memory ({text}); "
            "use a smaller --input-shape, width or depth"
        )
    hint = " (check the --model-arg names and values)" if isinstance(exc, TypeError) else ""
    return f"building {target}({args}) failed: {type(exc).__name__}: {text}{hint}"
