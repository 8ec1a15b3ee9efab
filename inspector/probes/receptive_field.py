"""Exact theoretical receptive field (size, jump, first-unit centre) of every spatial layer.

Why not a layer list or an fx trace: "walk the children in order" calculators get residual
branches, concatenations and functional pools wrong, and torch.fx cannot trace a forward
that branches on tensor values or shapes. We run one real forward pass on an example input under a
``TorchFunctionMode``: every tensor carries its ``Field`` and each torch op maps its inputs'
fields to its output's (rules in ``probes.rf_rules``). Leaf modules become rows under their
names; conv/pool ops called from a parent's ``forward`` (``F.max_pool2d(x, 2)``) become rows
named ``<parent>.<op>``. Upsampling and token mixing are marked unknown, with a reason.
If a model cannot run under the mode, ``probes.rf_sequential`` composes leaf modules in call
order instead (sequential-only; the record says so in ``warnings``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from inspector.probes.rf_rules import (
    ADAPTIVE_OPS,
    AVG_POOL_OPS,
    CONV_OPS,
    LINEAR_OPS,
    LP_POOL_OPS,
    MAX_POOL_OPS,
    MIXING_OPS,
    REDUCE_OPS,
    RESHAPE_OPS,
    SPATIAL_OPS,
    UNTRACKED_OPS,
    Field,
    Tracked,
    Unknown,
    adaptive_op,
    as_number,
    dim_hits_spatial,
    pad_op,
    reduce_op,
    slice_op,
    spread,
    union,
    window_op,
)
from inspector.probes.rf_sequential import SEQUENTIAL_WARNING, sequential_receptive_field
from inspector.probes.temporary_hooks import TemporaryHooks

WINDOW_OPS = CONV_OPS | MAX_POOL_OPS | AVG_POOL_OPS | LP_POOL_OPS


def _tensors(obj: Any) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


def _op_name(func: Any) -> str:
    name = getattr(func, "__name__", None) or str(func)
    if name == "__get__":  # property access such as Tensor.shape
        return "__get__"
    return name.lstrip("_") if not name.startswith("__") else name


class _FieldTracker(TorchFunctionMode):
    """Carries a Field alongside every tensor of one forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[int, tuple[torch.Tensor, Tracked]] = {}  # id -> (tensor kept alive)
        self.stack: list[tuple[str, bool]] = []  # (module name, is leaf) being executed
        self.rows: list[dict] = []
        self.warnings: list[str] = []
        self._op_counts: dict[str, int] = {}

    def get(self, t: torch.Tensor) -> Tracked | None:
        entry = self.fields.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None

    def set(self, obj: Any, f: Tracked) -> None:
        for t in _tensors(obj):
            self.fields[id(t)] = (t, f)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = _op_name(func)
        if name in ("__get__", "size", "dim", "numel", "stride", "is_contiguous"):
            return out
        inputs = [(t, f) for t in _tensors((args, kwargs)) if (f := self.get(t)) is not None]
        if not inputs or not any(True for _ in _tensors(out)):
            return out
        where = self._where(name)
        try:
            field = self._rule(name, args, kwargs, inputs, out, where)
        except Exception as exc:  # a rule must never break the user's forward pass
            field = Unknown(f"{where}: {type(exc).__name__}: {exc}")
        if field is None:
            return out
        self.set(out, field)
        if self.stack and not self.stack[-1][1] and self._is_row_op(name, field, inputs):
            self._op_counts[where] = self._op_counts.get(where, 0) + 1
            count = self._op_counts[where]
            self.add_row(where if count == 1 else f"{where}_{count - 1}", name, field)
        return out

    def _where(self, op: str) -> str:
        parent = self.stack[-1][0] if self.stack else ""
        return f"{parent}.{op}" if parent else op

    @staticmethod
    def _is_row_op(name: str, field: Tracked, inputs: list) -> bool:
        if name in SPATIAL_OPS or name in UNTRACKED_OPS:
            return True
        was_global = any(isinstance(f, Field) and f.is_global for _, f in inputs)
        return isinstance(field, Field) and field.is_global and not was_global

    def _rule(self, name: str, args, kwargs, inputs, out, where: str) -> Tracked | None:
        x, f = inputs[0]
        fields = [g for _, g in inputs]
        if any(isinstance(g, Unknown) for g in fields):
            return next(g for g in fields if isinstance(g, Unknown))
        if name in UNTRACKED_OPS:
            return Unknown(f"{where}: {name} is not tracked (upsampling / unfolding)")
        if any(g.is_global for g in fields):
            return union(fields, where, self.warnings)
        if f.flat:
            if name in LINEAR_OPS:
                if isinstance(out, torch.Tensor) and out.dim() == 2:
                    return Field(f.rf, f.jump, f.start, is_global=True, flat=True)
                return Unknown(f"{where}: {name} over merged spatial positions (token mixing)")
            return union(fields, where, self.warnings)
        if name in WINDOW_OPS:
            return window_op(name, args, kwargs, f)
        if name in ADAPTIVE_OPS:
            return adaptive_op(args, kwargs, x, f, where)
        if name == "pad":
            return pad_op(args, kwargs, f, where)
        if name == "__getitem__":
            return slice_op(args, x, out, f, where)
        if name in REDUCE_OPS:
            reduced = reduce_op(args, kwargs, x, f, out, where)
            if reduced is not None:
                return reduced
        if name in LINEAR_OPS:
            return Unknown(f"{where}: {name} over a spatial axis")
        if name in MIXING_OPS and dim_hits_spatial(args, kwargs, x, f):
            return Unknown(f"{where}: {name} mixes units along a spatial axis")
        first_out = next(_tensors(out))
        n_axes = len(f.rf)
        if first_out.dim() == x.dim() and first_out.shape[2:] == x.shape[2:]:
            return union(fields, where, self.warnings)
        if name in RESHAPE_OPS and first_out.dim() >= 1 and first_out.shape[0] == x.shape[0]:
            if first_out.dim() < x.dim() and first_out.shape[2:] != x.shape[2 : 2 + n_axes]:
                merged = spread(f, tuple(x.shape[2 : 2 + n_axes]))
                return Field(merged.rf, merged.jump, merged.start, flat=True)
        return Unknown(
            f"{where}: {name} changes the spatial layout "
            f"{tuple(x.shape)} -> {tuple(first_out.shape)}"
        )

    def add_row(self, name: str, type_name: str, f: Tracked) -> None:
        if isinstance(f, Unknown):
            row = {
                "name": name,
                "type": type_name,
                "rf": None,
                "jump": None,
                "start": None,
                "global": False,
                "note": f.reason,
            }
        else:
            row = {
                "name": name,
                "type": type_name,
                "rf": [as_number(v) for v in f.rf],
                "jump": [as_number(v) for v in f.jump],
                "start": [float(as_number(v)) for v in f.start],
                "global": f.is_global,
            }
        self.rows.append(row)


def receptive_field(model: nn.Module, example_input: torch.Tensor) -> dict:
    """The ``receptive_field``/``layers`` record for ``model`` on an (N, C, *spatial) input.

    Runs one eval-mode, no-grad forward pass on the first example of ``example_input`` and
    restores the model's mode. Inputs without spatial axes (token ids) give no layers.
    """
    x = example_input[:1]
    record: dict[str, Any] = {
        "input_size": [int(s) for s in x.shape[2:]],
        "layers": [],
        "method": "torch_function",
        "warnings": [],
    }
    if x.dim() < 3 or not x.is_floating_point():
        record["input_size"] = [int(s) for s in x.shape[1:]]
        record["warnings"].append(
            "input has no spatial axes (N, C, H, W expected): no receptive field"
        )
        return record
    tracker = _FieldTracker()
    names = {m: n for n, m in model.named_modules()}
    calls: dict[str, int] = {}

    def pre_hook(module: nn.Module, _inputs: Any) -> None:
        tracker.stack.append((names.get(module, "?"), not any(True for _ in module.children())))

    def post_hook(module: nn.Module, inputs: Any, output: Any) -> None:
        name, leaf = tracker.stack.pop() if tracker.stack else ("?", True)
        if not leaf:
            return
        out = next(_tensors(output), None)
        if out is None:
            return
        f = tracker.get(out)
        had_field = any(tracker.get(t) is not None for t in _tensors(inputs))
        if f is None and had_field:
            f = Unknown(f"{name}: output of {type(module).__name__} could not be tracked")
            tracker.set(output, f)
        if f is None or (isinstance(f, Field) and f.flat and not f.is_global):
            return
        calls[name] = calls.get(name, 0) + 1
        row_name = name if calls[name] == 1 else f"{name}:call{calls[name]}"
        tracker.add_row(row_name, type(module).__name__, f)

    hooks = TemporaryHooks().pre(model.modules(), pre_hook)
    hooks.forward(model.modules(), post_hook, always_call=True)
    was_training = model.training
    failure: Exception | None = None
    try:
        model.eval()
        try:
            with torch.no_grad(), tracker:
                tracker.set(x, Field.pixel(x.dim() - 2))
                model(x)
        except Exception as exc:  # retried below without the tracker
            failure = exc
        finally:
            hooks.remove()
        if failure is not None:
            # raises the model's own error if it also fails without the tracker
            record["layers"] = sequential_receptive_field(model, x)
            record["method"] = "sequential"
            record["warnings"] = [
                SEQUENTIAL_WARNING,
                f"tensor tracking failed: {type(failure).__name__}: {failure}",
            ]
            return record
    finally:
        model.train(was_training)
    record["layers"] = tracker.rows
    unknown = [r for r in tracker.rows if r["rf"] is None]
    if unknown:
        tracker.warnings.append(f"field unknown from {unknown[0]['name']} on: {unknown[0]['note']}")
    record["warnings"] = tracker.warnings
    return record


def max_receptive_field(record: dict | None) -> int | float | None:
    """Largest receptive-field size (px, max over axes) among the non-global layers."""
    sizes = [
        max(r["rf"])
        for r in (record or {}).get("layers", [])
        if r.get("rf") and not r.get("global")
    ]
    return max(sizes) if sizes else None


def layer_field(record: dict | None, name: str) -> dict | None:
    """The row of layer ``name`` in a receptive-field record (None if absent)."""
    return next((r for r in (record or {}).get("layers", []) if r["name"] == name), None)
