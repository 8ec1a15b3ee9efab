"""Where the local executor runs cells: a list of device slots, planned by a pure function.

A slot is one run at a time on one device. On CPU there are ``jobs`` slots; on a GPU machine
each visible GPU gives ``runs_per_gpu`` slots, so several small runs share one GPU (each in
its own worker process). The plan depends only on its arguments (no torch call), so it is
tested with any device count; the executor hands a free slot's device to each cell it starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from inspector.errors import InspectorError


def plan_slots(device: str, jobs: int = 1, gpu_count: int = 0, runs_per_gpu: int = 1) -> list[str]:
    """Device of every slot, e.g. ``('cuda', gpu_count=2, runs_per_gpu=2)`` ->
    ``['cuda:0', 'cuda:1', 'cuda:0', 'cuda:1']`` (GPUs interleaved so early cells spread out).

    ``device`` is the resolved device (``cpu``, ``cuda``, ``cuda:N``, ``mps``).
    """
    if jobs < 1:
        raise InspectorError(f"--jobs must be >= 1, got {jobs}")
    if runs_per_gpu < 1:
        raise InspectorError(f"--runs-per-gpu must be >= 1, got {runs_per_gpu}")
    kind, _, index = device.partition(":")
    if kind == "cpu":
        return ["cpu"] * jobs
    if kind == "cuda":
        if gpu_count < 1:
            raise InspectorError("--device cuda asked for, but no CUDA GPU is visible")
        if index:
            if int(index) >= gpu_count:
                raise InspectorError(f"--device {device}: only {gpu_count} CUDA device(s)")
            gpus = [device]
        else:
            gpus = [f"cuda:{i}" for i in range(gpu_count)]
        return [gpu for _ in range(runs_per_gpu) for gpu in gpus]
    return [device] * runs_per_gpu  # mps and other single accelerators


def assign(n_cells: int, slots: Sequence[str]) -> list[list[int]]:
    """Cell indices per slot when every cell takes equally long (round robin): the shape
    of the schedule, used to explain it and to test it."""
    plan: list[list[int]] = [[] for _ in slots]
    for i in range(n_cells):
        plan[i % len(slots)].append(i)
    return plan


def peak_runs_per_device(slots: Sequence[str]) -> dict[str, int]:
    """How many runs can share each device at once."""
    out: dict[str, int] = {}
    for device in slots:
        out[device] = out.get(device, 0) + 1
    return out
