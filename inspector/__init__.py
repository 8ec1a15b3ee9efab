"""Inspector: see inside a PyTorch network while it learns.

Attributes are resolved lazily (PEP 562) so the viewing side (store reader, figures,
dashboard, reports) never imports torch: ``import inspector.store`` stays light, while
``inspector.watch`` / ``inspector.fit`` load the recorder and the training harness on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str]] = {
    "InspectorError": ("inspector.errors", "InspectorError"),
    "watch": ("inspector.recorder", "watch"),
    "Recorder": ("inspector.recorder", "Recorder"),
    "Every": ("inspector.recorder", "Every"),
    "OverheadBudget": ("inspector.recorder", "OverheadBudget"),
    "ModuleSelection": ("inspector.recorder", "ModuleSelection"),
    "RunReader": ("inspector.store", "RunReader"),
    "list_runs": ("inspector.store", "list_runs"),
    "open_run": ("inspector.store", "open_run"),
    "fit": ("inspector.train.loop", "train"),
    "TrainConfig": ("inspector.train.config", "TrainConfig"),
    "load_data": ("inspector.data", "load_data"),
    "diagnose": ("inspector.diagnose_api", "diagnose"),
    "diagnose_run": ("inspector.diagnose_api", "diagnose_run"),
    "explain": ("inspector.saliency_api", "explain"),
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from inspector.errors import InspectorError  # noqa: F401
    from inspector.recorder import Every, ModuleSelection, OverheadBudget, Recorder, watch  # noqa: F401
    from inspector.store import RunReader, list_runs, open_run  # noqa: F401
    from inspector.train.config import TrainConfig  # noqa: F401
    from inspector.train.loop import train as fit  # noqa: F401


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'inspector' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
