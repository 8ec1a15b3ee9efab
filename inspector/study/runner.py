"""Run every configuration of a study as an ordinary recorded run, fairly and resumably.

Fairness: within a study the dataset is generated once (``data_seed``); the cell's ``seed``
seeds both the model's initial weights (torch is seeded right before the model is built)
and the training data order (``train`` seeds its DataLoader with the same seed). Plain and
residual variants of one depth have identical parameter names, so they start from equal
weights and see the same batches in the same order.

Resumable: the study id is derived from what it runs (or given as ``--name``); a rerun
skips finished cells, adopts runs that finished after the study file was last written, and
redoes failed, interrupted or missing ones.

Where cells run is the executor's business (``inspector.study.executors``): this machine
(in-process, worker processes, several runs per GPU) or Ray tasks on a cluster. Either way a
failed cell is retried once, and progress (steps over the whole grid) flows into one bar.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.errors import InspectorError, StoreError
from inspector.store import RunReader, RunStatus, runs_root, sanitize_name
from inspector.study.cell import (
    CellResult,
    CellTask,
    StudySpec,
    initial_model,
    load_study_data,
    run_cell,
)
from inspector.study.executors.local import LocalExecutor
from inspector.study.executors.slots import plan_slots
from inspector.study.grid import config_key, expand, run_name
from inspector.study.metrics import run_metrics
from inspector.study.store import CellStatus, Study, new_study, study_path

if TYPE_CHECKING:
    from inspector.study.executors.ray_executor import RayExecutor

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


class _Progress:
    """The study's side of ``StudyEvents``: keeps study.json current and drives one bar.

    The bar counts training steps over the whole grid (finished cells count in full), so
    every running cell's progress shows, wherever it runs."""

    def __init__(self, study: Study, spec: StudySpec, todo: list[dict], bar, on_cell) -> None:
        self.study, self.steps, self.bar, self.on_cell = study, spec.steps, bar, on_cell
        self.cells = {config_key(c["config"]): c for c in todo}
        self.done = len(study.cells) - len(todo)
        self.steps_of: dict[str, int] = {}
        self.failed = 0
        self.note = ""

    def _cell(self, task: CellTask) -> dict:
        return self.cells[config_key(task.config)]

    def _show(self, note: str | None = None) -> None:
        target = self.done * self.steps + sum(self.steps_of.values())
        if target >= self.bar.n:
            self.bar.update(target - self.bar.n)
        else:  # a retried cell starts over
            self.bar.n = target
            self.bar.refresh()
        self.note = self.note if note is None else note
        total = len(self.study.cells)
        failed = f", {self.failed} failed" if self.failed else ""
        self.bar.set_postfix_str(f"{self.done}/{total} runs{failed}{self.note}", refresh=True)

    def started(self, task: CellTask, attempt: int) -> None:
        self._cell(task)["status"] = CellStatus.RUNNING
        self.study.save()
        self.steps_of[task.run_name] = 0
        self._show(f", retry of {task.run_name.split('.')[-1]}" if attempt > 1 else "")

    def progress(self, run_name: str, steps_done: int) -> None:
        if run_name in self.steps_of:
            self.steps_of[run_name] = min(int(steps_done), self.steps)
            self._show()

    def retrying(self, task: CellTask, result: CellResult) -> None:
        self.steps_of.pop(task.run_name, None)
        first = (result.error or "failed").splitlines()[0][:80]
        self._show(f", retrying {task.run_name.split('.')[-1]} ({first})")

    def finished(self, task: CellTask, result: CellResult) -> None:
        cell = self._cell(task)
        cell.update(run_id=result.run_id, status=result.status, metrics=result.metrics)
        if result.error:
            cell["error"] = result.error
        else:
            cell.pop("error", None)
        self.study.save()
        self.steps_of.pop(task.run_name, None)
        self.done += 1
        self.failed += result.status != CellStatus.FINISHED
        loss = (result.metrics or {}).get("final_loss")
        name = task.run_name.split(".")[-1]
        self._show(f", {name} loss {loss:.3f}" if loss is not None else "")
        if self.on_cell:
            self.on_cell(result)


def local_executor(spec: StudySpec, jobs: int = 1, runs_per_gpu: int = 1) -> LocalExecutor:
    """The local executor for the spec's device: ``jobs`` CPU slots, or ``runs_per_gpu``
    slots on every visible GPU (``--device cuda``) or on the one named (``cuda:N``)."""
    import torch

    from inspector.train import resolve_device

    device = resolve_device(spec.device)
    gpus = torch.cuda.device_count() if device.type == "cuda" else 0
    return LocalExecutor(plan_slots(str(device), jobs, gpus, runs_per_gpu))


def run_study(
    spec: StudySpec,
    root: str | Path | None = None,
    name: str | None = None,
    jobs: int = 1,
    quiet: bool = False,
    command: str = "",
    on_cell: Callable[[CellResult], None] | None = None,
    executor: LocalExecutor | RayExecutor | None = None,
    runs_per_gpu: int = 1,
) -> Study:
    """Run (or resume) the study; returns it with every cell's status and metrics.

    ``executor`` defaults to the local one (``jobs`` CPU workers, or ``runs_per_gpu`` runs
    per GPU); pass a ``RayExecutor`` to run the cells as Ray tasks."""
    from tqdm.auto import tqdm

    base = runs_root(root).resolve()
    base.mkdir(parents=True, exist_ok=True)
    if executor is None:
        executor = local_executor(spec, jobs, runs_per_gpu)
    study = open_study(spec, base, name, command)
    todo = _prepare_cells(study, spec, base)
    study.save()
    tasks = [
        CellTask(spec, cell["config"], run_name(study.id, cell["config"]), study.id, str(base))
        for cell in todo
    ]
    bar = tqdm(
        total=len(study.cells) * spec.steps,
        initial=(len(study.cells) - len(todo)) * spec.steps,
        unit="step",
        desc=f"study {study.id}"[:48],
        disable=quiet,
        dynamic_ncols=True,
    )
    try:
        executor.run(tasks, _Progress(study, spec, todo, bar, on_cell))
    except BaseException:
        for cell in todo:
            if cell["status"] in (CellStatus.RUNNING, CellStatus.PENDING):
                cell["status"] = CellStatus.INTERRUPTED
        study.save()
        raise
    finally:
        bar.close()
    return study
