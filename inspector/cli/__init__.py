"""The ``inspector`` console script.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module
adds its parser and sets ``handler`` via ``parser.set_defaults(handler=fn)``. ``fn(args)``
returns an exit code. User errors are ``InspectorError`` and print one line, no traceback.
"""

from __future__ import annotations

import argparse
import sys

from inspector.cli import (
    dashboard_cmd,
    demo_cmd,
    diagnose_cmd,
    ls_cmd,
    models_cmd,
    report_cmd,
    run_cmd,
    study_cmd,
    summary_cmd,
)
from inspector.errors import InspectorError
from inspector.text_safety import escape_terminal

# Sub-command modules, in the order they appear in --help (each imports torch lazily).
COMMAND_MODULES = [
    run_cmd,
    ls_cmd,
    models_cmd,
    demo_cmd,
    diagnose_cmd,
    study_cmd,
    summary_cmd,
    dashboard_cmd,
    report_cmd,
]


class Parser(argparse.ArgumentParser):
    """argparse with Inspector's error style: one line, no usage dump, exit code 2.

    Sub-command parsers inherit the class, so ``--lr nan`` on any command ends with
    ``error: inspector run: argument --lr: must be a finite number, got nan``.
    """

    def error(self, message: str):  # type: ignore[override]
        hint = f" (see `{self.prog} --help`)"
        self.exit(2, f"error: {self.prog}: {escape_terminal(message)}{hint}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="inspector",
        description="Architecture diagnostics and visualization for PyTorch.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2, message already printed)
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        _check_env_runs_root(args)
        return int(args.handler(args) or 0)
    except InspectorError as exc:
        # messages quote users' files and names: no escape sequence reaches the terminal
        print(f"error: {escape_terminal(exc, keep_newlines=True)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _check_env_runs_root(args: argparse.Namespace) -> None:
    """$INSPECTOR_RUNS_ROOT gets the same check as --runs-root when it stands in for it."""
    import os

    from inspector.cli.args import runs_root_dir
    from inspector.store.paths import RUNS_ROOT_ENV

    value = os.environ.get(RUNS_ROOT_ENV)
    if value and getattr(args, "runs_root", "") is None:
        try:
            runs_root_dir(value)
        except argparse.ArgumentTypeError as exc:
            raise InspectorError(f"${RUNS_ROOT_ENV}: {exc}") from None


if __name__ == "__main__":
    sys.exit(main())
