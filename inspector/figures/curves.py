"""Training curves: loss and accuracy over steps (train batch and evaluation)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import thin_index
from inspector.figures.lines import XAxis, ema, gapped, x_title, x_values
from inspector.figures.theme import MAX_POINTS, TEST, TRAIN, styled

CURVES = (
    ("loss", 1, "train loss", TRAIN, "solid"),
    ("test_loss", 1, "test loss", TEST, "solid"),
    ("accuracy", 2, "train accuracy", TRAIN, "solid"),
    ("test_accuracy", 2, "test accuracy", TEST, "solid"),
)
SPARSE = 30  # fewer points than this: every point gets a marker


def scalar_points(reader, name: str, limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """A scalar's (steps, values), thinned evenly to ``limit`` points for display."""
    steps, values = reader.scalar(name)
    idx = thin_index(len(steps), limit)
    return steps[idx], values[idx]


def line_traces(
    x: np.ndarray,
    y: np.ndarray,
    name: str,
    colour: str,
    smoothing: float = 0.0,
    dash: str = "solid",
    group: str | None = None,
    hover: str = "",
) -> list[go.Scatter]:
    """One curve: markers when sparse, gaps over unrecorded stretches; with ``smoothing``
    the EMA line in full colour over the raw line drawn faint (as TensorBoard does)."""
    sparse = len(x) < SPARSE
    raw_x, raw_y = gapped(x, y)
    common = {"legendgroup": group or name, "connectgaps": False}
    tip = (hover or name) + "<br>%{x:.4g}: %{y:.4g}<extra></extra>"
    if smoothing <= 0:
        return [
            go.Scatter(
                x=raw_x,
                y=raw_y,
                name=name,
                mode="lines+markers" if sparse else "lines",
                line={"color": colour, "dash": dash, "width": 2},
                marker={"size": 5},
                hovertemplate=tip,
                **common,
            )
        ]
    sx, sy = gapped(x, ema(y, smoothing))
    return [
        go.Scatter(
            x=raw_x,
            y=raw_y,
            name=f"{name} (raw)",
            showlegend=False,
            mode="lines",
            line={"color": colour, "width": 1},
            opacity=0.25,
            hoverinfo="skip",
            **common,
        ),
        go.Scatter(
            x=sx,
            y=sy,
            name=name,
            mode="lines+markers" if sparse else "lines",
            line={"color": colour, "dash": dash, "width": 2},
            marker={"size": 5},
            hovertemplate=tip.replace("%{y:.4g}", "%{y:.4g} (smoothed)"),
            **common,
        ),
    ]


def loss_accuracy(reader, smoothing: float = 0.0, x: str = XAxis.STEP) -> go.Figure | None:
    """Loss (left) and accuracy (right) over steps or wall time; None when no
    loss/accuracy was logged. ``smoothing`` (0..1) smooths the train curves only."""
    names = set(reader.scalar_names())
    present = [c for c in CURVES if c[0] in names]
    if not present:
        return None
    has_acc = any(c[1] == 2 for c in present)
    cols = 2 if has_acc else 1
    titles = ("loss", "accuracy")[:cols]
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.1)
    for name, col, label, col_colour, dash in present:
        steps, values = scalar_points(reader, name)
        xs = x_values(reader, steps, x)
        weight = 0.0 if name.startswith("test_") else smoothing
        for trace in line_traces(xs, values, label, col_colour, weight, dash, group=name):
            fig.add_trace(trace, row=1, col=min(col, cols))
    fig.update_xaxes(title_text=x_title(x))
    if has_acc:
        fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    return styled(fig, "Loss and accuracy", height=360)
