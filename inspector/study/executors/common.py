"""What every executor shares: one attempt at a cell, the retry rule, progress reporting.

An attempt runs the cell's training with a progress callback and first removes what an
earlier, killed attempt of the same cell left behind (its half-written run folder), so a
retry neither duplicates the run nor gets a ``-2`` suffix.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from inspector.errors import StoreError
from inspector.store import RunReader, RunStatus, sanitize_name
from inspector.store.schema import ARTIFACTS_DIR, DB_NAME
from inspector.study.cell import CellResult, CellTask, run_cell
from inspector.study.metrics import run_metrics
from inspector.study.store import CellStatus
from inspector.train.callbacks import Callback, TrainContext

MAX_ATTEMPTS = 2  # a failed cell is retried once, then marked failed
REPORT_INTERVAL_S = 0.5  # progress messages per running cell at most this often

Report = Callable[[str, int], None]  # (run name, steps done)


class StudyEvents(Protocol):
    """What an executor tells the runner (which owns the study record and the bar)."""

    def started(self, task: CellTask, attempt: int) -> None: ...
    def progress(self, run_name: str, steps_done: int) -> None: ...
    def retrying(self, task: CellTask, result: CellResult) -> None: ...
    def finished(self, task: CellTask, result: CellResult) -> None: ...


class ProgressCallback(Callback):
    """Sends (run name, steps done) to ``report``, throttled so a fast loop stays fast."""

    def __init__(self, run_name: str, report: Report) -> None:
        self.run_name, self.report, self._last = run_name, report, 0.0

    def on_train_batch_end(self, ctx: TrainContext, loss) -> None:
        now = time.monotonic()
        if now - self._last >= REPORT_INTERVAL_S:
            self._last = now
            self.report(self.run_name, ctx.step + 1)

    def on_fit_end(self, ctx: TrainContext) -> None:
        self.report(self.run_name, ctx.total_steps)


def clear_partial_run(root: str | Path, run_name: str, study_id: str) -> Path | None:
    """Remove this study's unfinished folder of ``run_name`` (left by a killed attempt);
    return this study's *finished* folder of that name, kept (an attempt that finished just
    before its worker pool died, its result lost with the pool)."""
    path = Path(root) / sanitize_name(run_name)
    if not path.is_dir():
        return None
    try:
        with RunReader(path) as reader:
            ours = reader.meta.get("study") == study_id
            finished = reader.status == RunStatus.FINISHED
    except StoreError:  # killed while creating its store: remove it only if it holds nothing
        if _holds_nothing(path):
            shutil.rmtree(path, ignore_errors=True)
        return None  # otherwise not provably ours: leave it; the new attempt picks a free name
    if ours and finished:
        return path
    if ours:
        shutil.rmtree(path, ignore_errors=True)
    return None


def _holds_nothing(path: Path) -> bool:
    """A run folder with at most an unreadable database and an empty artifacts folder."""
    for entry in path.iterdir():
        if entry.name == ARTIFACTS_DIR and entry.is_dir():
            if any(entry.iterdir()):
                return False
        elif not (entry.is_file() and entry.name.startswith(DB_NAME)):
            return False
    return True


def attempt_cell(task: CellTask, report: Report | None = None) -> CellResult:
    """One attempt at a cell, where the task says (run folder under ``task.root``); a run of
    this cell that finished in an earlier attempt whose result was lost is adopted."""
    done = clear_partial_run(task.root, task.run_name, task.study_id)
    if done is not None:
        with RunReader(done) as reader:
            metrics = run_metrics(reader, task.spec.loss_threshold)
        return CellResult(task.config, done.name, CellStatus.FINISHED, metrics)
    callbacks = [ProgressCallback(task.run_name, report)] if report else []
    return run_cell(task, callbacks)


def failed_result(task: CellTask, message: str) -> CellResult:
    """A failed cell whose attempt produced no result (the worker process died)."""
    return CellResult(task.config, None, CellStatus.FAILED, None, message)


def should_retry(result: CellResult, attempt: int) -> bool:
    return result.status != CellStatus.FINISHED and attempt < MAX_ATTEMPTS


def final_error(result: CellResult, attempt: int) -> CellResult:
    """The result to store for a cell that failed on its last attempt."""
    if attempt > 1 and result.status != CellStatus.FINISHED:
        result.error = f"failed on all {attempt} attempts; last error: {result.error or '?'}"
    return result
