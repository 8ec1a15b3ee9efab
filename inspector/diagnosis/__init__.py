"""Diagnosis: rules over a stored run that say what is wrong, why, and what to change.

``diagnose_run(reader)`` reads only the run store (no torch), so it works on any recorded
run: from ``inspector.watch``, ``inspector.train`` or the CLI.
"""

from inspector.diagnosis.engine import (
    Diagnosis,
    diagnose_run,
    load_findings,
    store_findings,
)
from inspector.diagnosis.finding import Finding, Severity, View
from inspector.diagnosis.rules import RULES
from inspector.diagnosis.thresholds import Thresholds

__all__ = [
    "RULES",
    "Diagnosis",
    "Finding",
    "Severity",
    "Thresholds",
    "View",
    "diagnose_run",
    "load_findings",
    "store_findings",
]
