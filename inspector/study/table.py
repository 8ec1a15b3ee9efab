"""Terminal tables of a study: depth (or another axis) rows x variant columns.

Each cell aggregates the seeds of one configuration: arithmetic mean ± standard deviation
for losses and accuracies, geometric mean ×/÷ geometric spread for gradient ratios (they
span orders of magnitude).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from inspector.study.grid import MODEL_AXIS, SEED_AXIS, variant_label
from inspector.study.store import CellStatus, Study

LOG_METRICS = frozenset({"grad_ratio_init", "grad_ratio_median"})
METRIC_TITLES = {
    "final_loss": "final train loss (mean of last 10% of steps)",
    "final_accuracy": "final train accuracy",
    "test_accuracy": "test accuracy",
    "steps_to_threshold": "steps to reach the loss threshold",
    "grad_ratio_init": "gradient-norm ratio first/last layer at init",
    "grad_ratio_median": "gradient-norm ratio first/last layer, median over training",
    "seconds_per_step": "seconds per step",
    "params": "parameters",
}


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, right-aligned others, a rule under the header."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def aggregate(values: Sequence[float | None], log: bool = False) -> str:
    """'0.512 ± 0.030' (or '3.1e-05 ×/÷ 2.0' when ``log``); '-' when nothing finished."""
    vals = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if vals.size == 0:
        return "never" if values else "-"
    if log:
        if np.any(vals <= 0):
            return f"{vals.mean():.2g}"
        logs = np.log10(vals)
        text = f"{10 ** logs.mean():.1e}"
        return text if vals.size == 1 else f"{text} ×/÷ {10 ** logs.std():.1f}"
    digits = 0 if np.all(vals == np.round(vals)) and vals.mean() >= 10 else 3
    text = f"{vals.mean():.{digits}f}"
    return text if vals.size == 1 else f"{text} ± {vals.std():.{digits}f}"


def layout(study: Study) -> tuple[str, list[str]]:
    """(row axis, column axes): depth rows if there is a depth axis, else the first axis."""
    names = [a for a in study.axes if a != SEED_AXIS]
    row = "depth" if "depth" in names else (names[0] if names else SEED_AXIS)
    columns = [a for a in names if a != row and len(study.axes[a]) > 1]
    return row, columns


def metric_table(study: Study, metric: str | None = None) -> str:
    """The headline (or ``metric``) per row value x variant, aggregated over seeds."""
    metric = metric or study.headline
    row_axis, col_axes = layout(study)
    columns: list[str] = []
    table: dict[tuple[Any, str], list[float | None]] = {}
    failed: dict[tuple[Any, str], int] = {}
    for cell in study.cells:
        config = cell["config"]
        col = variant_label(config, col_axes) if col_axes else metric
        if col not in columns:
            columns.append(col)
        key = (config.get(row_axis), col)
        if cell.get("status") == CellStatus.FINISHED:
            table.setdefault(key, []).append((cell.get("metrics") or {}).get(metric))
        else:
            failed[key] = failed.get(key, 0) + 1
    rows = []
    for value in study.axes.get(row_axis, []):
        out = [str(value)]
        for col in columns:
            text = aggregate(table.get((value, col), []), log=metric in LOG_METRICS)
            if failed.get((value, col)):
                text = f"{text} ({failed[(value, col)]} not done)"
            out.append(text)
        rows.append(out)
    fixed = [
        f"{a}={study.axes[a][0]}"
        for a in study.axes
        if a not in (row_axis, SEED_AXIS) and len(study.axes[a]) == 1
    ]
    seeds = len(study.axes.get(SEED_AXIS, [0]))
    title = f"{METRIC_TITLES.get(metric, metric)}"
    notes = ", ".join([*fixed, f"{seeds} seed{'s' if seeds != 1 else ''}"])
    return f"{title}  [{notes}]\n" + render([row_axis, *columns], rows)


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "sci":
        return f"{value:.1e}"
    if kind == "ms":
        return f"{1000 * value:.1f}"
    return f"{value:.3f}"


def zoo_table(study: Study) -> str:
    """One row per model: size, receptive field, speed, accuracy, gradient ratio, findings."""
    headers = [
        "model",
        "params",
        "rf",
        "ms/step",
        "train acc",
        "test acc",
        "grad ratio",
        "findings (err/warn)",
    ]
    rows = []
    for cell in study.cells:
        m = cell.get("metrics") or {}
        name = str(cell["config"].get(MODEL_AXIS, "?"))
        if cell.get("status") != CellStatus.FINISHED:
            rows.append([name, *["-"] * 6, cell.get("status", "?")])
            continue
        found = m.get("findings")
        rows.append(
            [
                name,
                _fmt(m.get("params"), "int"),
                _fmt(m.get("receptive_field"), "int"),
                _fmt(m.get("seconds_per_step"), "ms"),
                _fmt(m.get("final_accuracy"), "acc"),
                _fmt(m.get("test_accuracy"), "acc"),
                _fmt(m.get("grad_ratio_init"), "sci"),
                f"{found.get('error', 0)}/{found.get('warning', 0)}" if found else "-",
            ]
        )
    return render(headers, rows)


def study_report(study: Study, metric: str | None = None) -> str:
    """Everything the CLI prints after a study: headline table + gradient-ratio table."""
    if study.kind == "zoo":
        body = zoo_table(study)
    else:
        parts = [metric_table(study, metric)]
        if (metric or study.headline) != "grad_ratio_init":
            parts.append(metric_table(study, "grad_ratio_init"))
        body = "\n\n".join(parts)
    done = len(study.finished_cells())
    return f"study {study.id}: {done}/{len(study.cells)} runs finished\n\n{body}"
