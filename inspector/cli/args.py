"""Argument helpers shared by sub-commands: key=value lists, shapes, common options."""

from __future__ import annotations

import argparse
import ast
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inspector import validation
from inspector.errors import InspectorError


def checked(check: Callable[..., Any], *bounds: Any) -> Callable[[str], Any]:
    """An argparse ``type=`` from a ``validation`` check: a bad value ends the command at
    parsing (exit code 2, one message naming the option), before anything is created."""

    def convert(text: str) -> Any:
        try:
            return check("", text, *bounds)
        except InspectorError as exc:
            raise argparse.ArgumentTypeError(str(exc).lstrip(": ")) from None

    convert.__name__ = getattr(check, "__name__", "value")  # argparse names it on errors
    return convert


positive_float = checked(validation.positive)
non_negative_float = checked(validation.non_negative)
finite_float = checked(validation.finite)
momentum_float = checked(validation.momentum)
seed_int = checked(validation.seed)


def schedule_text(text: str) -> int | str:
    """``--every``: N (an int), every:N, budget:F or auto, ranges and kinds checked."""
    value = checked(validation.schedule)(text)
    try:
        from inspector.recorder.schedule import parse_schedule

        parse_schedule(value)
    except InspectorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


steps_int = checked(validation.integer, 1, validation.MAX_STEPS)
batch_int = checked(validation.integer, 1, 2**24)
count_int = checked(validation.integer, 1, 10**6)  # classes, vocabulary, seeds, width
jobs_int = checked(validation.integer, 1, 256)
port_int = checked(validation.integer, 1, 65535)


def runs_root_dir(text: str) -> str:
    """``--runs-root``: a folder, or a path where one can be made (not an existing file)."""
    path = Path(text).expanduser()
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                what = "the runs root" if part == path else f"{part} (on its path)"
                raise argparse.ArgumentTypeError(
                    f"{text!r} cannot be a runs folder: {what} is a file, not a folder"
                )
            break
    return text


def output_file(text: str) -> str:
    """``-o``: a file in a folder that exists or can be made, and that we may write."""
    path = Path(text).expanduser()
    if path.is_dir():
        return text  # the command says which file name to give
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text}: {existing} is not a folder")
    if existing is not None and not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text}: {existing} is not writable")
    return text


def parse_value(text: str):
    """'3' -> 3, '0.1' -> 0.1, 'true' -> True, '[1,2]' -> [1, 2], anything else -> str.

    NaN and infinities (``1e999``) are refused: no model or dataset option means them.
    """
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if len(text) > 1000:  # literal_eval of deeply nested brackets exhausts the parser
        return text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if isinstance(value, float) and not math.isfinite(value):
        raise InspectorError(f"{text!r} is not a finite number")
    return value


def parse_kv(items: list[str] | None, flag: str) -> dict:
    """['depth=8', 'act=tanh'] -> {'depth': 8, 'act': 'tanh'}."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InspectorError(f"{flag} expects key=value, got {item!r}")
        try:
            out[key.strip().replace("-", "_")] = parse_value(value)
        except InspectorError as exc:
            raise InspectorError(f"{flag} {key.strip()}: {exc}") from None
    return out


def parse_thresholds(items: list[str] | None) -> dict:
    """``--threshold k=v`` pairs; every value a finite number (a NaN limit silences a rule)."""
    out = parse_kv(items, "--threshold")
    for key, value in out.items():
        try:
            out[key] = validation.finite(f"--threshold {key}", value)
        except InspectorError:
            raise InspectorError(
                f"--threshold {key} must be a finite number, got {value!r}"
            ) from None
    return out


def parse_shape(text: str, batch: int = 1) -> tuple[int, ...]:
    """'3,32,32' -> (3, 32, 32); a clear error for anything else or a size that cannot fit."""
    try:
        dims = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise InspectorError(
            f"--input-shape must be positive integers separated by commas, e.g. 3,32,32 "
            f"(channels,height,width); got {text!r}"
        )
    return validation.input_shape("--input-shape", dims, batch)


def add_training_args(p: argparse.ArgumentParser, steps_default: int | None = None) -> None:
    """Options shared by run / diagnose / study."""
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=steps_int, default=steps_default, help="optimizer steps")
    g.add_argument(
        "--epochs", type=positive_float, default=None, help="epochs (if --steps is not given)"
    )
    g.add_argument("--batch-size", type=batch_int, default=64)
    g.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    g.add_argument("--lr", type=positive_float, default=0.05)
    g.add_argument("--momentum", type=momentum_float, default=0.9, help="in [0, 1)")
    g.add_argument("--weight-decay", type=non_negative_float, default=0.0)
    g.add_argument("--clip", type=positive_float, default=None, help="clip gradient norm (> 0)")
    g.add_argument("--amp", action="store_true", help="mixed precision (CUDA only)")
    g.add_argument("--seed", type=seed_int, default=0, help=f"0..{validation.MAX_SEED}")
    g.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] | mps")
    g.add_argument(
        "--every",
        type=schedule_text,
        default=None,
        help="record every N steps (N, every:N, budget:0.03; default: steps 0-4 then ~100 steps spread over the run, within 5 s + 1.5%% of its time)",
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
    add_runs_root(p)
    p.add_argument("--name", default=None, help="run name")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_runs_root(p: argparse.ArgumentParser) -> None:
    """``--runs-root``, refusing a path that is (or goes through) a file."""
    p.add_argument(
        "--runs-root",
        type=runs_root_dir,
        default=None,
        help="runs folder (default ./runs or $INSPECTOR_RUNS_ROOT)",
    )


def train_config_from(args: argparse.Namespace):
    from inspector.recorder.schedule import parse_schedule
    from inspector.train import TrainConfig

    every = validation.schedule("--every", args.every)  # also a study's or diagnose's default
    parse_schedule(every)
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
