"""``inspector study``: grids of recorded runs (depth vs trainability, any axes, a model zoo).

``study depth`` answers "does this net still train when it gets deeper, with and without
residuals / BatchNorm / another activation?" in one command; ``study grid`` takes any
model keyword as an axis; ``study zoo`` trains several registry models under one budget.
"""

from __future__ import annotations

import argparse
import sys

from inspector.cli.args import (
    add_runs_root,
    batch_int,
    count_int,
    jobs_int,
    momentum_float,
    parse_kv,
    positive_float,
    schedule_text,
    steps_int,
)
from inspector.errors import InspectorError
from inspector.study.grid import csv_values
from inspector.text_safety import escape_terminal

SKIPS = ("none", "residual")
NORMS = ("none", "batch", "layer")
ACTS = ("tanh", "sigmoid", "relu", "leaky_relu", "gelu")
DEPTH_TRAIN_SIZE = 256  # shapes training images in a depth study unless --data-arg n_train=N
HEADLINES = (
    "final_loss",
    "final_accuracy",
    "test_accuracy",
    "steps_to_threshold",
    "grad_ratio_init",
    "grad_ratio_median",
    "seconds_per_step",
)


def _common(p: argparse.ArgumentParser, steps: int = 150, lr: float = 0.05) -> None:
    g = p.add_argument_group("training (shared by every run of the study)")
    g.add_argument(
        "--steps", type=steps_int, default=steps, help=f"optimizer steps per run (default {steps})"
    )
    g.add_argument("--seeds", type=count_int, default=1, help="seeds per configuration (0..K-1)")
    g.add_argument("--batch-size", type=batch_int, default=64)
    g.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "adamw"])
    g.add_argument("--lr", type=positive_float, default=lr, help=f"learning rate (default {lr})")
    g.add_argument("--momentum", type=momentum_float, default=0.9, help="in [0, 1)")
    g.add_argument(
        "--every",
        type=schedule_text,
        default=None,
        help="record every N steps (default: overhead budget)",
    )
    g.add_argument(
        "--loss-threshold",
        type=positive_float,
        default=1.0,
        help="loss for the steps-to-threshold metric (default 1.0)",
    )
    g.add_argument(
        "--device",
        default="auto",
        help="auto | cpu | cuda[:N] | mps (--runs-per-gpu N shares a GPU between N runs)",
    )
    g.add_argument("--jobs", type=jobs_int, default=1, help="parallel worker processes on CPU")
    _executor_args(p)
    d = p.add_argument_group("data")
    d.add_argument("--data", default="shapes", help="dataset name (default shapes)")
    d.add_argument(
        "--data-arg",
        action="append",
        metavar="K=V",
        help="dataset option, e.g. n_train=1024 (study depth on shapes: n_train=256 unless given)",
    )
    d.add_argument("--data-root", default=None, help="where torchvision datasets live")
    p.add_argument(
        "--metric",
        default=None,
        choices=HEADLINES,
        help="headline metric of the table (default final_loss)",
    )
    add_runs_root(p)
    p.add_argument(
        "--name",
        default=None,
        help="study id (default: derived from the arguments; rerun the same command to resume)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _executor_args(p: argparse.ArgumentParser) -> None:
    from inspector.cli.args import jobs_int, non_negative_float, positive_float

    e = p.add_argument_group("where the runs execute")
    e.add_argument(
        "--executor",
        default="local",
        choices=["local", "ray"],
        help="local (this machine) or ray (each run a Ray task; pip install 'inspector[ray]')",
    )
    e.add_argument(
        "--runs-per-gpu",
        type=jobs_int,
        default=1,
        help="local executor on GPUs: runs sharing one GPU at a time (default 1)",
    )
    e.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join (default $RAY_ADDRESS, else a private local Ray instance)",
    )
    e.add_argument("--cpus-per-run", type=positive_float, default=1.0, help="Ray: CPUs per run")
    e.add_argument(
        "--gpus-per-run",
        type=non_negative_float,
        default=0.0,
        help="Ray: GPUs per run (0.5 packs two)",
    )
    e.add_argument(
        "--no-shared-fs",
        action="store_true",
        help="Ray: workers do not see --runs-root; ship each finished run back to it "
        "(default: detected per run)",
    )


def _executor(args: argparse.Namespace):
    """The Ray executor when asked for; None means the local one."""
    if args.executor != "ray":
        return None
    from inspector.study.executors.ray_executor import RayExecutor

    return RayExecutor(
        address=args.ray_address,
        cpus_per_run=args.cpus_per_run,
        gpus_per_run=args.gpus_per_run,
        shared_fs=not args.no_shared_fs,
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run a grid of recorded runs (depth vs trainability, zoo)",
        description="Run a grid of recorded runs and tabulate trainability. "
        "Example: inspector study depth --model mlp --depths 2,6,12 "
        "--skip none,residual --act tanh --steps 300 --jobs 2",
    )
    kinds = p.add_subparsers(dest="study_kind", metavar="KIND")

    depth = kinds.add_parser(
        "depth",
        help="depth x {plain, residual} x norm x activation",
        description="Train the model family at several depths, with "
        "and without residuals, normalization and activation choices.",
    )
    depth.add_argument(
        "--model",
        default="mlp",
        help="family: mlp (default; tanh, depths 2,4,8,16, lr 0.005) | plain_cnn (ReLU, "
        "BatchNorm, depths 2,8,20, width 8, lr 0.05); unset options take the family's defaults",
    )
    depth.add_argument("--depths", default=None, help="comma-separated depths")
    depth.add_argument("--skip", default="none,residual", help="none,residual")
    depth.add_argument("--norm", default=None, help="none,batch,layer")
    depth.add_argument("--act", default=None, help="tanh,sigmoid,relu,leaky_relu,gelu")
    depth.add_argument("--width", type=count_int, default=None, help="channels/units per layer")
    depth.add_argument(
        "--model-arg", action="append", metavar="K=V", help="other fixed model keyword"
    )
    _common(depth, steps=300, lr=0.005)
    depth.set_defaults(handler=run_depth, steps=None, lr=None)  # per family: depth_defaults

    grid = kinds.add_parser(
        "grid",
        help="any model keywords as axes",
        description="Example: inspector study grid --model plain_cnn "
        "--axis depth=2,8 --axis norm=none,batch,layer --axis act=tanh,relu",
    )
    grid.add_argument("--model", required=True, help="registry name or path/file.py:factory")
    grid.add_argument(
        "--axis",
        action="append",
        required=True,
        metavar="NAME=V1,V2",
        help="an axis of the grid (repeatable)",
    )
    grid.add_argument("--model-arg", action="append", metavar="K=V", help="fixed model keyword")
    _common(grid)
    grid.set_defaults(handler=run_grid)

    zoo = kinds.add_parser(
        "zoo",
        help="several registry models, same data, budget and seed",
        description="Example: inspector study zoo --models "
        "lenet5,alexnet,vgg11,resnet18 --data shapes --steps 200",
    )
    zoo.add_argument("--models", required=True, help="comma-separated registry names")
    _common(zoo, steps=200)
    zoo.set_defaults(handler=run_zoo)

    ls = kinds.add_parser("ls", help="list stored studies")
    add_runs_root(ls)
    ls.set_defaults(handler=run_ls)

    show = kinds.add_parser("show", help="print the tables of a stored study")
    show.add_argument("study", help="study id or folder")
    show.add_argument("--metric", default=None, choices=HEADLINES)
    add_runs_root(show)
    show.set_defaults(handler=run_show)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])


def _spec_kwargs(args: argparse.Namespace) -> dict:
    if args.steps < 1:
        raise InspectorError(f"--steps must be >= 1, got {args.steps}")
    if args.seeds < 1:
        raise InspectorError(f"--seeds must be >= 1, got {args.seeds}")
    every = args.every  # already N (int) or a checked schedule string (schedule_text)
    return dict(
        data=args.data,
        data_options=parse_kv(args.data_arg, "--data-arg"),
        data_root=args.data_root,
        steps=args.steps,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        every=every,
        loss_threshold=args.loss_threshold,
        headline=args.metric or "final_loss",
        device=args.device,
    )


def run_depth(args: argparse.Namespace) -> int:
    from inspector.study.grid import StudyKind, depth_defaults
    from inspector.study.runner import StudySpec

    for key, value in depth_defaults(args.model).items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    axes = {
        "depth": _depths(args.depths),
        "skip": csv_values(args.skip, "--skip", SKIPS),
        "norm": csv_values(args.norm, "--norm", NORMS),
        "act": csv_values(args.act, "--act", ACTS),
        "seed": list(range(args.seeds)),
    }
    model_args = parse_kv(args.model_arg, "--model-arg")
    if args.width is not None:
        model_args["width"] = args.width
    kwargs = _spec_kwargs(args)
    if args.data == "shapes":  # trainability = can SGD fit the training set: keep it small
        kwargs["data_options"] = {"n_train": DEPTH_TRAIN_SIZE, **kwargs["data_options"]}
    spec = StudySpec(
        kind=StudyKind.DEPTH, axes=axes, model=args.model, model_args=model_args, **kwargs
    )
    return _run(spec, args)


def _depths(text: str) -> list:
    """--depths as positive integers up to validation.MAX_DEPTH (a 40-digit depth hung)."""
    from inspector.validation import MAX_DEPTH

    depths = csv_values(text, "--depths", positive_int=True)
    if max(depths) > MAX_DEPTH:
        raise InspectorError(f"--depths: at most {MAX_DEPTH} layers, got {max(depths)}")
    return depths


def run_grid(args: argparse.Namespace) -> int:
    from inspector.study.grid import StudyKind
    from inspector.study.runner import StudySpec

    axes: dict[str, list] = {}
    for item in args.axis:
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise InspectorError(f"--axis expects NAME=V1,V2,..., got {item!r}")
        if name in axes:
            raise InspectorError(f"--axis {name} given twice; list all its values in one --axis")
        axes[name] = csv_values(values, f"--axis {name}")
    axes.setdefault("seed", list(range(args.seeds)))
    spec = StudySpec(
        kind=StudyKind.GRID,
        axes=axes,
        model=args.model,
        model_args=parse_kv(args.model_arg, "--model-arg"),
        **_spec_kwargs(args),
    )
    return _run(spec, args)


def run_zoo(args: argparse.Namespace) -> int:
    from inspector.models import list_models
    from inspector.study.grid import StudyKind
    from inspector.study.runner import StudySpec

    names = [str(v) for v in csv_values(args.models, "--models")]
    known = list_models()
    bad = [n for n in names if n not in known and not n.startswith("tv:")]
    if bad:
        raise InspectorError(
            f"unknown model(s) {', '.join(bad)}; choose from "
            f"{', '.join(known)} or tv:<torchvision name>"
        )
    spec = StudySpec(
        kind=StudyKind.ZOO,
        axes={"model": names, "seed": list(range(args.seeds))},
        **_spec_kwargs(args),
    )
    return _run(spec, args)


def _run(spec, args: argparse.Namespace) -> int:
    from inspector.study.runner import run_study
    from inspector.study.table import study_report

    study = run_study(
        spec,
        root=args.runs_root,
        name=args.name,
        jobs=args.jobs,
        quiet=args.quiet,
        executor=_executor(args),
        runs_per_gpu=args.runs_per_gpu,
        command=" ".join(["inspector", *sys.argv[1:]]),
    )
    print(escape_terminal(study_report(study, args.metric), keep_newlines=True))
    return print_outcome(study)


def print_outcome(study) -> int:
    """Where the study is stored, and the first line of each failure; 1 if any run failed."""
    failed = [c for c in study.cells if c.get("status") != "finished"]
    for cell in failed[:5]:
        first = (cell.get("error") or cell.get("status") or "?").splitlines()[0]
        print(escape_terminal(f"  not finished: {cell['config']}: {first}"), file=sys.stderr)
    print(f"\nstored in {study.path}; open it with `inspector dashboard` (study view)")
    if failed:
        print(
            f"{len(failed)} run(s) did not finish; rerun the same command to redo them",
            file=sys.stderr,
        )
        return 1
    return 0


def run_ls(args: argparse.Namespace) -> int:
    from inspector.study.store import list_studies
    from inspector.study.table import render

    studies = list_studies(args.runs_root)
    if not studies:
        print("no studies yet; try `inspector demo` or `inspector study depth --depths 2,6,12`")
        return 0
    rows = [
        [
            s.id,
            s.kind,
            s.created,
            f"{len(s.finished_cells())}/{len(s.cells)}",
            str(s.settings.get("model") or ",".join(map(str, s.axes.get("model", [])))),
            str(s.settings.get("data", "-")),
            str(s.settings.get("steps", "-")),
        ]
        for s in studies
    ]
    table = render(["id", "kind", "created", "done", "model", "data", "steps"], rows)
    print(escape_terminal(table, keep_newlines=True))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from inspector.study.store import load_study
    from inspector.study.table import study_report

    study = load_study(args.study, args.runs_root)
    print(escape_terminal(study_report(study, args.metric), keep_newlines=True))
    return 0
