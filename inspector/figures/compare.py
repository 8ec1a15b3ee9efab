"""Several runs overlaid on one signal: a scalar curve, or a per-layer statistic shown
both over time (median over layers) and across depth (at each run's last step)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import LOG_STATS, role_of, thin_index
from inspector.figures.curves import scalar_points
from inspector.figures.theme import MAX_COLUMNS, colour, styled


def comparable_signals(readers: dict) -> tuple[list[str], list[str]]:
    """(scalar names, per-layer stat names) present in at least one of the runs."""
    scalars: set[str] = set()
    stats: set[str] = set()
    for reader in readers.values():
        scalars.update(reader.scalar_names())
        stats.update(reader.stat_names())
    return sorted(scalars), sorted(stats)


def compare_runs(readers: dict, stat: str) -> go.Figure | None:
    """Overlay ``stat`` for each run (label -> reader). None when no run has it."""
    if not readers:
        return None
    if any(stat in r.scalar_names() for r in readers.values()):
        return _compare_scalar(readers, stat)
    return _compare_layer_stat(readers, stat)


def _compare_scalar(readers: dict, name: str) -> go.Figure:
    fig = go.Figure()
    for i, (label, reader) in enumerate(readers.items()):
        steps, values = scalar_points(reader, name)
        if len(steps):
            fig.add_trace(
                go.Scattergl(
                    x=steps,
                    y=values,
                    name=label,
                    mode="lines",
                    line={"color": colour(i), "width": 2},
                )
            )
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text=name, type="log" if name in LOG_STATS else "linear")
    return styled(fig, f"{name}: {len(readers)} runs", height=400)


def _compare_layer_stat(readers: dict, stat: str) -> go.Figure | None:
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            f"median {stat} over layers, per step",
            f"{stat} by relative depth, last step",
        ),
    )
    drawn = 0
    for i, (label, reader) in enumerate(readers.items()):
        series = reader.series(stat, role=role_of(stat), max_steps=MAX_COLUMNS)
        if not series.layers or np.isnan(series.values).all():
            continue
        drawn += 1
        with np.errstate(all="ignore"):
            median = np.nanmedian(np.where(np.isnan(series.values), np.nan, series.values), axis=0)
        fig.add_trace(
            go.Scatter(
                x=series.steps,
                y=median,
                name=label,
                legendgroup=label,
                mode="lines",
                line={"color": colour(i), "width": 2},
            ),
            row=1,
            col=1,
        )
        last = series.values[:, _last_filled(series.values)]
        depth = np.linspace(0, 1, len(series.layers)) if len(series.layers) > 1 else np.zeros(1)
        idx = thin_index(len(depth), 200)
        fig.add_trace(
            go.Scatter(
                x=depth[idx],
                y=last[idx],
                name=label,
                legendgroup=label,
                showlegend=False,
                mode="lines+markers",
                line={"color": colour(i)},
                customdata=np.array(series.layers, dtype=object)[idx],
                hovertemplate="%{customdata}<br>%{y:.3g}<extra>" + label + "</extra>",
            ),
            row=1,
            col=2,
        )
    if not drawn:
        return None
    log = stat in LOG_STATS
    fig.update_yaxes(type="log" if log else "linear", title_text=stat)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="relative depth (0 = input, 1 = output)", row=1, col=2)
    return styled(fig, f"{stat}: {drawn} runs compared", height=420)


def _last_filled(values: np.ndarray) -> int:
    """Index of the last step column with any value."""
    filled = np.flatnonzero(~np.isnan(values).all(axis=0))
    return int(filled[-1]) if len(filled) else values.shape[1] - 1
