"""``inspector.train``: one training loop for the Python API and the CLI, always recorded."""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from inspector.errors import InspectorError
from inspector.recorder import parse_schedule, watch
from inspector.store import RunStatus, RunWriter
from inspector.train.callbacks import Callback, CallbackList, TrainContext
from inspector.train.config import TrainConfig, build_optimizer, resolve_device
from inspector.train.forward_check import check_forward
from inspector.train.progress import Progress


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    run_id: str
    status: str
    steps: int
    final_loss: float | None
    train_accuracy: float | None
    test_loss: float | None
    test_accuracy: float | None
    seconds: float


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _batches(loader: DataLoader, total: int) -> Iterator[tuple[int, Any]]:
    """``total`` batches, cycling through epochs."""
    step = 0
    while step < total:
        for batch in loader:
            if step >= total:
                return
            yield step, batch
            step += 1


def _loss_and_correct(model: nn.Module, x, y, amp: bool, device: torch.device):
    with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
        logits = model(x)
    if isinstance(logits, (tuple, list)):
        logits = logits[0]
    loss = nn.functional.cross_entropy(logits.float(), y)
    correct = (logits.detach().argmax(dim=1) == y).float().mean()
    return loss, correct


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: DataLoader, device: torch.device, amp: bool, max_batches: int | None
) -> dict[str, float]:
    """Mean test loss and accuracy (model put back in its previous mode)."""
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    total_correct = torch.zeros((), device=device)
    count = 0
    for i, (x, y) in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        x, y = x.to(device), y.to(device)
        loss, acc = _loss_and_correct(model, x, y, amp, device)
        total_loss += loss * len(y)
        total_correct += acc * len(y)
        count += len(y)
    model.train(was_training)
    if count == 0:
        return {}
    return {"test_loss": float(total_loss) / count, "test_accuracy": float(total_correct) / count}


def train(
    model: nn.Module,
    data: Any = "shapes",
    config: TrainConfig | None = None,
    *,
    run: str | None = None,
    root: str | Path | None = None,
    callbacks: Iterable[Callback] = (),
    quiet: bool = False,
    meta: Mapping[str, Any] | None = None,
    data_options: Mapping[str, Any] | None = None,
    default_callbacks: bool = True,
) -> TrainResult:
    """Train ``model`` on ``data`` (a dataset name or ``DataBundle``) with everything recorded.

    Returns when the run is finished; raises on failure after marking the run ``failed``
    (``interrupted`` on Ctrl-C). Default callbacks add the architecture table, kernel
    snapshots, receptive fields, saliency and diagnosis when their probes apply.
    """
    config = config or TrainConfig()
    if not callable(config.every):
        parse_schedule(config.every)  # a bad schedule fails here, before any run folder exists
    seed_everything(config.seed)
    if isinstance(data, str):
        from inspector.data import load_data

        bundle = load_data(data, seed=config.seed, **dict(data_options or {}))
    else:
        bundle = data
    device = resolve_device(config.device)
    model = model.to(device)
    g = torch.Generator().manual_seed(config.seed)
    train_loader = DataLoader(
        bundle.train,
        batch_size=config.batch_size,
        shuffle=True,
        generator=g,
        drop_last=len(bundle.train) > config.batch_size,
    )
    test_loader = DataLoader(bundle.test, batch_size=max(config.batch_size, 128))
    if len(train_loader) == 0:
        raise InspectorError(f"dataset {bundle.info.name!r} has no training examples")
    total = config.steps or max(1, math.ceil((config.epochs or 1.0) * len(train_loader)))
    first_x, _ = next(iter(train_loader))
    check_forward(model, first_x[:2].to(device))
    optimizer = build_optimizer(config, model.parameters())
    scaler = torch.amp.GradScaler("cuda", enabled=config.amp and device.type == "cuda")
    run_meta = {
        "model": {**dict((meta or {}).get("model", {}))},
        "data": bundle.to_dict(),
        "hparams": config.to_dict(),
        "device": str(device),
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0].endswith("inspector") else "",
        **{k: v for k, v in dict(meta or {}).items() if k != "model"},
        "total_steps": total,
    }
    name = run or f"{run_meta['model'].get('name', type(model).__name__)}-{bundle.info.name}"
    writer = RunWriter.create(name, root=root, meta=run_meta)
    if default_callbacks:
        from inspector.train.default_callbacks import default_callbacks as defaults

        callbacks = [*defaults(), *callbacks]
    cbs = CallbackList(callbacks)
    ctx = TrainContext(
        model, bundle, config, device, writer, optimizer=optimizer, total_steps=total
    )
    eval_every = config.eval_every or max(1, total // 5)
    progress = Progress(total, quiet=quiet, desc=name)
    started = time.time()
    loss = correct = None
    try:
        with watch(
            model,
            writer=writer,
            every=(  # the default spreads its points over the planned run
                config.every
                if callable(config.every)
                else parse_schedule(config.every, total_steps=total)
            ),
            exact=config.exact,
            meta={"model": {**run_meta["model"]}},
        ) as rec:
            ctx.recorder = rec
            model.train()
            cbs.on_fit_start(ctx)
            try:
                for step, (x, y) in _batches(train_loader, total):
                    ctx.step = step
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    cbs.on_train_batch_start(ctx, (x, y))
                    loss, correct = _loss_and_correct(model, x, y, config.amp, device)
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    cbs.on_after_backward(ctx)
                    if config.clip_grad_norm:
                        scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
                    cbs.on_before_optimizer_step(ctx)
                    scaler.step(optimizer)
                    scaler.update()
                    ctx.last_loss = loss.detach()
                    rec.step(loss=loss, accuracy=correct, lr=optimizer.param_groups[0]["lr"])
                    cbs.on_train_batch_end(ctx, loss)
                    progress.update(step, loss, correct, ctx.metrics)
                    if (step + 1) % eval_every == 0 or step + 1 == total:
                        _validate(ctx, cbs, rec, test_loader, step)
                with rec.paused():
                    cbs.on_fit_end(ctx)
            except BaseException as exc:
                cbs.on_exception(ctx, exc)
                raise
    finally:
        progress.close()
        status = _stored_status(writer)
        try:
            if status == RunStatus.FINISHED:
                cbs.on_run_closed(ctx)
        finally:
            writer.close()
    return TrainResult(
        run_dir=writer.dir,
        run_id=writer.dir.name,
        status=status,
        steps=total,
        final_loss=float(loss.detach()) if loss is not None else None,
        train_accuracy=float(correct) if correct is not None else None,
        test_loss=ctx.metrics.get("test_loss"),
        test_accuracy=ctx.metrics.get("test_accuracy"),
        seconds=time.time() - started,
    )


def _validate(ctx: TrainContext, cbs: CallbackList, rec, test_loader, step: int) -> None:
    cbs.on_validation_start(ctx)
    with rec.paused():
        metrics = evaluate(
            ctx.model, test_loader, ctx.device, ctx.config.amp, ctx.config.eval_batches
        )
    if metrics:
        ctx.metrics.update(metrics)
        ctx.writer.write_scalars([(k, step, v) for k, v in metrics.items()])
    cbs.on_validation_end(ctx, metrics)


def _stored_status(writer: RunWriter) -> str:
    import json

    row = writer._conn.execute("SELECT value FROM meta WHERE key='status'").fetchone()
    return json.loads(row[0]) if row else str(RunStatus.RUNNING)
