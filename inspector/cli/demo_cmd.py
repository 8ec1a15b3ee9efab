"""``inspector demo``: a small depth study on ``shapes``, then the dashboard.

It shows the project's headline lesson in about a CPU minute: plain tanh networks stop
training as they get deeper, residual ones of the same depth still train, and the
first/last layer gradient ratio says why. The nets are MLPs fitting 256 training images:
the question is trainability (can SGD fit the training set at all?), which needs few steps,
not generalization. Rerunning it resumes (finished runs are reused).

``--size tiny`` (hidden; or ``INSPECTOR_DEMO_SIZE=tiny``) runs a seconds-long version for
tests and smoke checks.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

from inspector.diagnosis.finding import RuleId

SIZE_ENV = "INSPECTOR_DEMO_SIZE"


@dataclass(frozen=True)
class DemoSize:
    """The demo grid and budget (small enough for 2 CPU cores in a few minutes)."""

    depths: tuple[int, ...]
    norms: tuple[str, ...]
    steps: int
    width: int
    data_options: dict = field(default_factory=dict)
    lr: float = 0.005  # SGD with momentum 0.9; residual tanh nets without norm diverge above ~0.01
    batch_size: int = 64
    model: str = "mlp"


SIZES = {
    "full": DemoSize(
        depths=(2, 6, 12),
        norms=("none", "batch"),
        steps=300,
        width=64,
        data_options={"n_train": 256, "n_test": 256},
    ),
    "tiny": DemoSize(
        depths=(1, 2),
        norms=("none",),
        steps=3,
        width=8,
        batch_size=16,
        data_options={"n_train": 64, "n_test": 32},
    ),
}


def register(sub: argparse._SubParsersAction) -> None:
    from inspector.cli.args import add_runs_root, jobs_int

    p = sub.add_parser(
        "demo",
        help="small depth study on shapes, then the dashboard",
        description="Train plain and residual tanh MLPs at depths 2, 6 and 12 "
        "(with and without BatchNorm) on the built-in shapes data, print the "
        "depth x variant table, then open the dashboard. About a minute on "
        "2 CPU cores; rerunning reuses finished runs.",
    )
    p.add_argument("--no-dashboard", action="store_true", help="only print the tables")
    add_runs_root(p)
    p.add_argument(
        "--jobs",
        type=jobs_int,
        default=None,
        help="parallel worker processes (default: CPU cores, at most 4)",
    )
    p.add_argument("--device", default="cpu", help="cpu (default) | auto | cuda")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--size", default=None, choices=sorted(SIZES), help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def demo_spec(size: DemoSize, device: str = "cpu"):
    from inspector.study.grid import StudyKind
    from inspector.study.runner import StudySpec

    axes: dict[str, list] = {
        "depth": list(size.depths),
        "skip": ["none", "residual"],
        "norm": list(size.norms),
        "act": ["tanh"],
        "seed": [0],
    }
    return StudySpec(
        kind=StudyKind.DEPTH,
        axes=axes,
        model=size.model,
        model_args={"width": size.width},
        data="shapes",
        data_options=dict(size.data_options),
        steps=size.steps,
        batch_size=size.batch_size,
        lr=size.lr,
        device=device,
    )


def run(args: argparse.Namespace) -> int:
    from inspector.cli.study_cmd import print_outcome
    from inspector.errors import InspectorError
    from inspector.store import runs_root
    from inspector.study.runner import run_study
    from inspector.study.table import study_report

    size_name = args.size or os.environ.get(SIZE_ENV) or "full"
    if size_name not in SIZES:
        raise InspectorError(f"${SIZE_ENV}={size_name!r}; use one of {', '.join(SIZES)}")
    jobs = args.jobs or min(4, os.cpu_count() or 1)
    root = runs_root(args.runs_root)
    size = SIZES[size_name]
    spec = demo_spec(size, args.device)
    print(
        f"demo: plain vs residual tanh {size.model} (width {size.width}) at depths "
        f"{', '.join(map(str, size.depths))}, norm {'/'.join(size.norms)}, {size.steps} SGD "
        f"steps each on {size.data_options.get('n_train')} shapes images, {jobs} worker(s); "
        f"runs go to {root}",
        flush=True,
    )
    study = run_study(
        spec,
        root=root,
        jobs=jobs,
        quiet=args.quiet,
        command="inspector demo" + (f" --size {size_name}" if args.size else ""),
    )
    print(study_report(study))
    print(_findings_summary(study, root))
    print(_reading_guide())
    code = print_outcome(study)
    if args.no_dashboard or code:
        print(f"see it in the dashboard: inspector dashboard --runs-root {root}")
        return code
    from inspector.cli.dashboard_cmd import launch

    print("\nstarting the dashboard (Ctrl-C to stop)...", flush=True)
    sys.stdout.flush()
    return int(launch(str(root)) or 0)  # first parameter: the runs root


# Gradient-flow findings are listed per run; other rules are summed up over runs.
GRADIENT_RULES = (
    RuleId.NONFINITE_VALUES,
    RuleId.VANISHING_GRADIENTS,
    RuleId.EXPLODING_GRADIENTS,
    RuleId.SATURATION,
)
RULE_NOTES: dict[str, str] = {  # RuleId keys: looked up by the stored rule's text
    RuleId.GENERALISATION_GAP: "the nets that fit their few training images memorise them (the "
    "demo asks whether SGD can fit them at all, not whether they generalise)",
    RuleId.LOSS_NOT_DECREASING: "the training loss stays at chance",
}


def _findings_summary(study, root) -> str:
    """The stored diagnosis of each run, warnings and errors: gradient-flow findings per run
    (the plain deep nets' vanishing gradients), other rules counted over runs."""
    from inspector.errors import InspectorError
    from inspector.store import open_run
    from inspector.study.grid import variant_label
    from inspector.study.metrics import stored_diagnosis
    from inspector.study.table import layout

    row_axis, col_axes = layout(study)
    rows: list[tuple[str, str, str, str]] = []
    others: dict[tuple[str, str], int] = {}
    example = ""  # a run with a gradient-flow finding, for the details command
    for cell in study.finished_cells():
        try:
            with open_run(cell["run_id"], root) as reader:
                doc = stored_diagnosis(reader) or {}
        except InspectorError:
            continue
        config = cell["config"]
        label = f"{row_axis} {config.get(row_axis)} {variant_label(config, col_axes)}"
        for f in doc.get("findings") or []:
            if not isinstance(f, dict) or f.get("severity") not in ("error", "warning"):
                continue
            rule, mark = str(f.get("rule")), "ERROR" if f["severity"] == "error" else "WARN"
            if rule in GRADIENT_RULES:
                rows.append((label, mark, rule, str(f.get("title", ""))))
                example = example or str(cell["run_id"])
            else:
                others[(rule, mark)] = others.get((rule, mark), 0) + 1
    rows += [
        (f"{n} run{'s' if n != 1 else ''}", mark, rule, RULE_NOTES.get(rule, ""))
        for (rule, mark), n in others.items()
    ]
    head = "\nfindings of the diagnosis (warnings and errors)"
    if not rows:
        return head + "\nnone"
    w0, w2 = max(len(r[0]) for r in rows), max(len(r[2]) for r in rows)
    lines = [head, *(f"{a:<{w0}}  {b:<5}  {c:<{w2}}  {d}" for a, b, c, d in rows)]
    if example:
        lines.append(f"details: inspector diagnose --run {example} --runs-root {root}")
    return "\n".join(lines)


def _reading_guide() -> str:
    return (
        "\nhow to read it: a final train loss near ln(6) = 1.79 (the loss of guessing) means "
        "SGD could not fit\nthe training set; a gradient ratio (first/last hidden layer) "
        "far below 1 means the first layers\nget almost no gradient: they vanish on the way "
        "down the plain stack, the skips carry them past."
    )
