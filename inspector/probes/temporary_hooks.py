"""Hooks that live for one probe call: registered together, removed together in ``finally``.

Every one-off probe (parameter table, receptive field, ERF, saliency, trust check, forward
check) needs a few hooks for a single forward pass. ``TemporaryHooks`` is the one place that
keeps their handles and removes all of them when the block ends, also when the model raises
or a hook raises on purpose to stop the forward early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType

from torch import nn
from torch.utils.hooks import RemovableHandle


class TemporaryHooks:
    """``with TemporaryHooks() as hooks: hooks.forward(modules, fn); model(x)``."""

    def __init__(self) -> None:
        self._handles: list[RemovableHandle] = []

    def forward(
        self, modules: Iterable[nn.Module], fn: Callable, *, always_call: bool = False
    ) -> TemporaryHooks:
        """A forward hook ``fn(module, inputs, output)`` on each of ``modules``."""
        for module in modules:
            self._handles.append(module.register_forward_hook(fn, always_call=always_call))
        return self

    def pre(self, modules: Iterable[nn.Module], fn: Callable) -> TemporaryHooks:
        """A forward pre-hook ``fn(module, inputs)`` on each of ``modules``."""
        for module in modules:
            self._handles.append(module.register_forward_pre_hook(fn))
        return self

    def remove(self) -> None:
        while self._handles:
            self._handles.pop().remove()

    def __len__(self) -> int:
        return len(self._handles)

    def __enter__(self) -> TemporaryHooks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()


def leaf_modules(model: nn.Module) -> list[nn.Module]:
    """Modules without children (the layers a forward pass actually computes with)."""
    return [m for m in model.modules() if not any(True for _ in m.children())]
