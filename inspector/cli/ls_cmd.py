"""``inspector ls``: the runs under the runs root, one line each."""

from __future__ import annotations

import argparse
import sys
import time

from inspector.cli.args import add_runs_root
from inspector.store import runs_root
from inspector.store.catalog import scan_runs
from inspector.text_safety import escape_terminal


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ls", help="list recorded runs")
    add_runs_root(p)
    p.set_defaults(handler=run)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    runs, unreadable = scan_runs(args.runs_root)
    for bad in unreadable:  # warn, never hide a run silently
        print(
            escape_terminal(f"warning: cannot read run {bad.path}: {bad.reason}"),
            file=sys.stderr,
        )
    if not runs:
        print(
            f"no runs in {runs_root(args.runs_root)}; make one with `inspector demo` or "
            "`inspector run --model lenet5_bn --data shapes --steps 300`"
        )
        return 0
    header = ("run", "status", "model", "data", "steps", "loss", "acc", "test acc", "created")
    rows = [
        (  # names come from users' models and metadata: no escape sequence reaches the tty
            escape_terminal(r.id),
            escape_terminal(r.status),
            escape_terminal(r.model),
            escape_terminal(r.data),
            str(r.steps),
            _fmt(r.final_loss, 4),
            _fmt(r.final_accuracy),
            _fmt(r.test_accuracy),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
        )
        for r in runs
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    return 0
