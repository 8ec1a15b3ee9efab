"""Argument helpers shared by sub-commands: key=value lists, shapes, common options."""

from __future__ import annotations

import argparse
import ast

from inspector.errors import InspectorError


def parse_value(text: str):
    """'3' -> 3, '0.1' -> 0.1, 'true' -> True, '[1,2]' -> [1, 2], anything else -> str."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_kv(items: list[str] | None, flag: str) -> dict:
    """['depth=8', 'act=tanh'] -> {'depth': 8, 'act': 'tanh'}."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InspectorError(f"{flag} expects key=value, got {item!r}")
        out[key.strip().replace("-", "_")] = parse_value(value)
    return out


def parse_shape(text: str) -> tuple[int, ...]:
    """'3,32,32' -> (3, 32, 32); a clear error for anything else."""
    try:
        dims = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise InspectorError(
            f"--input-shape must be positive integers separated by commas, e.g. 3,32,32 "
            f"(channels,height,width); got {text!r}"
        )
    return dims


def add_training_args(p: argparse.ArgumentParser, steps_default: int | None = None) -> None:
    """Options shared by run / diagnose / study."""
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=int, default=steps_default, help="optimizer steps")
    g.add_argument("--epochs", type=float, default=None, help="epochs (if --steps is not given)")
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    g.add_argument("--lr", type=float, default=0.05)
    g.add_argument("--momentum", type=float, default=0.9)
    g.add_argument("--weight-decay", type=float, default=0.0)
    g.add_argument("--clip", type=float, default=None, help="clip gradient norm")
    g.add_argument("--amp", action="store_true", help="mixed precision (CUDA only)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] | mps")
    g.add_argument(
        "--every",
        default=None,
        help="record every N steps (N, every:N, budget:0.03; default: a 1.5%% overhead budget)",
    )
    g.add_argument(
        "--exact", action="store_true", help="histograms/fractions over every element, not a sample"
    )
    d = p.add_argument_group("data")
    d.add_argument(
        "--data",
        default="shapes",
        help="shapes | sequence | mnist | fashion-mnist | cifar10 | imagefolder:PATH",
    )
    d.add_argument("--data-arg", action="append", metavar="K=V", help="dataset option")
    d.add_argument("--data-root", default=None, help="where torchvision datasets live")
    d.add_argument("--download", action="store_true", help="allow downloading datasets")
    p.add_argument(
        "--runs-root", default=None, help="runs folder (default ./runs or $INSPECTOR_RUNS_ROOT)"
    )
    p.add_argument("--name", default=None, help="run name")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def train_config_from(args: argparse.Namespace):
    from inspector.recorder.schedule import parse_schedule
    from inspector.train import TrainConfig

    parse_schedule(args.every)  # validate early, with a clear message
    every = int(args.every) if args.every and str(args.every).isdigit() else args.every
    return TrainConfig(
        steps=args.steps,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        device=args.device,
        seed=args.seed,
        clip_grad_norm=args.clip,
        amp=args.amp,
        every=every,
        exact=args.exact,
    )


def load_data_from(args: argparse.Namespace):
    from inspector.data import load_data

    return load_data(
        args.data,
        root=args.data_root,
        download=args.download,
        seed=args.seed,
        **parse_kv(args.data_arg, "--data-arg"),
    )
