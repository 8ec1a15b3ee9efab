"""Fallback receptive fields from leaf modules in call order (sequential models only).

Used when the tensor-tracking pass cannot run (a model that misbehaves under a
``TorchFunctionMode``). It composes each conv / pool module's window in the order the
modules were called, so branches (residual additions, concatenations) are NOT merged and
functional ops (``F.max_pool2d``) are missed; the record says so in ``warnings``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inspector.probes.rf_rules import Field, as_number, ntuple, spread, window
from inspector.probes.temporary_hooks import TemporaryHooks, leaf_modules

SEQUENTIAL_WARNING = (
    "sequential-only fallback: fields composed in module call order; residual and "
    "concatenated branches are not merged and functional ops are ignored"
)


def _module_window(m: nn.Module, f: Field, x: torch.Tensor, out: torch.Tensor) -> Field | None:
    """The module's window, or None when it leaves the field unchanged."""
    n = len(f.rf)
    if isinstance(
        m, (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd)
    ):
        if isinstance(m, nn.modules.conv._ConvTransposeNd):
            return None
        kernel = ntuple(m.kernel_size, n)
        stride = ntuple(m.stride or m.kernel_size, n)
        dilation = ntuple(getattr(m, "dilation", 1), n)
        padding = m.padding
        if padding == "same":
            padding = tuple(dilation[a] * (kernel[a] - 1) // 2 for a in range(n))
        pad = (0,) * n if padding == "valid" else ntuple(padding, n)
        return window(f, kernel, stride, pad, dilation)
    if isinstance(
        m, (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
    ):
        sizes, outs = tuple(x.shape[2:]), tuple(out.shape[2:])
        if all(o == 1 for o in outs):
            g = spread(f, sizes)
            return Field(g.rf, g.jump, g.start, is_global=True)
        ks = [i // o if o and i % o == 0 else 1 for i, o in zip(sizes, outs, strict=True)]
        return window(f, ks, ks, (0,) * n, (1,) * n)
    return None


def sequential_receptive_field(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """Rows (as in the receptive_field record) for the leaf modules in call order."""
    rows: list[dict] = []
    state: dict[str, Any] = {"field": Field.pixel(x.dim() - 2)}
    names = {m: n for n, m in model.named_modules()}

    def hook(module: nn.Module, inputs: Any, output: Any) -> None:
        f: Field = state["field"]
        inp = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
        if inp is None or not isinstance(output, torch.Tensor):
            return
        if not f.is_global and output.dim() != inp.dim():  # flatten: next mixing layer is global
            g = spread(f, tuple(inp.shape[2:]))
            state["field"] = Field(g.rf, g.jump, g.start, is_global=True)
            return
        new = _module_window(module, f, inp, output)
        if new is not None:
            state["field"] = f = new
        rows.append(
            {
                "name": names.get(module, "?"),
                "type": type(module).__name__,
                "rf": [as_number(v) for v in f.rf],
                "jump": [as_number(v) for v in f.jump],
                "start": [float(as_number(v)) for v in f.start],
                "global": f.is_global,
            }
        )

    with TemporaryHooks().forward(leaf_modules(model), hook), torch.no_grad():
        model(x)
    return rows
