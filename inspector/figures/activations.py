"""Activations over time: per-layer histograms (bins x steps), moments, and the
fractions that say a layer stopped learning (saturated, dead, exactly zero)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from inspector.figures.access import short_names, thin_index
from inspector.figures.lines import gapped
from inspector.figures.theme import (
    HIST_SCALE,
    MAX_COLUMNS,
    MAX_POINTS,
    SEQUENTIAL,
    colour,
    note_annotation,
    recorded_step_axis,
    step_labels,
    styled,
)
from inspector.probes.bins import bin_labels
from inspector.store.reader import HIST_SCALE as KIND_SCALE
from inspector.store.stats import histogram_title
from inspector.store.stats import title as stat_title

KIND_TITLES = {
    kind: f"{histogram_title(kind)}s" for kind in ("act", "norm_in", "grad", "param_grad")
}
LINES_UP_TO = 12  # more layers than this: a heatmap instead of one line per layer


def histogram_matrix(reader, layer: str, kind: str = "act", limit: int = MAX_COLUMNS):
    """(steps, labels, fractions[bins x steps], total steps) thinned to ``limit`` steps and trimmed to the
    bins that ever hold anything; None when the layer has no histograms of that kind."""
    if layer not in reader.layers_by_name() or kind not in reader.hist_kinds(layer):
        return None
    steps, _, counts = reader.histogram(layer, kind)
    if len(steps) == 0:
        return None
    total = len(steps)
    idx = thin_index(total, limit)
    steps, counts = steps[idx], counts[idx].astype(float)
    totals = counts.sum(axis=1, keepdims=True)
    frac = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    labels = bin_labels(KIND_SCALE[kind])
    used = np.flatnonzero(counts.sum(axis=0) > 0)
    if len(used):
        lo, hi = max(0, used[0] - 1), min(len(labels), used[-1] + 2)
        frac, labels = frac[:, lo:hi], labels[lo:hi]
    return steps, labels, frac.T, total


def activation_histogram_heatmap(reader, layer: str, kind: str = "act") -> go.Figure | None:
    """One layer's distribution over time: bins (rows, labelled by probes.bins) x steps.

    Colour is log10 of the fraction of sampled elements per bin, so both a spike at zero
    and thin tails stay visible."""
    data = histogram_matrix(reader, layer, kind)
    if data is None:
        return None
    steps, labels, frac, total = data
    z = np.where(frac > 0, np.log10(np.where(frac > 0, frac, 1.0)), np.nan)
    ticks = [-4, -3, -2, -1, 0]
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 2),
            x=step_labels(steps),
            y=labels,
            colorscale=HIST_SCALE,
            zmin=-4,
            zmax=0,
            colorbar={
                "title": {"text": "share"},
                "tickvals": ticks,
                "ticktext": ["0.01%", "0.1%", "1%", "10%", "100%"],
            },
            customdata=np.round(frac * 100, 3),
            hovertemplate="step %{x}<br>bin %{y}<br>%{customdata:.2f}% of elements<extra></extra>",
        )
    )
    axis = "value (symlog bins)" if KIND_SCALE[kind] == "value" else "log10 |g| bins"
    fig.update_yaxes(title_text=axis, type="category")
    recorded_step_axis(fig, steps)
    fig = styled(
        fig,
        f"{layer}: distribution of {KIND_TITLES.get(kind, kind)} over time",
        height=460,
        legend=False,
    )
    if total > len(steps):
        note_annotation(fig, f"showing {len(steps)} of {total} steps")
    return fig


def activation_fractions(reader, stat: str = "act_sat_frac") -> go.Figure | None:
    """A fraction statistic per layer over time: lines for few layers, a heatmap for many."""
    series = reader.series(stat, role="module", max_steps=MAX_COLUMNS)
    if not series.layers or np.isnan(series.values).all():
        return None
    labels = short_names(series.layers)
    title = stat_title(stat).capitalize()
    if len(series.layers) <= LINES_UP_TO:
        fig = go.Figure()
        for i, (name, label) in enumerate(zip(series.layers, labels)):
            gx, gy = gapped(series.steps, series.values[i])
            fig.add_trace(
                go.Scatter(
                    x=gx,
                    y=gy,
                    name=label,
                    mode="lines+markers",
                    marker={"size": 4},
                    connectgaps=False,
                    line={"color": colour(i), "width": 2},
                    hovertemplate=name + "<br>step %{x}<br>%{y:.1%}<extra></extra>",
                )
            )
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text="fraction")
        fig.update_xaxes(title_text="step")
        return styled(fig, title, height=380)
    fig = go.Figure(
        go.Heatmap(
            z=np.round(series.values, 4),
            x=step_labels(series.steps),
            y=labels,
            customdata=np.array([[n] * len(series.steps) for n in series.layers]),
            zmin=0,
            zmax=1,
            colorscale=SEQUENTIAL,
            colorbar={"title": {"text": "fraction"}, "tickformat": ".0%"},
            hovertemplate="%{customdata}<br>step %{x}<br>%{z:.1%}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category", title_text="layer")
    recorded_step_axis(fig, series.steps)
    return styled(fig, title, height=max(320, min(900, 80 + 14 * len(labels))), legend=False)


def activation_moments(reader, layer: str) -> go.Figure | None:
    """Mean, mean ± std and the min..max range of one layer's output over steps."""
    if layer not in reader.layers_by_name():
        return None
    steps, mean = reader.layer_series(layer, "act_mean")
    if len(steps) == 0:
        return None
    idx = thin_index(len(steps), MAX_POINTS)
    _, std = reader.layer_series(layer, "act_std")
    _, lo = reader.layer_series(layer, "act_min")
    _, hi = reader.layer_series(layer, "act_max")
    x, mean = steps[idx], mean[idx]
    gx, _ = gapped(x, mean)  # NaN rows inserted inside unrecorded stretches

    def g(values: np.ndarray) -> np.ndarray:
        return gapped(x, values)[1]

    fig = go.Figure()
    if len(lo) == len(steps) and len(hi) == len(steps):
        fig.add_trace(
            go.Scatter(
                x=gx,
                y=g(hi[idx]),
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=gx,
                y=g(lo[idx]),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(76,120,168,0.12)",
                name="min..max",
            )
        )
    if len(std) == len(steps):
        s = std[idx]
        fig.add_trace(
            go.Scatter(
                x=gx,
                y=g(mean + s),
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=gx,
                y=g(mean - s),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(76,120,168,0.35)",
                name="mean ± std",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=gx, y=g(s), mode="lines", name="std", line={"color": "#ff7f0e", "dash": "dot"}
            )
        )
    fig.add_trace(
        go.Scatter(
            x=gx,
            y=g(mean),
            mode="lines+markers",
            marker={"size": 4},
            name="mean",
            line={"color": "#1f3b73", "width": 2},
        )
    )
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="activation value")
    return styled(fig, f"{layer}: activation moments", height=380)
