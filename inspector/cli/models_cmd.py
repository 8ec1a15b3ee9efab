"""`inspector models`: the registry, with the chapter each architecture follows."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list the built-in architectures and their sources")
    p.add_argument("--notes", action="store_true", help="also print each entry's deviations")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from inspector.models import get_spec, list_models

    names = list_models()
    width = max(len(n) for n in names)
    for name in names:
        spec = get_spec(name)
        print(f"{name:<{width}}  {spec.input_kind:<8}  {spec.source}")
        if args.notes and spec.notes:
            print(f"{'':<{width}}  {'':<8}  note: {spec.notes}")
    print("\nAlso: tv:<torchvision model name> (no weights), or your own path/file.py:factory.")
    return 0
