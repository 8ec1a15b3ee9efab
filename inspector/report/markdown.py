"""A Markdown summary to paste into an issue, a pull request or a README.

Tables only (GitHub-flavoured): run metadata, findings worst first with their fix, the layer
table (architecture record, or the last recorded step's statistics), and a study's grid.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from inspector.dashboard.commands import diagnose_command
from inspector.report import run_data
from inspector.report.html_parts import fmt_value
from inspector.report.inputs import RunRef, open_inputs
from inspector.report.study_table import study_grid_rows
from inspector.store import RunReader
from inspector.store.records import ARCHITECTURE, RECEPTIVE_FIELD
from inspector.text_safety import escape_markdown

META_KEYS = [
    "status",
    "steps",
    "model",
    "parameters",
    "data",
    "device",
    "hparam optimizer",
    "hparam lr",
    "hparam batch_size",
    "final loss",
    "final accuracy",
    "final test_accuracy",
    "version torch",
    "version inspector",
]
ARCH_COLUMNS = ["name", "type", "output_shape", "params", "rf", "jump"]
MAX_LAYER_ROWS = 60


def _cell(value: Any) -> str:
    """A table cell shown literally: names from users' models carry no Markdown or HTML."""
    return escape_markdown(fmt_value(value), cell=True)


def md_table(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> str:
    rows = list(rows)
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    lines = [
        "| " + " | ".join(_cell(c) for c in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def run_markdown(reader: RunReader, level: int = 2) -> str:
    h = "#" * level
    meta = dict(run_data.metadata_pairs(reader))
    out = [
        f"{h} Run `{reader.id}`",
        "",
        md_table([{"key": k, "value": meta[k]} for k in META_KEYS if k in meta]),
        "",
    ]
    out += [f"{h}# Findings", ""]
    verdict, findings = run_data.findings(reader)
    if not run_data.has_findings(reader):
        cmd = diagnose_command(reader.dir.parent.resolve(), reader.id)
        out.append(f"_No diagnosis recorded for this run (run `{cmd}` to add it)._")
    elif not findings:
        out.append(f"**Verdict:** {escape_markdown(verdict or 'no findings')}\n\n_No findings._")
    else:
        if verdict:
            out += [f"**Verdict:** {escape_markdown(verdict)}", ""]
        out.append(
            md_table(
                [
                    {
                        "severity": f.get("severity"),
                        "rule": f.get("rule"),
                        "title": f.get("title"),
                        "layers": ", ".join(map(str, f.get("layers") or [])),
                        "fix": f.get("fix"),
                    }
                    for f in findings
                ]
            )
        )
    out += ["", f"{h}# Layers", "", _layer_table(reader), ""]
    return "\n".join(out)


def _layer_table(reader: RunReader) -> str:
    arch = reader.record(*ARCHITECTURE)
    if arch and arch.get("rows"):
        rf = reader.record(*RECEPTIVE_FIELD) or {}
        rf_by = {r.get("name"): r for r in rf.get("layers") or []}
        rows = [
            {
                **row,
                "rf": rf_by.get(row.get("name"), {}).get("rf"),
                "jump": rf_by.get(row.get("name"), {}).get("jump"),
            }
            for row in arch["rows"]
        ]
        cols = [c for c in ARCH_COLUMNS if any(r.get(c) is not None for r in rows)]
        return _truncated(rows, cols)
    step, rows = run_data.layer_summaries(reader)
    if not rows:
        return "_No layers recorded for this run._"
    cols = ["layer", "role", "type"] + [
        s for s in run_data.LAYER_TABLE_STATS if any(s in r for r in rows)
    ]
    return f"Statistics at the last recorded step ({step}):\n\n" + _truncated(rows, cols)


def _truncated(rows: list[dict], cols: list[str]) -> str:
    table = md_table(rows[:MAX_LAYER_ROWS], cols)
    if len(rows) > MAX_LAYER_ROWS:
        table += f"\n\n_{len(rows) - MAX_LAYER_ROWS} more layers not shown._"
    return table


def study_markdown(study: Any) -> str:
    rows = study_grid_rows(study)
    head = (
        f"## Study `{study.id}`\n\nKind: {getattr(study, 'kind', '?')}; headline metric: "
        f"{getattr(study, 'headline', '-')}; {len(rows)} cells.\n\n"
    )
    return head + (md_table(rows) if rows else "_The study has no cells yet._") + "\n"


def build_markdown(
    runs: list[RunRef] | RunRef | None = None,
    study: Any | None = None,
    title: str | None = None,
    root: str | os.PathLike | None = None,
) -> str:
    """Markdown for runs (each in full) or a study (its grid; runs listed there)."""
    with open_inputs(runs, study, root) as inputs:
        labels = [r.id for r in inputs.readers]
        if title is None:
            title = (
                f"Inspector study report: {inputs.study.id}"
                if inputs.study is not None
                else "Inspector report: " + ", ".join(labels)
            )
        parts = [f"# {escape_markdown(title)}", ""]
        if inputs.study is not None:
            parts.append(study_markdown(inputs.study))
        else:
            parts += [run_markdown(r) for r in inputs.readers]
        return "\n".join(parts).rstrip() + "\n"
