"""The module hooks a recorder adds: bound to layer names, idle in copies, removed together.

A hook must never break the user's training, must not follow the model into a deep copy
(EMA weights, captum probes, checkpoints), and must all go when recording ends.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def _idle_hook(*args: object) -> None:
    return None


class _ModuleHook:
    """A hook bound to a layer name; a deep copy of the model gets an idle hook instead.

    ``copy.deepcopy(model)`` (EMA weights, captum probes, checkpoints) copies the hook
    dicts; copying the recorder with them would fail (it owns a SQLite connection) and a
    copy must not record into this run anyway.
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable, name: str) -> None:
        self.fn, self.name = fn, name

    def __call__(self, *args):
        try:
            return self.fn(self.name, *args)
        except Exception as exc:  # recording must never break the user's training
            owner = getattr(self.fn, "__self__", None)
            if owner is not None:
                owner._hook_failed(self.name, exc)
            return None

    def __deepcopy__(self, memo: dict) -> Callable:
        return _idle_hook


class HookSet:
    """The module hooks one recorder registered, so that all of them can be removed at once."""

    def __init__(self) -> None:
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def add_forward(self, module: nn.Module, fn: Callable, name: str) -> None:
        """``fn(name, module, inputs, output)`` after each forward call of ``module``."""
        self._handles.append(module.register_forward_hook(_ModuleHook(fn, name)))

    def add_forward_pre(self, module: nn.Module, fn: Callable, name: str) -> None:
        """``fn(name, module, inputs)`` before each forward call of ``module``."""
        self._handles.append(module.register_forward_pre_hook(_ModuleHook(fn, name)))

    def remove(self) -> None:
        """Remove every hook registered here (idempotent)."""
        while self._handles:
            self._handles.pop().remove()

    def __len__(self) -> int:
        return len(self._handles)
