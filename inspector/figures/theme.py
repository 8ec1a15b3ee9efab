"""One look for every figure: colours, fonts, sizes, and the thresholds charts highlight.

The dashboard and the HTML report share these builders, so a chart reads the same in both.
"""

from __future__ import annotations

import plotly.graph_objects as go

FONT = "Inter, Segoe UI, Helvetica, Arial, sans-serif"
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]
OK = "#4c78a8"
VANISHING = "#9ecae9"
VANISHING_EDGE = "#2b6cb0"
EXPLODING = "#e45756"
MISSING = "#bab0ac"
TRAIN = "#1f77b4"
TEST = "#ff7f0e"
PRE = "#9467bd"
POST = "#2ca02c"
SEVERITY_COLOURS = {"error": "#d62728", "warning": "#ff9f1c", "info": "#4c78a8"}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

SEQUENTIAL = "Viridis"
DIVERGING = "RdBu_r"
HIST_SCALE = "Magma"

# Gradient-flow highlighting: a layer is "vanishing" when its gradient norm is below
# VANISH_RATIO x the largest layer's norm at that step (or below VANISH_ABS), "exploding"
# when above EXPLODE_RATIO x the median layer's norm (or above EXPLODE_ABS, or not finite).
VANISH_RATIO = 1e-3
VANISH_ABS = 1e-8
EXPLODE_RATIO = 1e3
EXPLODE_ABS = 1e4

# At most this many step columns / points are drawn; long runs are thinned evenly.
MAX_COLUMNS = 400
MAX_POINTS = 1000


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def styled(
    fig: go.Figure, title: str, height: int = 420, legend: bool = True, **layout
) -> go.Figure:
    """Apply the shared layout; returns the same figure for chaining."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        template="plotly_white",
        font={"family": FONT, "size": 12},
        height=height,
        margin={"l": 60, "r": 20, "t": 90 if legend else 60, "b": 50},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.07, "xanchor": "left", "x": 0},
        hovermode="closest",
        **layout,
    )
    return fig


def note_annotation(fig: go.Figure, text: str) -> None:
    """A small grey note under the title (e.g. 'showing 400 of 2000 steps')."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=1,
        y=1.0,
        xanchor="right",
        yanchor="bottom",
        showarrow=False,
        font={"size": 10, "color": "#777"},
    )
