"""``inspector run``: train a model with everything recorded."""

from __future__ import annotations

import argparse

from inspector.cli.args import add_training_args, load_data_from, parse_kv, train_config_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="train a model with every layer recorded",
        description="Train a registry model or your own factory on a dataset, "
        "recording every layer. Example: inspector run --model lenet5 "
        "--data shapes --steps 300",
    )
    p.add_argument(
        "--model",
        required=True,
        help="registry name (see `inspector models`), tv:<torchvision name>, "
        "path/to/file.py:factory or package.module:factory",
    )
    p.add_argument("--model-arg", action="append", metavar="K=V", help="model keyword argument")
    add_training_args(p, steps_default=None)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from inspector.model_build import build_model
    from inspector.train import train

    config = train_config_from(args)
    bundle = load_data_from(args)
    model, model_meta = build_model(
        args.model, bundle.info, parse_kv(args.model_arg, "--model-arg")
    )
    result = train(
        model,
        bundle,
        config,
        run=args.name,
        root=args.runs_root,
        quiet=args.quiet,
        meta={"model": model_meta},
    )
    acc = f"{result.test_accuracy:.3f}" if result.test_accuracy is not None else "-"
    loss = f"{result.final_loss:.4f}" if result.final_loss is not None else "-"
    print(
        f"run {result.run_id}: {result.status}, {result.steps} steps in {result.seconds:.1f}s, "
        f"final loss {loss}, test accuracy {acc}"
    )
    print(f"stored in {result.run_dir}")
    return 0
