"""Which modules the recorder hooks: leaves by default, filtered by type or name pattern."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import torch
from torch import nn

# Leaves whose output duplicates their input's statistics; skipped unless asked for.
PASS_THROUGH: tuple[type[nn.Module], ...] = (
    nn.Identity,
    nn.Flatten,
    nn.Unflatten,
    nn.Dropout,
    nn.Dropout1d,
    nn.Dropout2d,
    nn.Dropout3d,
    nn.AlphaDropout,
)


@dataclass(frozen=True)
class ModuleSelection:
    """Leaf modules to record.

    ``types``: class names or classes to keep (default: every leaf but pass-throughs);
    ``include`` / ``exclude``: fnmatch patterns on the module path (e.g. ``"layer4.*"``).
    """

    types: tuple[str | type, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def wants(self, name: str, module: nn.Module) -> bool:
        if any(True for _ in module.children()) or not name:
            return False
        if self.types:
            if not any(
                (isinstance(module, t) if isinstance(t, type) else type(module).__name__ == t)
                for t in self.types
            ):
                return False
        elif isinstance(module, PASS_THROUGH):
            return False
        if self.include and not any(fnmatch.fnmatchcase(name, p) for p in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in self.exclude)


def first_tensor(value):
    """The first tensor in a module output (tuple outputs such as LSTM's take element 0)."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = first_tensor(item)
            if found is not None:
                return found
    if isinstance(value, dict):
        for item in value.values():
            found = first_tensor(item)
            if found is not None:
                return found
    data = getattr(value, "data", None)  # PackedSequence
    return data if isinstance(data, torch.Tensor) else None


# Attribute names under which wrappers keep the user's model: DistributedDataParallel and
# DataParallel use ``module``, torch.compile's OptimizedModule uses ``_orig_mod``.
DATA_PARALLEL_ATTR = "module"
COMPILED_ATTR = "_orig_mod"


def strip_wrapper_prefix(name: str, *, data_parallel: bool = True) -> str:
    """A module/parameter path as the user wrote it, without the wrappers' segments.

    Drops every ``_orig_mod`` segment (torch.compile, also on a compiled submodule:
    ``layer1._orig_mod.conv`` -> ``layer1.conv``) and, when ``data_parallel``, the leading
    ``module.`` segments that DDP/DataParallel add (``module.fc.weight`` -> ``fc.weight``).
    Pass ``data_parallel=False`` for a model that is not wrapped, whose own first child
    may really be called ``module``.
    """
    parts = [p for p in name.split(".") if p != COMPILED_ATTR]
    if data_parallel:
        while len(parts) > 1 and parts[0] == DATA_PARALLEL_ATTR:
            parts = parts[1:]
        if parts == [DATA_PARALLEL_ATTR]:
            parts = []
    return ".".join(parts)


def unwrap_model(model: nn.Module) -> nn.Module:
    """The user's model inside DDP / DataParallel / torch.compile wrappers (any nesting).

    Hooks on the inner modules fire when the wrapper runs them, and the inner model's
    ``named_modules()`` gives names without ``module.`` / ``_orig_mod.``.
    """
    from torch.nn.parallel import DataParallel, DistributedDataParallel

    while True:
        if isinstance(model, (DistributedDataParallel, DataParallel)):
            model = model.module
        elif _is_compiled(model):
            model = getattr(model, COMPILED_ATTR)
        else:
            return model


def _is_compiled(model: nn.Module) -> bool:
    """A torch.compile wrapper (``OptimizedModule``), detected without importing dynamo."""
    return type(model).__name__ == "OptimizedModule" and isinstance(
        getattr(model, COMPILED_ATTR, None), nn.Module
    )
