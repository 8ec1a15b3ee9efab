"""Gradient flow: per-layer gradient norms on a log axis, and a layer x step heatmap.

Vanishing layers (tiny next to the last layers) and exploding ones (huge next to them, or
not finite) are coloured so the eye finds them at once, by the diagnosis' own thresholds.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from inspector.diagnosis.gradient_scale import classify_norms
from inspector.figures.access import (
    nearest_step,
    role_of,
    safe_log10,
    short_names,
)
from inspector.figures.theme import (
    EXPLODING,
    MAX_COLUMNS,
    OK,
    SEQUENTIAL,
    VANISHING,
    VANISHING_EDGE,
    decade_colorbar,
    log_axis,
    note_annotation,
    recorded_step_axis,
    step_labels,
    styled,
)
from inspector.store.records import FINDINGS


def classify(values: np.ndarray) -> list[str]:
    """'ok' | 'vanishing' | 'exploding' | 'missing' for each layer's gradient norm.

    The diagnosis' own definition (``inspector.diagnosis.gradient_scale``): a layer below
    ``vanishing_warn`` (1e-2) of the last layers' norm is vanishing, above ``exploding_warn``
    (1e2) times it exploding, so the colours agree with the vanishing-gradient finding."""
    return classify_norms(values)


def flagged_layers(reader) -> dict[str, str]:
    """Layers the diagnosis named in a vanishing/exploding finding (layer -> kind)."""
    doc = reader.record(*FINDINGS) or {}
    out: dict[str, str] = {}
    for f in doc.get("findings", []):
        rule = str(f.get("rule", ""))
        kind = "vanishing" if "vanish" in rule else "exploding" if "explod" in rule else None
        if kind:
            out.update({str(layer): kind for layer in f.get("layers", [])})
    return out


def _grad_stat(kind: str) -> str:
    """The norm statistic a gradient kind is drawn from."""
    if kind == "act":
        return "grad_norm"  # dLoss/d(layer output)
    if kind == "param":
        return "g_norm"  # each parameter's .grad
    raise ValueError(f"kind must be 'act' or 'param', not {kind!r}")


def gradient_norms_by_layer(reader, step: int | None = None, kind: str = "act") -> go.Figure | None:
    """The classic gradient-flow chart: one bar per layer at ``step`` (latest when None).

    ``kind='act'``: norm of dLoss/d(layer output); ``kind='param'``: norm of each
    parameter's .grad. Log y axis; vanishing/exploding layers coloured.
    """
    stat = _grad_stat(kind)
    chosen = nearest_step(reader.steps(), step)
    if chosen is None:
        return None
    values_at = reader.at_step(stat, chosen, role=role_of(stat))
    if not values_at:  # the chosen step lacks it (e.g. a no-grad step): try the series
        series = reader.series(stat, role=role_of(stat))
        if not series.layers:
            return None
        col = int(np.argmin(np.abs(series.steps - chosen)))
        chosen = int(series.steps[col])
        values_at = dict(zip(series.layers, series.values[:, col]))
    names = list(values_at)
    labels = short_names(names)
    values = np.array([values_at[n] for n in names], dtype=float)
    status = classify(values)
    flagged = flagged_layers(reader)
    status = [flagged.get(n, s) if s == "ok" else s for n, s in zip(names, status)]
    positive = values[np.isfinite(values) & (values > 0)]
    floor = positive.min() / 10 if len(positive) else 1e-12
    shown = np.where(np.isfinite(values) & (values > 0), values, floor)
    fill = {"ok": OK, "vanishing": VANISHING, "exploding": EXPLODING, "missing": "#ddd"}
    edge = {"ok": OK, "vanishing": VANISHING_EDGE, "exploding": EXPLODING, "missing": "#999"}
    fig = go.Figure()
    for state in ("ok", "vanishing", "exploding", "missing"):
        idx = [i for i, s in enumerate(status) if s == state]
        if not idx:
            continue
        fig.add_trace(
            go.Bar(
                x=[labels[i] for i in idx],
                y=shown[idx],
                name=state,
                marker={"color": fill[state], "line": {"color": edge[state], "width": 1}},
                customdata=np.array([[names[i], values[i]] for i in idx], dtype=object),
                hovertemplate="%{customdata[0]}<br>norm %{customdata[1]:.3g}<extra>"
                + state
                + "</extra>",
            )
        )
    if kind == "act":
        lo, hi = reader.at_step("grad_min", chosen), reader.at_step("grad_max", chosen)
        peak = [max(abs(lo.get(n, np.nan)), abs(hi.get(n, np.nan))) for n in names]
        if np.isfinite(peak).any():
            fig.add_trace(
                go.Scatter(
                    x=labels,
                    y=peak,
                    mode="markers",
                    name="max |g|",
                    marker={"symbol": "line-ew-open", "size": 14, "color": "#333"},
                )
            )
    fig.update_xaxes(
        categoryorder="array",
        categoryarray=labels,
        title_text="layer (forward order)",
        tickangle=-45,
    )
    label = "activation gradient ‖dL/da‖" if kind == "act" else "parameter gradient ‖∂L/∂w‖"
    fig.update_yaxes(title_text=label)
    log_axis(fig)
    fig = styled(fig, f"Gradient flow at step {chosen}", height=440, barmode="overlay")
    n_bad = sum(s in ("vanishing", "exploding") for s in status)
    if n_bad:
        note_annotation(fig, f"{n_bad} of {len(names)} layers vanishing/exploding")
    return fig


def gradient_heatmap(reader, stat: str = "grad_norm") -> go.Figure | None:
    """log10 of a per-layer statistic, layers (rows, forward order) x recorded steps
    (columns: one per recorded step, nothing drawn between or past them)."""
    series = reader.series(stat, role=role_of(stat), max_steps=MAX_COLUMNS)
    if not series.layers or series.values.size == 0:
        return None
    z = safe_log10(series.values)
    if np.isnan(z).all():
        return None
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 3),
            x=step_labels(series.steps),
            y=short_names(series.layers),
            colorscale=SEQUENTIAL,
            colorbar=decade_colorbar(z, stat),
            customdata=np.array([[name] * len(series.steps) for name in series.layers]),
            hovertemplate="%{customdata}<br>step %{x}<br>" + stat + " 10^%{z:.2f}<extra></extra>",
            xgap=0,
        )
    )
    fig.update_yaxes(autorange="reversed", title_text="layer (input at top)", type="category")
    recorded_step_axis(fig, series.steps)
    height = max(320, min(900, 80 + 14 * len(series.layers)))
    fig = styled(fig, f"{stat} per layer over recorded steps", height=height, legend=False)
    total = len(reader.steps())
    if total > len(series.steps):
        note_annotation(fig, f"showing {len(series.steps)} of {total} recorded steps")
    return fig
