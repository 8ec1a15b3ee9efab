"""Hooks that record a model while it trains."""

from inspector.recorder.recorder import Recorder
from inspector.recorder.schedule import AtSteps, Every, OverheadBudget, parse_schedule
from inspector.recorder.selection import ModuleSelection
from inspector.recorder.watch import watch

__all__ = [
    "AtSteps",
    "Every",
    "ModuleSelection",
    "OverheadBudget",
    "Recorder",
    "parse_schedule",
    "watch",
]
