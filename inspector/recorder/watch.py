"""``inspector.watch``: the context manager users wrap their training loop in."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from inspector.errors import InspectorError, StoreError
from inspector.integrations.distributed import NullRecorder, plan_ranks
from inspector.probes.tensor_summary import DEFAULT_MAX_SAMPLE
from inspector.recorder.recorder import Recorder
from inspector.recorder.schedule import parse_schedule
from inspector.recorder.selection import ModuleSelection, unwrap_model
from inspector.recorder.signals import sigterm_as_interrupt
from inspector.store.schema import RunStatus
from inspector.store.writer import RunWriter


def environment() -> dict[str, str]:
    """Library versions and platform, stored with every run so it can be rerun."""
    import numpy

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "cuda": torch.version.cuda or "",
    }


def model_meta(model: nn.Module) -> dict[str, Any]:
    params = {id(p): p for p in model.parameters()}
    return {
        "class": type(model).__name__,
        "module": type(model).__module__,
        "repr": repr(model)[:4000],
        "params": sum(p.numel() for p in params.values()),
        "trainable_params": sum(p.numel() for p in params.values() if p.requires_grad),
    }


@contextmanager
def watch(
    model: nn.Module,
    run: str | None = None,
    root: str | os.PathLike | None = None,
    *,
    every: int | str | Callable[[int], bool] | None = None,
    modules: ModuleSelection | None = None,
    types: tuple[str | type, ...] = (),
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    exact: bool = False,
    max_sample: int = DEFAULT_MAX_SAMPLE,
    meta: Mapping[str, Any] | None = None,
    writer: RunWriter | None = None,
    scaler: Any = None,
    ranks: str = "main",
) -> Iterator[Recorder]:
    """Record ``model`` while the block runs; call ``rec.step(loss=..., ...)`` per step.

    ``every``: N, "every:N", "budget:0.03", a callable step -> bool, or None for the default
    overhead-budget schedule. ``types`` / ``include`` / ``exclude`` select modules by class
    or name pattern. ``exact=True`` computes histograms and fractions on every element
    instead of a bounded sample. ``scaler``: the AMP ``GradScaler``; gradients are then
    recorded unscaled and skipped steps marked (scalar ``amp_skipped``). ``ranks``: under
    torch.distributed, "main" (rank 0 records, the others get a no-op recorder) or "all"
    (one run per rank, grouped). Leaving the block removes every hook, flushes what was
    recorded and marks the run finished, failed or interrupted (also on SIGTERM), or
    ``incomplete`` if the disk filled up (training goes on; recording stops).
    """
    if not isinstance(model, nn.Module):
        raise InspectorError(
            f"inspector.watch() needs a torch.nn.Module, got {type(model).__name__}; "
            "wrap a function in an nn.Module (its forward) to record it"
        )
    plan = plan_ranks(model, run, ranks)  # DDP/torchrun: which rank records; FSDP refused
    if not plan.records:
        yield NullRecorder(model)  # this rank hooks nothing and writes nothing
        return
    run = plan.run
    schedule = every if callable(every) else parse_schedule(every)
    selection = modules or ModuleSelection(tuple(types), tuple(include), tuple(exclude))
    meta = {**plan.meta, **dict(meta or {})}
    meta = {
        **meta,
        "model": {**model_meta(unwrap_model(model)), **dict(meta.get("model") or {})},
        "environment": environment(),
    }
    own_writer = writer is None
    name = run or type(unwrap_model(model)).__name__
    writer = writer or RunWriter.create(name, root=root, meta=meta)
    if not own_writer:
        writer.set_meta(meta)
    was_training = {m: m.training for m in model.modules()}
    try:
        recorder = Recorder(
            model,
            writer,
            schedule=schedule,
            select=selection,
            max_sample=None if exact else max_sample,
        )
    except BaseException as exc:  # e.g. a schedule that raises at step 0: no hooks are left
        _end(writer, own_writer, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    recorder.use_scaler(scaler)
    status, error = RunStatus.FINISHED, None
    lost = None
    try:
        with sigterm_as_interrupt() as term:
            yield recorder
        if term.received:  # a chained handler of the program's own took care of it
            status = RunStatus.INTERRUPTED
    except (KeyboardInterrupt, SystemExit) as exc:
        status, error = RunStatus.INTERRUPTED, str(exc) or None
        raise
    except BaseException as exc:
        status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            recorder.close()
        except Exception as exc:  # the writer thread failed: the run did not keep its data
            if status == RunStatus.FINISHED:
                status, error = RunStatus.FAILED, str(exc)
        finally:
            for module, mode in was_training.items():
                module.train(mode)
            lost = writer.lost()
            if status == RunStatus.FINISHED:
                if lost or recorder.failure:
                    status, error = RunStatus.FAILED, lost or recorder.failure
                elif writer.degraded:
                    status, error = RunStatus.INCOMPLETE, writer.degraded
            final = {"steps": recorder.step_index, "notes": sorted(recorder.notes)}
            _end(writer, own_writer, status, error, final)
    if lost:
        raise StoreError(f"{lost}; nothing of this run was kept")


def _end(
    writer: RunWriter,
    own_writer: bool,
    status: RunStatus,
    error: str | None,
    final: Mapping[str, Any] | None = None,
) -> None:
    """Write the final status (best effort on a broken store) and close our own writer."""
    try:
        if final:
            writer.set_meta(final)
        writer.set_status(status, error)
    except Exception:  # a deleted or damaged store: the caller reports why
        pass
    finally:
        if own_writer:
            writer.close()
