"""The callbacks every harness run gets: what a user expects recorded without asking.

Order matters only for cost accounting: all of them run with the recorder paused, so none
of their forward/backward passes leak into the training statistics.
"""

from __future__ import annotations

from inspector.train.architecture_callback import ArchitectureCallback
from inspector.train.callbacks import Callback
from inspector.train.diagnosis_callback import DiagnosisCallback
from inspector.train.erf_callback import ERFCallback
from inspector.train.saliency_callback import SaliencyCallback
from inspector.train.snapshots import KernelSnapshots


def default_callbacks(probes: bool = True) -> list[Callback]:
    """Architecture, kernels and diagnosis always; ERF and saliency (a few seconds) when ``probes``."""
    callbacks: list[Callback] = [ArchitectureCallback(), KernelSnapshots()]
    if probes:
        callbacks += [ERFCallback(), SaliencyCallback()]
    return [*callbacks, DiagnosisCallback()]
