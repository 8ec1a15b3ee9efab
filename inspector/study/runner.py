"""Run every configuration of a study as an ordinary recorded run, fairly and resumably.

Fairness: within a study the dataset is generated once (``data_seed``); the cell's ``seed``
seeds both the model's initial weights (torch is seeded right before the model is built)
and the training data order (``train`` seeds its DataLoader with the same seed). Plain and
residual variants of one depth have identical parameter names, so they start from equal
weights and see the same batches in the same order.

Resumable: the study id is derived from what it runs (or given as ``--name``); a rerun
skips finished cells, adopts runs that finished after the study file was last written, and
redoes failed, interrupted or missing ones.
"""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from inspector.errors import InspectorError, StoreError
from inspector.store import RunReader, RunStatus, runs_root, sanitize_name
from inspector.study.cell import (
    CellResult,
    CellTask,
    StudySpec,
    initial_model,
    load_study_data,
    run_cell,
    worker_init,
)
from inspector.study.grid import expand, run_name
from inspector.study.metrics import run_metrics
from inspector.study.store import CellStatus, Study, new_study, study_path

__all__ = ["StudySpec", "initial_model", "load_study_data", "open_study", "run_cell", "run_study"]


def _own_run(path: Path, sid: str) -> tuple[bool, str | None]:
    """(whether ``path`` is a run of study ``sid``, its status)."""
    try:
        with RunReader(path) as reader:
            return reader.meta.get("study") == sid, reader.status
    except StoreError:
        return False, None


def _prepare_cells(study: Study, spec: StudySpec, root: Path) -> list[dict]:
    """Cells for the grid; returns those still to run (old partial runs are removed)."""
    todo, cells = [], []
    for config in expand(spec.axes):
        old = study.cell(config)
        cell = (
            old
            if old is not None
            else {"config": config, "run_id": None, "status": CellStatus.PENDING, "metrics": None}
        )
        cell["config"] = config
        cells.append(cell)
        run_path = root / str(cell.get("run_id") or sanitize_name(run_name(study.id, config)))
        mine, status = _own_run(run_path, study.id)
        if cell.get("status") == CellStatus.FINISHED and status == RunStatus.FINISHED:
            continue
        if mine and status == RunStatus.FINISHED:  # finished after the study file was written
            with RunReader(run_path) as reader:
                cell.update(
                    run_id=run_path.name,
                    status=CellStatus.FINISHED,
                    metrics=run_metrics(reader, spec.loss_threshold),
                    error=None,
                )
            continue
        if mine:
            shutil.rmtree(run_path, ignore_errors=True)  # a failed/interrupted try: redo it
        cell.update(run_id=None, status=CellStatus.PENDING, metrics=None)
        todo.append(cell)
    study.cells = cells
    return todo


def _result_of(future, cell: dict) -> CellResult:
    """The worker's result, or a failed cell if the worker itself died (e.g. out of memory)."""
    try:
        return future.result()
    except Exception as exc:
        return CellResult(
            cell["config"],
            None,
            CellStatus.FAILED,
            None,
            f"worker process failed: {type(exc).__name__}: {exc}",
        )


def open_study(
    spec: StudySpec, root: str | Path | None = None, name: str | None = None, command: str = ""
) -> Study:
    """The study for ``spec``: the stored one (resumed, axes/settings updated) or a new one."""
    from inspector.study.store import load_study

    sid = sanitize_name(name) if name else spec.default_id()
    path = study_path(sid, root)
    if path.is_file():
        study = load_study(path)
        if study.settings and study.settings != spec.settings():
            changed = sorted(
                k
                for k in {*study.settings, *spec.settings()}
                if study.settings.get(k) != spec.settings().get(k)
            )
            raise InspectorError(
                f"study {sid!r} already exists with other settings ({', '.join(changed)} "
                f"differ), so its runs are not comparable; pick another --name or remove "
                f"{path.parent}"
            )
        study.axes, study.settings, study.headline = spec.axes, spec.settings(), spec.headline
        study.command = command or study.command
        return study
    return new_study(sid, spec.kind, spec.axes, spec.settings(), spec.headline, root, command)


def run_study(
    spec: StudySpec,
    root: str | Path | None = None,
    name: str | None = None,
    jobs: int = 1,
    quiet: bool = False,
    command: str = "",
    on_cell: Callable[[CellResult], None] | None = None,
) -> Study:
    """Run (or resume) the study; returns it with every cell's status and metrics."""
    from tqdm.auto import tqdm

    from inspector.train import resolve_device

    base = runs_root(root)
    base.mkdir(parents=True, exist_ok=True)
    if jobs < 1:
        raise InspectorError(f"--jobs must be >= 1, got {jobs}")
    device = resolve_device(spec.device)
    if device.type != "cpu":
        jobs = 1  # one accelerator: cells run one after another
    study = open_study(spec, base, name, command)
    todo = _prepare_cells(study, spec, base)
    study.save()
    tasks = {
        id(cell): CellTask(
            spec, cell["config"], run_name(study.id, cell["config"]), study.id, str(base)
        )
        for cell in todo
    }
    bar = tqdm(
        total=len(study.cells),
        initial=len(study.cells) - len(todo),
        unit="run",
        desc=f"study {study.id}"[:48],
        disable=quiet,
        dynamic_ncols=True,
    )

    def finish(cell: dict, result: CellResult) -> None:
        cell.update(run_id=result.run_id, status=result.status, metrics=result.metrics)
        if result.error:
            cell["error"] = result.error
        else:
            cell.pop("error", None)
        study.save()
        bar.update(1)
        if result.metrics and result.metrics.get("final_loss") is not None:
            bar.set_postfix_str(
                f"{tasks[id(cell)].run_name.split('.')[-1]} loss {result.metrics['final_loss']:.3f}"
            )
        if on_cell:
            on_cell(result)

    try:
        if jobs == 1 or len(todo) <= 1:
            for cell in todo:
                cell["status"] = CellStatus.RUNNING
                study.save()
                finish(cell, run_cell(tasks[id(cell)]))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=jobs, mp_context=ctx, initializer=worker_init
            ) as pool:
                pending = {pool.submit(run_cell, tasks[id(c)]): c for c in todo}
                for cell in todo:
                    cell["status"] = CellStatus.RUNNING
                study.save()
                try:
                    while pending:
                        done, _ = wait(pending, return_when=FIRST_COMPLETED)
                        for future in done:
                            cell = pending.pop(future)
                            finish(cell, _result_of(future, cell))
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    except BaseException:
        for cell in todo:
            if cell["status"] in (CellStatus.RUNNING, CellStatus.PENDING):
                cell["status"] = CellStatus.INTERRUPTED
        study.save()
        raise
    finally:
        bar.close()
    return study
