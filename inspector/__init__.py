"""Inspector: see inside a PyTorch network while it learns."""

from inspector.errors import InspectorError
from inspector.recorder import Every, ModuleSelection, OverheadBudget, Recorder, watch
from inspector.store import RunReader, list_runs, open_run

__version__ = "0.1.0"

__all__ = [
    "Every",
    "InspectorError",
    "ModuleSelection",
    "OverheadBudget",
    "Recorder",
    "RunReader",
    "list_runs",
    "open_run",
    "watch",
]
