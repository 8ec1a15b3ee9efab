"""``inspector report``: one run, several runs or a study as a file to share.

HTML (self-contained, opens offline), JSON / CSV (the numbers) or Markdown (for an issue).
"""

from __future__ import annotations

import argparse

from inspector.cli.args import add_runs_root, output_file
from inspector.errors import InspectorError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="export a run, a comparison or a study as HTML / JSON / CSV / Markdown",
        description="Write a report of one run, several runs (compared) or a study. "
        "Examples: inspector report lenet5-shapes -o lenet5.html; "
        "inspector report RUN_A RUN_B --format md; inspector report --study STUDY_ID",
    )
    p.add_argument("runs", nargs="*", metavar="RUN", help="run id (see `inspector ls`) or folder")
    p.add_argument("--study", default=None, help="study id (see `inspector study ls`) or path")
    p.add_argument(
        "-o",
        "--output",
        type=output_file,
        default=None,
        help="output file (default: report-<run or study>.<format> here; "
        "the format follows its suffix unless --format is given)",
    )
    p.add_argument(
        "--format",
        default=None,
        choices=["html", "json", "csv", "md"],
        help="html (default): one self-contained page that opens offline; json: findings, "
        "per-layer summaries and series, scalars, study table; csv: one long table with "
        "columns run,kind,layer,stat,step,value,text (value numeric only); md: a Markdown summary for an issue",
    )
    p.add_argument("--title", default=None, help="report title")
    add_runs_root(p)
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from inspector.report import write_report

    if not args.runs and not args.study:
        raise InspectorError(
            "give one or more runs (ids from `inspector ls`) or --study STUDY, e.g. "
            "`inspector report <run id> -o report.html`"
        )
    try:
        path = write_report(
            args.runs,
            study=args.study,
            output=args.output,
            fmt=args.format,
            title=args.title,
            root=args.runs_root,
            force=args.force,
        )
    except OSError as exc:  # a folder we may not write in (/proc, read-only, disk full)
        where = args.output or exc.filename or "the report"
        raise InspectorError(f"cannot write {where}: {exc.strerror or exc}") from None
    size = path.stat().st_size
    print(f"wrote {path} ({_size(size)})")
    return 0


def _size(n: int) -> str:
    """Bytes for people: 812 B, 40.2 KB, 5.1 MB."""
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KB" if n < 1024**2 else f"{n / 1024**2:.1f} MB"
