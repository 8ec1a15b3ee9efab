"""Training curves: loss and accuracy over steps (train batch and evaluation)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from inspector.figures.access import thin_index
from inspector.figures.theme import MAX_POINTS, TEST, TRAIN, styled

CURVES = (
    ("loss", 1, "train loss", TRAIN, "solid"),
    ("test_loss", 1, "test loss", TEST, "solid"),
    ("accuracy", 2, "train accuracy", TRAIN, "solid"),
    ("test_accuracy", 2, "test accuracy", TEST, "solid"),
)


def scalar_points(reader, name: str, limit: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """A scalar's (steps, values), thinned evenly to ``limit`` points for display."""
    steps, values = reader.scalar(name)
    idx = thin_index(len(steps), limit)
    return steps[idx], values[idx]


def loss_accuracy(reader) -> go.Figure | None:
    """Loss (left) and accuracy (right) over steps; None when no loss/accuracy was logged."""
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
        sparse = len(steps) < 30 or name.startswith("test_")
        fig.add_trace(
            go.Scattergl(
                x=steps,
                y=values,
                name=label,
                mode="lines+markers" if sparse else "lines",
                line={"color": col_colour, "dash": dash, "width": 2},
                marker={"size": 5},
                legendgroup=name,
            ),
            row=1,
            col=min(col, cols),
        )
    fig.update_xaxes(title_text="step")
    if has_acc:
        fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    return styled(fig, "Loss and accuracy", height=360)
