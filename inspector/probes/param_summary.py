"""Parameter and shape table: per-layer rows and totals that count every tensor once.

torchinfo serves for multiply-adds, but its totals add a tied tensor once per owner (an
embedding tied to the output layer is counted twice), so totals here are computed by tensor
identity; torchinfo's own total is kept as ``torchinfo_params`` to show the difference.
The result is the ``architecture``/``table`` record (docs/RECORDS.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from inspector.probes.temporary_hooks import TemporaryHooks


def _first_tensor(obj: Any) -> torch.Tensor | None:
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (list, tuple)):
        for item in obj:
            t = _first_tensor(item)
            if t is not None:
                return t
    if isinstance(obj, dict):
        return _first_tensor(list(obj.values()))
    return None


def _one_example(example_input: Any) -> Any:
    """The first example of a batch (tensor or tuple of tensors), batch dim kept."""
    if isinstance(example_input, torch.Tensor):
        return example_input[:1]
    return type(example_input)(_one_example(x) for x in example_input)


def _is_leaf(m: nn.Module) -> bool:
    return not any(True for _ in m.children())


def _own_mult_adds(module: nn.Module, out: torch.Tensor) -> int | None:
    """Per-example mult-adds where torchinfo is wrong or absent (Linear on sequences, convs)."""
    numel = sum(p.numel() for p in module.parameters(recurse=False))
    if isinstance(module, nn.Linear):
        return numel * math.prod(out.shape[1:-1])
    if isinstance(module, nn.modules.conv._ConvNd):
        return numel * math.prod(out.shape[2:])
    return None


def _torchinfo_stats(model: nn.Module, x: Any) -> tuple[int | None, dict[int, int], str | None]:
    """(torchinfo's total params, mult-adds per leaf module id summed over calls, error)."""
    try:
        import torchinfo

        stats = torchinfo.summary(
            model,
            input_data=[x] if isinstance(x, torch.Tensor) else x,
            verbose=0,
            mode="eval",
            depth=100,
        )
    except Exception as exc:  # torchinfo cannot run every model; the table still can
        return None, {}, f"torchinfo failed: {type(exc).__name__}: {exc}"
    macs: dict[int, int] = {}
    for info in stats.summary_list:
        if info.is_leaf_layer:
            macs[id(info.module)] = macs.get(id(info.module), 0) + int(info.macs)
    return int(stats.total_params), macs, None


class _CallLog:
    """Forward hooks: call order, call count, first output shape, own mult-adds."""

    def __init__(self, model: nn.Module) -> None:
        self.order: list[nn.Module] = []
        self.calls: dict[nn.Module, int] = {}
        self.shapes: dict[nn.Module, list[int]] = {}
        self.macs: dict[nn.Module, int] = {}
        self.hooks = TemporaryHooks().forward(model.modules(), self._hook)

    def _hook(self, module: nn.Module, _inputs: Any, output: Any) -> None:
        if module not in self.calls:
            self.order.append(module)
            self.calls[module] = 0
        self.calls[module] += 1
        out = _first_tensor(output)
        if out is None:
            return
        self.shapes.setdefault(module, [int(s) for s in out.shape[1:]])
        own = _own_mult_adds(module, out)
        if own is not None:
            self.macs[module] = self.macs.get(module, 0) + own

    def remove(self) -> None:
        self.hooks.remove()


def _named_owners(model: nn.Module) -> Iterator[tuple[str, nn.Module, str, nn.Parameter]]:
    """(module name, module, qualified param name, tensor) for every registration."""
    for mname, module in model.named_modules(remove_duplicate=False):
        for pname, p in module.named_parameters(recurse=False):
            yield mname, module, f"{mname}.{pname}" if mname else pname, p


def param_summary(model: nn.Module, example_input: Any, use_torchinfo: bool = True) -> dict:
    """The architecture table of ``model`` run (eval mode, no grad) on ``example_input``.

    ``example_input`` is a batch (image or token tensor, or a tuple of them); only its first
    example is used, so shapes and mult-adds are per example. The model's mode is restored.
    """
    x = _one_example(example_input)
    was_training = model.training
    log = _CallLog(model)
    try:
        model.eval()
        with torch.no_grad():
            model(*x) if isinstance(x, (tuple, list)) else model(x)
    finally:
        log.remove()
        model.train(was_training)
    ti_params, ti_macs, ti_error = (
        _torchinfo_stats(model, x) if use_torchinfo else (None, {}, "torchinfo not used")
    )

    first_name = {m: n for n, m in model.named_modules()}
    aliases: dict[nn.Module, list[str]] = {}
    for n, m in model.named_modules(remove_duplicate=False):
        aliases.setdefault(m, []).append(n)
    owners: dict[int, list[tuple[nn.Module, str]]] = {}  # tensor id -> (module, qual name)
    tensors: dict[int, nn.Parameter] = {}
    for _mname, module, qual, p in _named_owners(model):
        tensors[id(p)] = p
        if all(m is not module for m, _ in owners.get(id(p), [])):
            owners.setdefault(id(p), []).append((module, qual))

    has_params = [m for m in first_name if any(True for _ in m.parameters(recurse=False))]
    candidates = [
        m for m in log.order if (_is_leaf(m) and len(log.shapes.get(m, [])) >= 1) or m in has_params
    ]
    candidates += [m for m in has_params if m not in log.calls]  # never called: listed last
    position = {m: i for i, m in enumerate(candidates)}

    counted: set[int] = set()
    rows = []
    for m in candidates:
        own = list(m.parameters(recurse=False))
        first_owner = [
            p
            for p in own
            if min((position.get(o, math.inf) for o, _ in owners[id(p)]), default=math.inf)
            == position[m]
            and id(p) not in counted
        ]
        counted.update(id(p) for p in first_owner)
        trainable = sum(p.numel() for p in first_owner if p.requires_grad)
        params = sum(p.numel() for p in first_owner)
        tied_with = sorted({q for p in own for o, q in owners[id(p)] if o is not m})
        macs = log.macs.get(m, ti_macs.get(id(m), 0) if _is_leaf(m) else 0)
        calls = log.calls.get(m, 0)
        rows.append(
            {
                "name": first_name[m],
                "type": type(m).__name__,
                "output_shape": log.shapes.get(m),
                "params": params,
                "trainable": trainable,
                "frozen": params - trainable,
                "mult_adds": int(macs),
                "shared": calls > 1 or len(aliases[m]) > 1,
                "calls": calls,
                "tied_with": tied_with,
            }
        )

    unique = list(tensors.values())
    total = sum(p.numel() for p in unique)
    trainable_total = sum(p.numel() for p in unique if p.requires_grad)
    shared = [
        {"name": first_name[m], "aliases": aliases[m][1:], "calls": log.calls.get(m, 0)}
        for m in first_name
        if log.calls.get(m, 0) > 1 or len(aliases[m]) > 1
    ]
    tied = [
        {"params": [q for _, q in owners[i]], "numel": tensors[i].numel()}
        for i in owners
        if len(owners[i]) > 1
    ]
    record = {
        "input_shape": [int(s) for s in _first_tensor(x).shape[1:]],
        "rows": rows,
        "totals": {
            "params": total,
            "trainable": trainable_total,
            "frozen": total - trainable_total,
            "mult_adds": sum(r["mult_adds"] for r in rows),
            "torchinfo_params": ti_params,
            "shared_modules": shared,
            "tied_params": tied,
        },
    }
    if ti_error:
        record["totals"]["torchinfo_error"] = ti_error
    return record
