"""A study's grid as flat rows: the table in the HTML, Markdown and JSON outputs."""

from __future__ import annotations

from typing import Any


def study_grid_rows(study: Any) -> list[dict]:
    """One row per cell: the varying axes, run, status, then the headline and other metrics."""
    axes = getattr(study, "axes", {}) or {}
    varying = [k for k, v in axes.items() if isinstance(v, list) and len(v) > 1] or list(axes)
    headline = getattr(study, "headline", None)
    rows = []
    for cell in study.cells:
        config = cell.get("config") or {}
        metrics = dict(cell.get("metrics") or {})
        row: dict[str, Any] = {k: config.get(k) for k in varying}
        row["run"] = cell.get("run_id")
        row["status"] = cell.get("status")
        if headline and headline in metrics:
            row[headline] = metrics.pop(headline)
        counts = metrics.pop("findings", None)
        for key, value in metrics.items():
            row[key] = value
        if isinstance(counts, dict):
            row["errors"] = counts.get("error", 0)
            row["warnings"] = counts.get("warning", 0)
        rows.append(row)
    return rows
