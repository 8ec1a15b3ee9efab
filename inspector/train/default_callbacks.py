"""The callbacks every harness run gets: what a user expects recorded without asking."""

from __future__ import annotations

from inspector.train.architecture_callback import ArchitectureCallback
from inspector.train.callbacks import Callback
from inspector.train.snapshots import KernelSnapshots


def default_callbacks() -> list[Callback]:
    return [ArchitectureCallback(), KernelSnapshots()]
