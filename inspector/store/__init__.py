"""The run store: the only contract between the training side and the viewing side."""

from inspector.store.catalog import RunSummary, list_runs, open_run, run_dirs
from inspector.store.paths import runs_root, sanitize_name
from inspector.store.reader import Layer, RunReader, Series
from inspector.store.schema import SCHEMA_VERSION, RunStatus
from inspector.store.writer import RunWriter

__all__ = [
    "Layer",
    "RunReader",
    "RunStatus",
    "RunSummary",
    "RunWriter",
    "SCHEMA_VERSION",
    "Series",
    "list_runs",
    "open_run",
    "run_dirs",
    "runs_root",
    "sanitize_name",
]
