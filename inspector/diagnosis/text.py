"""Plain-text rendering of a diagnosis for terminals: a findings table, worst first."""

from __future__ import annotations

import shutil
import textwrap
from typing import Any

SEVERITY_MARK = {"error": "ERROR", "warning": "WARN ", "info": "info "}


def format_diagnosis(diagnosis: Any, width: int | None = None, details: bool = True) -> str:
    """Table of findings (severity, rule, layers, title) then details with fixes."""
    width = width or min(120, shutil.get_terminal_size((100, 20)).columns)
    lines = []
    if not diagnosis.findings:
        lines.append("no findings: nothing looks wrong in this run")
    else:
        rows = [
            (
                SEVERITY_MARK.get(str(f.severity), str(f.severity)),
                f.rule,
                _short(", ".join(f.layers) or "-", 24),
                f.title,
            )
            for f in diagnosis.findings
        ]
        w_rule = max(len("rule"), *(len(r[1]) for r in rows))
        w_layers = max(len("layers"), *(len(r[2]) for r in rows))
        head = f"{'sev':<5}  {'rule':<{w_rule}}  {'layers':<{w_layers}}  finding"
        lines += [head, "-" * min(width, len(head) + 40)]
        rest = max(20, width - 5 - w_rule - w_layers - 6)
        for sev, rule, layers, title in rows:
            lines.append(f"{sev}  {rule:<{w_rule}}  {layers:<{w_layers}}  {_short(title, rest)}")
        if details:
            for i, f in enumerate(diagnosis.findings, 1):
                lines.append("")
                lines.append(f"{i}. [{f.severity}] {f.title}")
                lines += textwrap.wrap(
                    f.message, width - 3, initial_indent="   ", subsequent_indent="   "
                )
                if f.fix:
                    lines += textwrap.wrap(
                        f"fix: {f.fix}",
                        width - 3,
                        initial_indent="   ",
                        subsequent_indent="        ",
                    )
                if f.steps:
                    lines.append(f"   steps {f.steps[0]}-{f.steps[-1]}; dashboard view: {f.view}")
    lines.append("")
    lines.append(diagnosis.verdict)
    return "\n".join(lines)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: max(1, n - 3)] + "..."
