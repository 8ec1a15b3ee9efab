"""Run by ``torchrun --nproc_per_node 2`` from test_distributed.py (gloo, CPU).

Records a DDP model with ``ranks="main"`` then ``ranks="all"``, computes each rank's plain
autograd reference for step 0, tries to watch FSDP models, and writes what it saw to
``<out>/rank<r>.json`` for the test to check against the stored runs.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import inspector
from inspector.errors import InspectorError


def make_model() -> nn.Sequential:
    torch.manual_seed(0)  # same initial weights on every rank, as DDP requires
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def rank_batches(rank: int, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(100 + rank)  # each rank its own data
    return [
        (torch.randn(8, 6, generator=g), torch.randint(0, 3, (8,), generator=g)) for _ in range(n)
    ]


def reference_step0(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor) -> dict:
    """Plain autograd on a copy: this rank's activation gradient norms, and the parameter
    gradient norms after averaging over ranks (what DDP's all-reduce gives)."""
    ref = copy.deepcopy(model)
    outs, h = {}, x
    for name, module in ref.named_children():
        h = module(h)
        h.retain_grad()
        outs[name] = h
    nn.functional.cross_entropy(h, y).backward()
    grads = {}
    for name, p in ref.named_parameters():
        g = p.grad.clone()
        dist.all_reduce(g)
        grads[name] = float((g / dist.get_world_size()).double().norm())
    return {
        "act_grad_norm": {n: float(o.grad.double().norm()) for n, o in outs.items()},
        "param_grad_norm": grads,
    }


def train(root: str, ranks: str, name: str) -> dict:
    model = make_model()
    ddp = DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    data = rank_batches(dist.get_rank(), 3)
    reference = reference_step0(model, *data[0])
    with inspector.watch(ddp, name, root=root, every=1, exact=True, ranks=ranks) as rec:
        hooks = rec.hook_count
        for x, y in data:
            loss = nn.functional.cross_entropy(ddp(x), y)
            loss.backward()
            opt.step()
            rec.step(loss=loss)  # reads .grad: before zero_grad
            opt.zero_grad()
    return {
        "recorder": type(rec).__name__,
        "hooks": hooks,
        "run_dir": str(rec.writer.dir) if rec.writer is not None else None,
        **reference,
    }


def fsdp_refusals(root: str) -> dict:
    from torch.distributed.fsdp import FullyShardedDataParallel, fully_shard

    messages = {}
    sharded = make_model()
    fully_shard(sharded)
    legacy = FullyShardedDataParallel(make_model(), device_id=torch.device("cpu"))
    for kind, model in (("fully_shard", sharded), ("FullyShardedDataParallel", legacy)):
        try:
            with inspector.watch(model, "fsdp", root=root):
                pass
            messages[kind] = None
        except InspectorError as exc:
            messages[kind] = str(exc)
    return messages


def main(root: str, out: str) -> None:
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    seen = {
        "rank": rank,
        "main": train(root, "main", "ddp-main"),
        "all": train(root, "all", "ddp-all"),
        "fsdp": fsdp_refusals(root),
    }
    Path(out, f"rank{rank}.json").write_text(json.dumps(seen))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
