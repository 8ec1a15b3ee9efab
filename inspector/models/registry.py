"""The model registry: names -> builders, with where each architecture comes from.

Every entry records the chapter and figure/listing it follows (``source``) and how it
deviates (``notes``), so a user comparing runs knows exactly which network they trained.
``create_model`` merges the entry's canonical keyword arguments (the chapter's own
configuration) with the caller's, checks the names against the builder's signature and
turns every build failure a user can fix into a ``ModelError``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from torch import nn

from inspector.errors import ModelError


class InputKind(StrEnum):
    IMAGE = "image"
    SEQUENCE = "sequence"


IMAGE_SHAPE_KWARGS = ("in_channels", "num_classes", "image_size")
SEQUENCE_SHAPE_KWARGS = ("vocab_size", "seq_len", "num_classes")


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry.

    ``canonical`` is the configuration the chapter describes (shape and own kwargs); it is
    also the default, so ``create_model(name)`` builds exactly the chapter's network.
    ``light`` overrides give a CPU-cheap variant with the same block structure (used by the
    test-suite and handy for quick CPU demos); empty when the canonical model is cheap.
    """

    name: str
    builder: Callable[..., nn.Module]
    input_kind: InputKind
    source: str
    notes: str
    family: str
    canonical: dict[str, Any] = field(default_factory=dict)
    light: dict[str, Any] = field(default_factory=dict)

    def accepted_kwargs(self) -> list[str]:
        params = inspect.signature(self.builder).parameters
        return [
            p
            for p in params
            if params[p].kind is inspect.Parameter.KEYWORD_ONLY
            or params[p].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]

    def shape_kwargs(self) -> tuple[str, ...]:
        if self.input_kind is InputKind.SEQUENCE:
            return SEQUENCE_SHAPE_KWARGS
        return IMAGE_SHAPE_KWARGS

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (for run metadata, reports and `--help` listings)."""
        return {
            "name": self.name,
            "input_kind": str(self.input_kind),
            "source": self.source,
            "notes": self.notes,
            "family": self.family,
            "canonical": dict(self.canonical),
            "light": dict(self.light),
            "kwargs": self.accepted_kwargs(),
        }


_REGISTRY: dict[str, ModelSpec] = {}


_CATALOG_LOADED = False


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec``; the built-in catalogue is loaded first, so a user's entry can neither
    hide the built-in models nor silently replace one of them."""
    _ensure_loaded()
    return _add(spec)


def _add(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"model {spec.name!r} registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def _ensure_loaded() -> None:
    """Load the built-in catalogue once, whatever was registered before."""
    global _CATALOG_LOADED
    if _CATALOG_LOADED:
        return
    _CATALOG_LOADED = True
    from inspector.models import catalog

    for spec in catalog.ENTRIES:
        if _REGISTRY.get(spec.name) is not spec:
            _add(spec)


def list_models() -> list[str]:
    """Registry names, sorted (``tv:<name>`` torchvision models are not listed here)."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def _unknown(name: str) -> ModelError:
    names = list_models()
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
    rest = [n for n in names if n not in close]
    hint = f"closest: {', '.join(close)}; " if close else ""
    return ModelError(
        f"unknown model {name!r}; {hint}all models: {', '.join(rest)}; "
        "or tv:<torchvision name> (e.g. tv:resnet18), path/file.py:factory, package.module:factory"
    )


def get_spec(name: str) -> ModelSpec:
    """The entry for ``name`` (``tv:<name>`` gives a synthesized torchvision entry)."""
    if name.startswith("tv:"):
        from inspector.models.torchvision_models import tv_spec

        return tv_spec(name[3:])
    _ensure_loaded()
    if name not in _REGISTRY:
        raise _unknown(name)
    return _REGISTRY[name]


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build registry model ``name``; ``kwargs`` override the chapter's configuration."""
    if name.startswith("tv:"):
        from inspector.models.torchvision_models import create_tv_model

        return create_tv_model(name[3:], **kwargs)
    spec = get_spec(name)
    accepted = spec.accepted_kwargs()
    unknown = sorted(k for k in kwargs if k not in accepted)
    if unknown:
        raise ModelError(
            f"model {name!r} does not take {', '.join(unknown)}; it accepts "
            f"{', '.join(accepted)} ({spec.input_kind} model)"
        )
    merged = {**spec.canonical, **kwargs}
    try:
        return spec.builder(**merged)
    except ModelError:
        raise
    except (ValueError, TypeError) as exc:
        raise ModelError(f"cannot build model {name!r} with {merged}: {exc}") from exc
