"""Several runs overlaid on one signal: a scalar curve, or a per-layer statistic shown
both over time (median over layers) and across depth (at each run's last step)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import LOG_STATS, role_of, thin_index
from inspector.figures.curves import line_traces, scalar_points
from inspector.figures.lines import XAxis, gapped, mean_spread, seed_groups, x_title, x_values
from inspector.figures.theme import MAX_COLUMNS, log_axis, run_colours, styled
from inspector.store.stats import stat_spec
from inspector.store.stats import title as stat_title


def comparable_signals(readers: dict) -> tuple[list[str], list[str]]:
    """(scalar names, per-layer stat names) present in at least one of the runs."""
    scalars: set[str] = set()
    stats: set[str] = set()
    for reader in readers.values():
        scalars.update(reader.scalar_names())
        stats.update(reader.stat_names())
    return sorted(scalars), sorted(stats)


def compare_runs(
    readers: dict,
    stat: str,
    smoothing: float = 0.0,
    x: str = XAxis.STEP,
    group_seeds: bool = False,
) -> go.Figure | None:
    """Overlay ``stat`` for each run (label -> reader). None when no run has it.

    Each run keeps the colour of its id (``theme.run_colours``). Scalars can be smoothed
    (EMA), drawn against wall time, and runs that differ only in their seed folded into
    one mean line with a min..max band (``group_seeds``)."""
    if not readers:
        return None
    if any(stat in r.scalar_names() for r in readers.values()):
        return _compare_scalar(readers, stat, smoothing, x, group_seeds)
    return _compare_layer_stat(readers, stat)


def _colours(readers: dict) -> dict[str, str]:
    by_id = run_colours([r.id for r in readers.values()])
    return {label: by_id[r.id] for label, r in readers.items()}


def _compare_scalar(
    readers: dict, name: str, smoothing: float, x: str, group_seeds: bool
) -> go.Figure:
    fig = go.Figure()
    colours = _colours(readers)
    groups = seed_groups({label: r.meta for label, r in readers.items()}) if group_seeds else []
    grouped = {label for g in groups if len(g) > 1 for label in g}
    for group in (g for g in groups if len(g) > 1):
        series = [scalar_points(readers[label], name) for label in group]
        series = [(s, v) for s, v in series if len(s)]
        if not series:
            continue
        steps, mean, lo, hi = mean_spread(series)
        first = readers[group[0]]
        xs = x_values(first, steps, x)
        label = f"{group[0]} +{len(group) - 1} seeds (mean, min..max)"
        col = colours[group[0]]
        gx, ghi = gapped(xs, hi)
        _, glo = gapped(xs, lo)
        fig.add_trace(
            go.Scatter(x=gx, y=ghi, mode="lines", line={"width": 0}, showlegend=False,
                       hoverinfo="skip", legendgroup=label)
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=gx, y=glo, mode="lines", line={"width": 0}, fill="tonexty",
                       fillcolor=_translucent(col), showlegend=False, hoverinfo="skip",
                       legendgroup=label)
        )  # fmt: skip
        for trace in line_traces(xs, mean, label, col, smoothing, group=label):
            fig.add_trace(trace)
    for label, reader in readers.items():
        if label in grouped:
            continue
        steps, values = scalar_points(reader, name)
        if len(steps):
            xs = x_values(reader, steps, x)
            for trace in line_traces(xs, values, label, colours[label], smoothing):
                fig.add_trace(trace)
    fig.update_xaxes(title_text=x_title(x))
    fig.update_yaxes(title_text=name)
    if name in LOG_STATS:
        log_axis(fig)
    return styled(fig, f"{name}: {len(readers)} runs", height=400)


def _translucent(col: str, alpha: float = 0.18) -> str:
    r, g, b = (int(col[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _compare_layer_stat(readers: dict, stat: str) -> go.Figure | None:
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            f"median {stat_title(stat)} over layers, per step",
            f"{stat_title(stat)} by relative depth, last step",
        ),
    )
    drawn = 0
    colours = _colours(readers)
    for label, reader in readers.items():
        series = reader.series(stat, role=role_of(stat), max_steps=MAX_COLUMNS)
        if not series.layers or np.isnan(series.values).all():
            continue
        drawn += 1
        with np.errstate(all="ignore"):
            median = np.nanmedian(np.where(np.isnan(series.values), np.nan, series.values), axis=0)
        gx, gy = gapped(series.steps, median)
        fig.add_trace(
            go.Scatter(
                x=gx,
                y=gy,
                name=label,
                legendgroup=label,
                mode="lines+markers",
                marker={"size": 4},
                connectgaps=False,
                line={"color": colours[label], "width": 2},
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
                line={"color": colours[label]},
                customdata=np.array(series.layers, dtype=object)[idx],
                hovertemplate="%{customdata}<br>%{y:.3g}<extra>" + label + "</extra>",
            ),
            row=1,
            col=2,
        )
    if not drawn:
        return None
    fig.update_yaxes(title_text=stat_spec(stat).label)
    if stat in LOG_STATS:
        log_axis(fig)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="relative depth (0 = input, 1 = output)", row=1, col=2)
    return styled(fig, f"{stat}: {drawn} runs compared", height=420)


def _last_filled(values: np.ndarray) -> int:
    """Index of the last step column with any value."""
    filled = np.flatnonzero(~np.isnan(values).all(axis=0))
    return int(filled[-1]) if len(filled) else values.shape[1] - 1
