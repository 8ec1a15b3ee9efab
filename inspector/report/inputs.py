"""What a report is about: runs given as paths, ids or readers, and an optional study."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.errors import InspectorError
from inspector.store import RunReader, open_run
from inspector.study.store import Study, load_study

RunRef = str | os.PathLike | RunReader


@dataclass
class ReportInputs:
    """The readers a report draws from; closes the ones it opened itself."""

    readers: list[RunReader]
    study: Study | None = None
    missing: list[str] = field(default_factory=list)  # study cells whose run is gone
    _stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> ReportInputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_study_any(study: Any, root: str | os.PathLike | None = None) -> Study:
    """A Study object as is; an id or a path through ``inspector.study.store.load_study``."""
    if isinstance(study, Study):
        return study
    return load_study(str(study), root)


def open_inputs(
    runs: list[RunRef] | tuple[RunRef, ...] | RunRef | None = None,
    study: Any | None = None,
    root: str | os.PathLike | None = None,
) -> ReportInputs:
    """Resolve runs (ids under ``root``, folders, or open readers) and the study's runs."""
    if runs is None:
        runs = []
    elif isinstance(runs, (str, os.PathLike, RunReader)):
        runs = [runs]
    inputs = ReportInputs(readers=[])
    try:
        for ref in runs:
            if isinstance(ref, RunReader):
                inputs.readers.append(ref)
            else:
                inputs.readers.append(inputs._stack.enter_context(open_run(ref, root)))
        if study is not None:
            inputs.study = load_study_any(study, root)
            if not runs:
                _open_study_runs(inputs, inputs.study, root)
    except BaseException:
        inputs.close()
        raise
    if not inputs.readers and inputs.study is None:
        raise InspectorError(
            "nothing to report: give one or more runs (ids from `inspector ls`, or run "
            "folders) or --study STUDY"
        )
    return inputs


def _open_study_runs(inputs: ReportInputs, study: Study, root: str | os.PathLike | None) -> None:
    """The study's cell runs, in cell order; cells without a readable run are noted."""
    from inspector.errors import StoreError

    root = root if root is not None else _study_runs_root(study)
    for cell in study.cells:
        run_id = cell.get("run_id")
        if not run_id:
            inputs.missing.append(_cell_label(cell))
            continue
        try:
            inputs.readers.append(inputs._stack.enter_context(open_run(run_id, root)))
        except StoreError:
            inputs.missing.append(str(run_id))


def _study_runs_root(study: Study) -> Path | None:
    """``<root>/_studies/<id>/study.json`` -> ``<root>``: a study's runs sit beside it."""
    path = getattr(study, "path", None)
    if not path:
        return None
    path = Path(path)
    folder = path.parent if path.suffix == ".json" else path
    return folder.parent.parent if folder.parent.name == "_studies" else None


def _cell_label(cell: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in (cell.get("config") or {}).items()) or "?"


def run_label(reader: RunReader) -> str:
    """The name a run goes by in tables and legends: its id (unique under a root)."""
    return reader.id
