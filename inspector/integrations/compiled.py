"""torch.compile: record the compiled model's own layers, count the graph breaks hooks cause.

Hooks on the modules of a compiled model are traced by dynamo: where it cannot trace them
it breaks the graph and runs the hook eagerly, so the statistics equal the eager model's
(tested). What that costs is visible as graph breaks, counted over the recorded block
(``torch._dynamo.utils.counters["graph_break"]``, which also counts breaks the model's own
code causes) and stored in the run's meta under ``compile``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

from torch import nn

from inspector.errors import InspectorError


def compiled_wrappers(model: nn.Module) -> list[nn.Module]:
    """Every torch.compile wrapper (OptimizedModule) at or below ``model``."""
    from inspector.recorder.selection import COMPILED_ATTR  # lazy: the recorder imports us

    return [
        m
        for m in model.modules()
        if type(m).__name__ == "OptimizedModule"
        and isinstance(getattr(m, COMPILED_ATTR, None), nn.Module)
    ]


def check_compiled(model: nn.Module) -> bool:
    """True when ``model`` (or a submodule) is compiled; refuse ``fullgraph=True`` clearly."""
    wrappers = compiled_wrappers(model)
    for wrapper in wrappers:
        ctx = getattr(wrapper, "dynamo_ctx", None)
        if getattr(ctx, "fullgraph", False):
            raise InspectorError(
                "inspector: this model was compiled with torch.compile(..., fullgraph=True), "
                "but recording hooks break the graph. Compile it without fullgraph=True "
                "(the hooks then run between compiled pieces and record what the eager "
                "model would), or watch the uncompiled model."
            )
    return bool(wrappers)


def _graph_breaks() -> Counter:
    from torch._dynamo.utils import counters

    return Counter(counters["graph_break"])


class GraphBreakCount:
    """Graph breaks between construction and ``finish()`` (the recorded block)."""

    def __init__(self) -> None:
        self._start = _graph_breaks()

    def finish(self, recorded_layers: int, recorded_steps: int) -> dict[str, Any]:
        """The ``compile`` meta entry; warns once when breaks happened or nothing was seen."""
        new = _graph_breaks() - self._start
        total = sum(new.values())
        reasons = {_first_line(r): n for r, n in new.most_common(5)}
        info: dict[str, Any] = {"compiled": True, "graph_breaks": total, "reasons": reasons}
        if recorded_steps and not recorded_layers:
            info["empty"] = True
            warnings.warn(
                "inspector: the compiled model ran but no layer was recorded (its hooks did "
                "not run); watch the uncompiled model instead",
                stacklevel=3,
            )
        elif total:
            top = next(iter(reasons), "")
            warnings.warn(
                f"inspector: torch.compile broke the graph {total} times while recording "
                f"(first reason: {top}); statistics equal the eager model's, the compiled "
                "model ran in more pieces. See the run meta 'compile'.",
                stacklevel=3,
            )
        return info


def _first_line(reason: str) -> str:
    return reason.strip().splitlines()[0][:200] if reason.strip() else "unknown"
