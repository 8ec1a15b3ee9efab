"""BatchNorm: what normalisation does to a layer's distribution, and how far the batch
statistics stray from the running ones used at evaluation."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import bn_layers, nearest_step, short_names, thin_index
from inspector.figures.theme import MAX_COLUMNS, POST, PRE, colour, styled
from probes.bins import bin_labels


def _hist_at(reader, layer: str, kind: str, step: int | None):
    if kind not in reader.hist_kinds(layer):
        return None
    steps, _, counts = reader.histogram(layer, kind)
    chosen = nearest_step(steps, step)
    if chosen is None:
        return None
    row = counts[int(np.flatnonzero(steps == chosen)[0])].astype(float)
    return chosen, row / max(row.sum(), 1.0)


def _moment(reader, layer: str, stat: str, step: int) -> float | None:
    value = reader.at_step(stat, step).get(layer)
    return None if value is None or not np.isfinite(value) else float(value)


def bn_pre_post(reader, layer: str, step: int | None = None) -> go.Figure | None:
    """A norm layer's input (pre) and output (post) histograms at one step, overlaid."""
    if layer not in reader.layers_by_name():
        return None
    pre = _hist_at(reader, layer, "norm_in", step)
    post = _hist_at(reader, layer, "act", step if pre is None else pre[0])
    if pre is None or post is None:
        return None
    chosen = pre[0]
    labels = bin_labels("value")
    used = np.flatnonzero((pre[1] + post[1]) > 0)
    lo, hi = (max(0, used[0] - 1), min(len(labels), used[-1] + 2)) if len(used) else (0, 0)
    fig = go.Figure()
    for (_, frac), name, col, prefix in (
        (pre, "pre-norm input", PRE, "in"),
        (post, "post-norm output", POST, "act"),
    ):
        mean = _moment(reader, layer, f"{prefix}_mean", chosen)
        std = _moment(reader, layer, f"{prefix}_std", chosen)
        label = name if mean is None or std is None else f"{name} (mean {mean:.3g}, std {std:.3g})"
        fig.add_trace(
            go.Bar(
                x=labels[lo:hi],
                y=frac[lo:hi],
                name=label,
                marker={"color": col},
                opacity=0.6,
                hovertemplate="bin %{x}<br>%{y:.1%}<extra>" + name + "</extra>",
            )
        )
    fig.update_xaxes(title_text="value (symlog bins)", type="category", tickangle=-45)
    fig.update_yaxes(title_text="share of elements", tickformat=".0%")
    return styled(
        fig,
        f"{layer}: before vs after normalisation at step {chosen}",
        height=420,
        barmode="overlay",
        bargap=0.05,
    )


def bn_gaps(reader) -> go.Figure | None:
    """Batch vs running statistics per BN layer over time: mean gap and log-variance gap."""
    mean_gap = reader.series("bn_mean_gap", role="module", max_steps=MAX_COLUMNS)
    var_gap = reader.series("bn_var_gap", role="module", max_steps=MAX_COLUMNS)
    if not mean_gap.layers and not var_gap.layers:
        return None
    order = [n for n in bn_layers(reader) if n in set(mean_gap.layers) | set(var_gap.layers)]
    order += [n for n in mean_gap.layers + var_gap.layers if n not in order]
    labels = dict(zip(order, short_names(order)))
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=(
            "|batch mean − running mean| / running std",
            "|log(batch var / running var)|",
        ),
    )
    for col, series in ((1, mean_gap), (2, var_gap)):
        for name, values in zip(series.layers, series.values):
            i = order.index(name)
            idx = thin_index(len(series.steps), MAX_COLUMNS)
            fig.add_trace(
                go.Scatter(
                    x=series.steps[idx],
                    y=values[idx],
                    mode="lines",
                    name=labels[name],
                    legendgroup=name,
                    showlegend=col == 1,
                    line={"color": colour(i)},
                    hovertemplate=name + "<br>step %{x}<br>%{y:.3g}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(rangemode="tozero")
    return styled(fig, "BatchNorm: batch statistics vs running statistics", height=380)


def matching_layer(reader, layer: str, other) -> str | None:
    """The layer of ``other`` (a run without BN) that plays the part of ``layer``'s input.

    A BN layer normalises the output of the layer before it (say the k-th Conv2d); the
    comparable signal in a run without BN is that run's k-th Conv2d output. Falls back to
    the layer at the same relative depth."""
    mine = reader.layers(role="module")
    theirs = other.layers(role="module")
    names = [lay.name for lay in mine]
    if layer not in names or not theirs:
        return None
    i = names.index(layer)
    if i > 0:
        before = mine[i - 1]
        k = sum(1 for lay in mine[: i - 1] if lay.type == before.type)
        same_type = [lay.name for lay in theirs if lay.type == before.type]
        if k < len(same_type):
            return same_type[k]
    fraction = i / max(len(names) - 1, 1)
    return theirs[int(round(fraction * (len(theirs) - 1)))].name
