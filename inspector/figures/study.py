"""Study figures: a metric over the grid (depth x variant) and the runs' curves per cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from inspector.figures.curves import scalar_points
from inspector.figures.theme import colour, decade_colorbar, styled

ROW_AXIS = "depth"
IGNORED_AXES = ("seed",)
LOWER_IS_BETTER = ("loss", "steps_to_threshold", "seconds_per_step")


def study_dict(study: Any) -> dict:
    """A study as the plain dict of RECORDS.md, from a Study object or a dict."""
    if isinstance(study, dict):
        return study
    if hasattr(study, "to_dict"):
        return study.to_dict()
    return {
        k: getattr(study, k, None) for k in ("id", "kind", "axes", "settings", "headline", "cells")
    }


def scalar_metrics(study: Any) -> list[str]:
    """Metric names whose values are numbers (plottable as a heatmap)."""
    names: list[str] = []
    for cell in study_dict(study).get("cells") or []:
        for k, v in (cell.get("metrics") or {}).items():
            if isinstance(v, int | float) and not isinstance(v, bool) and k not in names:
                names.append(k)
            if k == "findings" and isinstance(v, dict) and "findings.error" not in names:
                names += ["findings.error", "findings.warning"]
    return names


def _metric(cell: dict, metric: str) -> float:
    metrics = cell.get("metrics") or {}
    if metric.startswith("findings."):
        value = (metrics.get("findings") or {}).get(metric.split(".", 1)[1])
    else:
        value = metrics.get(metric)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return np.nan
    return float(value)


def variant_label(config: dict, axes: dict) -> str:
    """The cell's non-depth, non-seed settings that vary in the study, e.g. 'skip=residual'."""
    varying = [
        a
        for a, values in axes.items()
        if a != ROW_AXIS and a not in IGNORED_AXES and len(values or []) > 1
    ]
    parts = [f"{a}={config.get(a)}" for a in varying]
    return ", ".join(parts) or "all"


def cell_label(cell: dict, axes: dict) -> str:
    config = cell.get("config") or {}
    label = f"{ROW_AXIS}={config.get(ROW_AXIS)} {variant_label(config, axes)}"
    if len(axes.get("seed") or []) > 1:
        label += f" seed={config.get('seed')}"
    return label


def study_heatmap(study: Any, metric: str | None = None) -> go.Figure | None:
    """``metric`` (the study's headline when None) for each depth (rows) x variant (columns),
    averaged over seeds; failed or missing cells blank. Cell run ids ride in customdata so
    a selection can find the runs."""
    doc = study_dict(study)
    cells = doc.get("cells") or []
    if not cells:
        return None
    axes = doc.get("axes") or {}
    metric = metric or doc.get("headline") or "final_loss"
    depths = sorted({(c.get("config") or {}).get(ROW_AXIS) for c in cells}, key=_sort_key)
    variants: list[str] = []
    for c in cells:
        v = variant_label(c.get("config") or {}, axes)
        if v not in variants:
            variants.append(v)
    sums = np.zeros((len(depths), len(variants)))
    counts = np.zeros_like(sums)
    runs: list[list[list[str]]] = [[[] for _ in variants] for _ in depths]
    states = [["" for _ in variants] for _ in depths]  # shown where a cell has no value
    for c in cells:
        cfg = c.get("config") or {}
        r, k = depths.index(cfg.get(ROW_AXIS)), variants.index(variant_label(cfg, axes))
        if c.get("run_id"):
            runs[r][k].append(str(c["run_id"]))
        states[r][k] = states[r][k] or str(c.get("status") or "no value")
        value = _metric(c, metric)
        if np.isfinite(value):
            sums[r, k] += value
            counts[r, k] += 1
    z = np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)
    if np.isnan(z).all():
        return None
    text = [
        [f"{v:.3g}" if np.isfinite(v) else states[r][k] for k, v in enumerate(row)]
        for r, row in enumerate(z)
    ]
    scale = "Viridis_r" if any(s in metric for s in LOWER_IS_BETTER) else "Viridis"
    log = spans_decades(z)
    shown = np.log10(np.where(z > 0, z, np.nan)) if log else z
    colorbar = decade_colorbar(shown, metric + " (log)") if log else {"title": {"text": metric}}
    rows = [f"{ROW_AXIS} {d}" for d in depths]
    ids = np.array([[", ".join(ids) for ids in row] for row in runs], dtype=object)
    fig = go.Figure(
        go.Heatmap(
            z=shown,
            x=variants,
            y=rows,
            text=text,
            texttemplate="%{text}",
            colorscale=scale,
            colorbar=colorbar,
            customdata=ids,
            hoverinfo="skip",
        )
    )
    # Heatmaps cannot be selected in plotly; a marker on each cell can (click or box).
    cx, cy, cids, ctext = [], [], [], []
    for r, row in enumerate(rows):
        for k, variant in enumerate(variants):
            if runs[r][k]:
                cx.append(variant)
                cy.append(row)
                cids.append(ids[r, k])
                ctext.append(text[r][k])
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="markers",
            name="cells",
            marker={
                "symbol": "square-open",
                "size": 34,
                "color": "rgba(255,255,255,0.02)",
                "line": {"width": 3, "color": "rgba(255,255,255,0)"},
            },
            selected={"marker": {"color": "#ff3d00", "opacity": 1}},
            unselected={"marker": {"opacity": 0}},
            customdata=cids,
            text=ctext,
            hovertemplate="%{y} · %{x}<br>" + metric + " %{text}<br>runs: %{customdata}"
            "<extra>click or box-select cells</extra>",
        )
    )
    fig.update_yaxes(
        type="category",
        title_text=ROW_AXIS,
        categoryorder="array",
        categoryarray=rows,
        autorange="reversed",  # shallow nets at the top, as the tables read
    )
    fig.update_xaxes(
        type="category", title_text="variant", categoryorder="array", categoryarray=variants
    )
    title = f"{doc.get('kind') or 'study'} study {doc.get('id') or ''}: {metric}"
    fig = styled(fig, title, height=max(320, 90 + 50 * len(depths)), legend=False)
    # Streamlit turns clicks into selections (clickmode event+select) only while the drag
    # mode is left to it; box selection is the modebar's "Box Select" tool.
    return fig


def spans_decades(z: np.ndarray, ratio: float = 30.0) -> bool:
    """Positive values whose largest is over ``ratio`` x the smallest: a log colour scale
    (0.0012, 0.032 and 0.33 would share one colour on a linear one)."""
    finite = z[np.isfinite(z)]
    return bool(len(finite) > 1 and (finite > 0).all() and finite.max() > ratio * finite.min())


def study_curves(study: Any, readers: dict, scalar: str = "loss") -> go.Figure | None:
    """``scalar`` over steps for each cell whose run is in ``readers`` (run id -> reader);
    colour = variant, dash = depth, so a depth sweep reads as one colour family."""
    doc = study_dict(study)
    axes = doc.get("axes") or {}
    cells = [c for c in doc.get("cells") or [] if c.get("run_id") in readers]
    if not cells:
        return None
    variants = sorted({variant_label(c.get("config") or {}, axes) for c in cells})
    depths = sorted({(c.get("config") or {}).get(ROW_AXIS) for c in cells}, key=_sort_key)
    dashes = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
    fig = go.Figure()
    for c in cells:
        steps, values = scalar_points(readers[c["run_id"]], scalar, limit=400)
        if not len(steps):
            continue
        cfg = c.get("config") or {}
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=values,
                mode="lines",
                name=cell_label(c, axes),
                line={
                    "color": colour(variants.index(variant_label(cfg, axes))),
                    "dash": dashes[depths.index(cfg.get(ROW_AXIS)) % len(dashes)],
                    "width": 2,
                },
                hovertemplate=cell_label(c, axes) + "<br>step %{x}<br>%{y:.4g}<extra></extra>",
            )
        )
    if not fig.data:
        return None
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text=scalar)
    return styled(fig, f"{scalar} per cell", height=420)


def _sort_key(value: Any) -> tuple:
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


def runs_in_cell(study: Any, y_label: str, variant: str) -> list[str]:
    """Run ids of the heatmap cell at (``'depth N'``, variant), as the heatmap labels it."""
    doc = study_dict(study)
    axes = doc.get("axes") or {}
    out = []
    for c in doc.get("cells") or []:
        cfg = c.get("config") or {}
        if (
            f"{ROW_AXIS} {cfg.get(ROW_AXIS)}" == y_label
            and variant_label(cfg, axes) == variant
            and c.get("run_id")
        ):
            out.append(str(c["run_id"]))
    return out
