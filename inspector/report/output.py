"""Write a report to disk: pick the format, name the file, never clobber without --force."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from inspector.report.inputs import RunRef, open_inputs
from inspector.report.naming import (
    ReportFormat,
    default_file_name,
    format_from_path,
    parse_format,
    prepare_output,
)


def render(fmt: ReportFormat, readers: list, study: Any | None, title: str | None) -> str:
    """The report text in ``fmt`` for already-open readers (and study)."""
    if fmt == ReportFormat.HTML:
        from inspector.report.html import build_html_report

        return build_html_report(readers, study=study, title=title)
    if fmt == ReportFormat.MD:
        from inspector.report.markdown import build_markdown

        return build_markdown(readers, study=study, title=title)
    from inspector.report.data_export import to_csv_text, to_json_text

    return to_json_text(readers, study) if fmt == ReportFormat.JSON else to_csv_text(readers, study)


def write_report(
    runs: list[RunRef] | RunRef | None = None,
    study: Any | None = None,
    output: str | os.PathLike | None = None,
    fmt: str | ReportFormat | None = None,
    title: str | None = None,
    root: str | os.PathLike | None = None,
    force: bool = False,
) -> Path:
    """Render and write a report; returns its path.

    ``fmt`` defaults to the suffix of ``output`` (else html); ``output`` defaults to
    ``report-<run or study>.<suffix>`` in the current folder. The file appears whole or not
    at all (written to a temporary name, then renamed).
    """
    if fmt is not None:
        fmt = parse_format(fmt)
    elif output is not None:
        fmt = format_from_path(output, ReportFormat.HTML)
    else:
        fmt = ReportFormat.HTML
    with open_inputs(runs, study, root) as inputs:
        if output is None:
            study_id = inputs.study.id if inputs.study is not None else None
            output = default_file_name([r.id for r in inputs.readers], fmt, study_id)
        target = prepare_output(output, force=force)
        text = render(fmt, inputs.readers, inputs.study, title)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
