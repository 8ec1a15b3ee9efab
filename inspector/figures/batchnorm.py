"""BatchNorm: what normalisation does to a layer's distribution, and how far the batch
statistics stray from the running ones used at evaluation."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import bn_layers, nearest_step, short_names, thin_index
from inspector.figures.lines import gapped
from inspector.figures.theme import MAX_COLUMNS, OK, POST, PRE, colour, styled
from inspector.probes.bins import edges_for

PLAIN = OK  # the run without BN


def _hist_at(reader, layer: str, kind: str, step: int | None):
    """(step, counts) of ``layer``'s ``kind`` histogram at the recorded step nearest ``step``."""
    if layer not in reader.layers_by_name() or kind not in reader.hist_kinds(layer):
        return None
    steps, _, counts = reader.histogram(layer, kind)
    chosen = nearest_step(steps, step)
    if chosen is None:
        return None
    return chosen, counts[int(np.flatnonzero(steps == chosen)[0])].astype(float)


def _moment(reader, layer: str, stat: str, step: int) -> float | None:
    value = reader.at_step(stat, step).get(layer)
    return None if value is None or not np.isfinite(value) else float(value)


def density(counts: np.ndarray, kind: str = "value") -> tuple[np.ndarray, np.ndarray, dict]:
    """(edges, density per closed bin, shares) of a fixed-edge histogram.

    The bins are unequal (symlog), so a bar per bin misdraws the shape: density is the
    bin's share of elements divided by its true width. The two open-ended bins and the
    central bin around zero (it also holds exact zeros, a spike of zero width) are left
    out of the curve and reported as shares instead."""
    edges = edges_for(kind)
    total = max(float(counts.sum()), 1.0)
    share = counts / total
    closed = share[1:-1]  # bins between consecutive interior edges
    dens = closed / np.diff(edges)
    zero = int(np.searchsorted(edges, 0.0)) - 1  # closed bin holding 0 (symlog: the centre)
    shares = {"below": float(share[0]), "above": float(share[-1]), "zero": 0.0}
    if kind == "value" and 0 <= zero < len(dens):
        shares["zero"] = float(closed[zero])
        dens = dens.copy()
        dens[zero] = np.nan
    return edges, dens, shares


def merged(edges: np.ndarray, dens: np.ndarray, min_width: float):
    """Adjacent bins joined until each is at least ``min_width`` wide (mass kept: the
    joined density is the width-weighted mean), so the symlog bins of a few thousandths
    near zero, each holding a handful of samples, do not draw as noise spikes."""
    out_edges, out_dens = [edges[0]], []
    mass = width = 0.0
    for i, d in enumerate(dens):
        w = edges[i + 1] - edges[i]
        if not np.isfinite(d):  # the zero bin stays its own gap
            if width > 0:
                out_edges.append(edges[i])
                out_dens.append(mass / width)
            out_edges.append(edges[i + 1])
            out_dens.append(np.nan)
            mass = width = 0.0
            continue
        mass, width = mass + d * w, width + w
        if width >= min_width or i == len(dens) - 1:
            out_edges.append(edges[i + 1])
            out_dens.append(mass / width)
            mass = width = 0.0
    return np.array(out_edges), np.array(out_dens)


def _density_trace(
    counts: np.ndarray, name: str, col: str, dash: str = "solid", min_width: float = 0.0
) -> go.Scatter:
    edges, dens, shares = density(counts)
    if min_width > 0:
        edges, dens = merged(edges, dens, min_width)
    x = np.append(edges[:-1], edges[-1])  # left edges, then the last right edge
    y = np.append(dens, dens[-1])
    y = np.where(np.isfinite(y) & (y > 0), y, np.nan)
    extra = [
        f"{v:.0%} {k}"
        for k, v in (
            ("below range", shares["below"]),
            ("above range", shares["above"]),
            ("≈ 0", shares["zero"]),
        )
        if v >= 0.005
    ]
    label = name + (f" ({', '.join(extra)})" if extra else "")
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        line={"shape": "hv", "color": col, "width": 2, "dash": dash},
        fill="tozeroy",
        fillcolor=_translucent(col),
        connectgaps=False,
        name=label,
        hovertemplate="value %{x:.3g}<br>density %{y:.3g}<extra>" + name + "</extra>",
    )


def _translucent(col: str, alpha: float = 0.15) -> str:
    r, g, b = (int(col[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _x_range(rows: list[np.ndarray]) -> list[float] | None:
    """The value range the closed bins in use cover, over every histogram drawn."""
    edges = edges_for("value")
    used = np.flatnonzero(np.sum([r[1:-1] for r in rows], axis=0) > 0)
    if not len(used):
        return None
    return [float(edges[used[0]]), float(edges[used[-1] + 1])]


def bn_pre_post(reader, layer: str, step: int | None = None) -> go.Figure | None:
    """A norm layer's input and output distributions at one step, as densities on the true
    bin widths, on one shared value axis."""
    pre = _hist_at(reader, layer, "norm_in", step)
    post = _hist_at(reader, layer, "act", step if pre is None else pre[0])
    if pre is None or post is None:
        return None
    chosen = pre[0]
    fig = go.Figure()
    for (_, counts), name, col, prefix in (
        (pre, "input (before norm)", PRE, "in"),
        (post, "output (after norm)", POST, "act"),
    ):
        mean = _moment(reader, layer, f"{prefix}_mean", chosen)
        std = _moment(reader, layer, f"{prefix}_std", chosen)
        if mean is not None and std is not None:
            name = f"{name}: mean {mean:.3g}, std {std:.3g}"
        fig.add_trace(_density_trace(counts, name, col, min_width=_min_width([pre[1], post[1]])))
    _density_axes(fig, [pre[1], post[1]])
    return styled(fig, f"{layer}: input vs output at step {chosen}", height=420)


def bn_versus_plain(
    reader, layer: str, other, other_layer: str | None, step: int | None = None
) -> go.Figure | None:
    """This run's BN layer input and output beside the comparable layer of a run without BN
    (``other_layer`` of ``other``), at the same (nearest recorded) step, on one value axis."""
    pre = _hist_at(reader, layer, "norm_in", step)
    post = _hist_at(reader, layer, "act", step if pre is None else pre[0])
    if post is None:
        return None
    chosen = post[0]
    theirs = _hist_at(other, other_layer, "act", chosen) if other_layer else None
    fig = go.Figure()
    rows = [r[1] for r in (pre, post, theirs) if r is not None]
    width = _min_width(rows)
    if pre is not None:
        label = f"{reader.id} · {layer} input"
        fig.add_trace(_density_trace(pre[1], label, PRE, "dot", min_width=width))
    fig.add_trace(
        _density_trace(post[1], f"{reader.id} · {layer} output (BN)", POST, min_width=width)
    )
    if theirs is not None:
        label = f"{other.id} · {other_layer} output (no BN, step {theirs[0]})"
        fig.add_trace(_density_trace(theirs[1], label, PLAIN, min_width=width))
    _density_axes(fig, rows)
    return styled(fig, f"With vs without BatchNorm at step {chosen}", height=440)


def _min_width(rows: list[np.ndarray], columns: int = 80) -> float:
    """About ``columns`` drawn bins across the shared value range."""
    span = _x_range(rows)
    return 0.0 if span is None else (span[1] - span[0]) / columns


def _density_axes(fig: go.Figure, rows: list[np.ndarray]) -> None:
    fig.update_xaxes(title_text="value", range=_x_range(rows), zeroline=True)
    fig.update_yaxes(title_text="density (share / bin width)", rangemode="tozero")


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
            gx, gy = gapped(series.steps[idx], values[idx])
            fig.add_trace(
                go.Scatter(
                    x=gx,
                    y=gy,
                    mode="lines+markers",
                    marker={"size": 4},
                    connectgaps=False,
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
