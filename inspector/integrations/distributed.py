"""torch.distributed: which rank records, run names per rank, and sharded models we refuse.

Under DDP every rank runs the same model on its own batch. By default only rank 0 records
(the others get a ``NullRecorder``: no hooks, no run folder, nothing to pay); with
``ranks="all"`` every rank writes its own run, the runs tied by one group id in their meta
so the dashboard can compare them. Activation gradients seen by hooks are each rank's own
(before DDP all-reduces the parameter gradients); parameter ``.grad`` read at ``step()``
is the all-reduced mean, identical on every rank.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import torch
from torch import nn

from inspector.errors import InspectorError


class RecordRanks(StrEnum):
    """Which ranks of a distributed job write a run."""

    MAIN = "main"  # rank 0 only (default)
    ALL = "all"  # one run per rank, grouped


@dataclass(frozen=True)
class RankInfo:
    rank: int
    world_size: int


def rank_info() -> RankInfo | None:
    """This process's rank, from the process group or torchrun's environment; None if alone."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        world = dist.get_world_size()
        return RankInfo(dist.get_rank(), world) if world > 1 else None
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world > 1 and "RANK" in os.environ:
        return RankInfo(int(os.environ["RANK"]), world)
    return None


def parse_ranks(value: str | RecordRanks) -> RecordRanks:
    try:
        return RecordRanks(value)
    except ValueError:
        raise InspectorError(f"ranks={value!r}: use 'main' (rank 0 records) or 'all'") from None


def group_id(name: str) -> str:
    """One id shared by every rank: made on rank 0, broadcast as bytes (nothing pickled)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise InspectorError(
            'ranks="all" needs torch.distributed initialised: call '
            "torch.distributed.init_process_group() before inspector.watch()"
        )
    size = 64
    device = torch.device("cpu")
    if dist.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    buf = torch.zeros(size, dtype=torch.uint8, device=device)
    if dist.get_rank() == 0:
        text = f"{name[:40]}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        data = text.encode()[:size]
        buf[: len(data)] = torch.tensor(list(data), dtype=torch.uint8, device=device)
    dist.broadcast(buf, src=0)
    return bytes(buf.cpu().tolist()).rstrip(b"\0").decode()


def check_not_sharded(model: nn.Module) -> None:
    """FSDP (FullyShardedDataParallel or ``fully_shard``) holds a shard of each parameter per
    rank, so per-layer parameter statistics would be partial: refuse with what to do."""
    for name, module in model.named_modules():
        bases = {cls.__name__ for cls in type(module).__mro__}
        if bases & {"FullyShardedDataParallel", "FSDPModule"}:
            where = f" (module '{name}')" if name else ""
            raise InspectorError(
                f"inspector: FSDP-sharded models are not supported{where}: each rank holds only "
                "a shard of every parameter, so per-layer statistics would be partial. Record "
                "the same model without FSDP (single process or DDP, a smaller batch if memory "
                "is short) to diagnose its architecture."
            )


class NullRecorder:
    """What ``watch`` yields on ranks that do not record: the Recorder's API, doing nothing."""

    hook_count = 0
    writer = None
    schedule = None
    select = None
    record_params = False
    loss_scale = None
    failure = None

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.step_index = 0
        self.notes: set[str] = set()

    def step(self, **scalars: Any) -> None:
        self.step_index += 1

    def use_scaler(self, scaler: object | None) -> None:
        pass

    @contextmanager
    def paused(self) -> Iterator[NullRecorder]:
        yield self

    def remove_hooks(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class RankPlan:
    """What ``watch`` does on this process: record or not, under which name, with which meta."""

    records: bool
    run: str | None
    meta: dict[str, Any]


def plan_ranks(model: nn.Module, run: str | None, ranks: str | RecordRanks) -> RankPlan:
    """Rank 0 records by default; ``ranks="all"``: every rank, runs ``<name>-rank<r>`` with
    meta ``{"group": id, "rank": r, "world_size": n}``. Models that cannot be recorded (FSDP,
    ``torch.compile(fullgraph=True)``) are refused here, before any run folder exists."""
    from inspector.integrations.compiled import check_compiled
    from inspector.recorder.selection import unwrap_model

    check_not_sharded(model)
    check_compiled(model)
    policy = parse_ranks(ranks)
    info = rank_info()
    if info is None:
        return RankPlan(True, run, {})
    meta: dict[str, Any] = {"rank": info.rank, "world_size": info.world_size}
    if policy is RecordRanks.MAIN:
        return RankPlan(info.rank == 0, run, meta)
    name = run or type(unwrap_model(model)).__name__
    return RankPlan(True, f"{name}-rank{info.rank}", {**meta, "group": group_id(name)})
