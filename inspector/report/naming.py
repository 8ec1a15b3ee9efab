"""Where a report goes: formats, default file names and the no-overwrite rule.

A report path is user input (a run name, an ``-o`` value), so the default name is sanitised
to letters, digits, '.', '_' and '-', and an existing file is only replaced with ``--force``.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path

from inspector.errors import InspectorError
from inspector.store import sanitize_name


class ReportFormat(enum.StrEnum):
    HTML = "html"
    JSON = "json"
    CSV = "csv"
    MD = "md"


SUFFIX = {
    ReportFormat.HTML: ".html",
    ReportFormat.JSON: ".json",
    ReportFormat.CSV: ".csv",
    ReportFormat.MD: ".md",
}


def parse_format(value: str | ReportFormat) -> ReportFormat:
    try:
        return ReportFormat(str(value).lower().lstrip("."))
    except ValueError:
        raise InspectorError(
            f"unknown report format {value!r}; choose one of "
            f"{', '.join(f.value for f in ReportFormat)}"
        ) from None


def format_from_path(path: str | os.PathLike, default: ReportFormat) -> ReportFormat:
    """``report.md`` -> md; an unknown or missing suffix keeps ``default``."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix == "htm":
        return ReportFormat.HTML
    try:
        return ReportFormat(suffix)
    except ValueError:
        return default


def default_file_name(names: list[str], fmt: ReportFormat, study: str | None = None) -> str:
    """``report-<run>.html``, ``report-<a>-vs-<b>.html``, ``report-study-<id>.html``."""
    if study:
        stem = f"study-{study}"
    elif len(names) == 1:
        stem = names[0]
    elif len(names) == 2:
        stem = f"{names[0]}-vs-{names[1]}"
    else:
        stem = f"{names[0]}-and-{len(names) - 1}-more"
    return "report-" + sanitize_name(stem, fallback="run") + SUFFIX[fmt]


def prepare_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Check ``path`` may be written (parent folders created); refuse to clobber a file."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise InspectorError(
            f"{target} is a folder; give a file name, e.g. -o {target / 'report.html'}"
        )
    if target.exists() and not force:
        raise InspectorError(
            f"{target} already exists; pass --force to overwrite it or choose another -o path"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InspectorError(f"cannot create folder {target.parent}: {exc.strerror}") from exc
    return target
