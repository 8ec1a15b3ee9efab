"""Which modules the recorder hooks: leaves by default, filtered by type or name pattern."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

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
    import torch

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
