"""``inspector diagnose``: what is wrong with a model's gradient flow, and what to change.

``inspector diagnose TARGET --input-shape C,H,W`` trains the model briefly with every step
recorded and prints the findings worst first; ``inspector diagnose --run RUN_ID`` diagnoses
a run already recorded. Exit code 1 with ``--fail-on`` reached, for CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inspector.cli.args import (
    add_training_args,
    parse_kv,
    parse_shape,
    parse_thresholds,
    train_config_from,
)
from inspector.errors import InspectorError
from inspector.text_safety import escape_terminal

EXAMPLES = """examples:
  inspector diagnose mlp --model-arg depth=20 --model-arg act=sigmoid
  inspector diagnose my_models.py:build_net --input-shape 3,32,32 --fail-on error
  inspector diagnose tv:resnet18 --input-shape 3,32,32 --steps 40 --json
  inspector diagnose --run RUN_ID
"""


def register(sub: argparse._SubParsersAction) -> None:
    from inspector.diagnose_api import DEFAULT_BATCH, DEFAULT_LR, DEFAULT_STEPS

    p = sub.add_parser(
        "diagnose",
        help="find what is wrong with a model's gradient flow",
        description="Train a model briefly with every layer recorded, then list what is wrong "
        "(vanishing/exploding gradients, saturation, dead units, BatchNorm, learning rate, "
        "unused parameters, shared modules, loss) with evidence and a fix.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "target",
        nargs="?",
        help="registry name, tv:<torchvision name>, "
        "path/to/file.py:factory or package.module:factory",
    )
    p.add_argument(
        "--run", default=None, help="diagnose this recorded run (id or folder) instead of training"
    )
    p.add_argument(
        "--input-shape",
        default=None,
        metavar="C,H,W",
        help="input shape the model takes (without batch), e.g. 3,32,32",
    )
    p.add_argument("--model-arg", action="append", metavar="K=V", help="model keyword argument")
    p.add_argument(
        "--fail-on",
        choices=["warning", "error"],
        default=None,
        help="exit 1 when a finding of this severity or worse exists",
    )
    p.add_argument("--json", action="store_true", help="print machine-readable findings only")
    p.add_argument(
        "--threshold",
        action="append",
        metavar="K=V",
        help="override a diagnosis threshold (see inspector.diagnosis.Thresholds)",
    )
    p.add_argument(
        "--no-extras",
        action="store_true",
        help="record only what diagnosis needs (skip saliency, receptive fields...)",
    )
    p.add_argument("--brief", action="store_true", help="table and verdict only, no details")
    add_training_args(p, steps_default=DEFAULT_STEPS)
    p.set_defaults(handler=run, lr=DEFAULT_LR, batch_size=DEFAULT_BATCH, every="1")


def _thresholds(args: argparse.Namespace):
    from inspector.diagnosis import Thresholds

    return Thresholds().with_overrides(parse_thresholds(args.threshold))


def _diagnose_recorded(args: argparse.Namespace):
    from inspector.diagnosis import diagnose_run, store_findings
    from inspector.store import RunWriter, open_run
    from inspector.store.schema import DB_NAME
    from inspector.store.writer import connect

    with open_run(args.run, args.runs_root) as reader:
        diagnosis = diagnose_run(reader, _thresholds(args))
        status = reader.status
    if status != "running":  # never write into a run another process is writing
        writer = RunWriter(reader.dir, connect(reader.dir / DB_NAME))
        try:
            store_findings(writer, diagnosis)
        finally:
            writer.close()
    return diagnosis


def _diagnose_target(args: argparse.Namespace):
    from inspector.data import load_data
    from inspector.diagnose_api import diagnose, fit_images, shapes_options
    from inspector.model_build import build_model

    shape = parse_shape(args.input_shape, args.batch_size) if args.input_shape else None
    options = parse_kv(args.data_arg, "--data-arg")
    if args.data == "shapes":
        options = shapes_options(shape, options)
    config = train_config_from(args)
    bundle = load_data(
        args.data, root=args.data_root, download=args.download, seed=args.seed, **options
    )
    if shape is not None and len(shape) == 3 and bundle.info.kind == "image":
        bundle = fit_images(bundle, shape)  # registry models are then built for this shape
    model, model_meta = build_model(
        args.target, bundle.info, parse_kv(args.model_arg, "--model-arg")
    )
    short = args.target.split(":")[-1].split("/")[-1]  # path/file.py:build_net -> build_net
    return diagnose(
        model,
        bundle,
        input_shape=shape,
        root=args.runs_root,
        run=args.name or f"diagnose-{short}",
        thresholds=_thresholds(args),
        quiet=args.quiet or args.json,
        config=config,
        extras=not args.no_extras,
        meta={"model": model_meta},
    )


def run(args: argparse.Namespace) -> int:
    from inspector.diagnosis.text import format_diagnosis

    if bool(args.target) == bool(args.run):
        raise InspectorError(
            "give a model TARGET to diagnose, or --run RUN_ID for a recorded "
            "run (not both); see `inspector diagnose --help`"
        )
    _thresholds(args)  # a bad --threshold stops here, before a run is trained or changed
    diagnosis = _diagnose_recorded(args) if args.run else _diagnose_target(args)
    if args.json:
        json.dump({**diagnosis.to_dict(), "run_dir": diagnosis.run_dir}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        text = format_diagnosis(diagnosis, details=not args.brief)
        print(escape_terminal(text, keep_newlines=True))  # layer names are users' strings
        root = Path(diagnosis.run_dir).parent
        print(f"run {diagnosis.run_id} stored in {diagnosis.run_dir}")
        print(
            f"see the evidence: inspector dashboard --runs-root {root}  (run {diagnosis.run_id})"
            f" or inspector report {diagnosis.run_id} --runs-root {root}"
        )
    if args.fail_on and diagnosis.reaches(args.fail_on):
        return 1
    return 0
