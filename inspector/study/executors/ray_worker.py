"""What runs inside a Ray task: one attempt at a cell, on a shared or a local runs root.

Shared file system (the driver's probe file is readable here, with the driver's token): the
run is written straight under the driver's runs root. Otherwise it is written under a local
temporary root and, once finished, returned as a tar archive's bytes for the driver to
unpack (``transfer.unpack_run``).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from inspector.study.cell import CellResult, CellTask
from inspector.study.executors.common import attempt_cell
from inspector.study.executors.transfer import pack_run
from inspector.study.store import CellStatus


def sees_shared_root(probe: str | None, token: str) -> bool:
    """Whether this worker reads the driver's probe file (so it shares the runs root)."""
    if not probe:
        return False
    try:
        return Path(probe).read_text(encoding="utf-8").strip() == token
    except OSError:
        return False


class ProgressBoard:
    """A Ray actor (num_cpus=0): latest step per running run, collected by the driver."""

    def __init__(self) -> None:
        self.steps: dict[str, int] = {}

    def report(self, run_name: str, steps: int) -> None:
        self.steps[run_name] = steps

    def take(self) -> dict[str, int]:
        out, self.steps = self.steps, {}
        return out


def ray_attempt(
    task: CellTask, probe: str | None, token: str, board, threads: int
) -> tuple[CellResult, bytes | None]:
    """(the cell's result, its run folder as a tar archive when the root is not shared)."""
    import ray
    import torch

    torch.set_num_threads(max(1, threads))
    sent: list = []

    def report(run_name: str, steps: int) -> None:
        sent[:] = [board.report.remote(run_name, steps)]  # fire and forget while training

    def attempt(where: CellTask) -> CellResult:
        result = attempt_cell(where, report)
        if sent:  # the board has every report of this run before the driver sees the result
            ray.get(sent[0])
        return result

    if sees_shared_root(probe, token):
        return attempt(task), None
    with tempfile.TemporaryDirectory(prefix="inspector-ray-") as tmp:
        result = attempt(replace(task, root=tmp))
        run_dir = Path(tmp) / result.run_id if result.run_id else None
        if result.status != CellStatus.FINISHED or run_dir is None or not run_dir.is_dir():
            result.run_id = None  # the partial run stays behind on the worker, discarded
            return result, None
        return result, pack_run(run_dir)
