"""One look for every figure: colours, fonts, sizes, and the thresholds charts highlight.

The dashboard and the HTML report share these builders, so a chart reads the same in both.
"""

from __future__ import annotations

import zlib

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

# Gradient-flow highlighting uses the diagnosis' one definition (inspector.diagnosis.gradient_scale).

# At most this many step columns / points are drawn; long runs are thinned evenly.
MAX_COLUMNS = 400
MAX_POINTS = 1000


# Run colours: 24 distinct ones (plotly's Dark24), picked from the run id so a run keeps
# its colour across views and reports, whatever else is on the chart.
RUN_PALETTE = [
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86",
    "#EB663B", "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE",
    "#862A16", "#A777F1", "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
]  # fmt: skip


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def run_slot(run_id: str) -> int:
    """The run's preferred palette slot: a stable hash of its id (not Python's hash())."""
    return zlib.crc32(str(run_id).encode("utf-8")) % len(RUN_PALETTE)


def run_colours(run_ids: list[str]) -> dict[str, str]:
    """A colour per run: its own slot, or on a clash the next free one (ids taken in sorted
    order, so the same set always gets the same colours); distinct up to 24 runs."""
    taken: set[int] = set()
    out: dict[str, str] = {}
    for run_id in sorted(set(map(str, run_ids))):
        slot = run_slot(run_id)
        for k in range(len(RUN_PALETTE)):
            if (slot + k) % len(RUN_PALETTE) not in taken or len(taken) >= len(RUN_PALETTE):
                slot = (slot + k) % len(RUN_PALETTE)
                break
        taken.add(slot)
        out[run_id] = RUN_PALETTE[slot]
    return {str(i): out[str(i)] for i in run_ids}


def styled(
    fig: go.Figure, title: str, height: int = 420, legend: bool = True, **layout
) -> go.Figure:
    """Apply the shared layout; returns the same figure for chaining."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 16}},
        template="plotly_white",
        font={"family": FONT, "size": 12},
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        showlegend=legend,
        # beside the plot, never over the title however many entries (plotly widens the
        # right margin to fit it)
        legend={
            "orientation": "v",
            "yanchor": "top",
            "y": 1,
            "xanchor": "left",
            "x": 1.02,
            "font": {"size": 11},
        },
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


def log_axis(fig: go.Figure, axis: str = "y", **where) -> None:
    """A log axis with readable ticks: one per decade, written 10^k (never 2e-5, 5e-5...)."""
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(type="log", dtick=1, exponentformat="power", showexponent="all", **where)


def step_labels(steps) -> list[str]:
    """Recorded steps as category labels: a heatmap gets one equal column per recorded step
    (no column stretched over unrecorded steps, none past the run's end)."""
    return [str(int(s)) for s in steps]


def recorded_step_axis(fig: go.Figure, steps, **where) -> None:
    """The x axis of a layer x step heatmap: categories in step order, ~12 ticks."""
    labels = step_labels(steps)
    every = max(1, len(labels) // 12)
    fig.update_xaxes(
        type="category",
        categoryorder="array",
        categoryarray=labels,
        tickvals=labels[::every],
        title_text="recorded step",
        **where,
    )


def decade_colorbar(z, title: str) -> dict:
    """Colour bar of a heatmap whose z is log10 of a value: ticks at whole decades, 10^k."""
    import numpy as np

    finite = np.asarray(z, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return {"title": {"text": title}}
    lo, hi = int(np.floor(finite.min())), int(np.ceil(finite.max()))
    step = max(1, (hi - lo) // 8)
    ticks = list(range(lo, hi + 1, step))
    return {
        "title": {"text": title},
        "tickvals": ticks,
        "ticktext": [_power(t) for t in ticks],
    }


_SUPER = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power(k: int) -> str:
    return "1" if k == 0 else "10" if k == 1 else "10" + str(k).translate(_SUPER)
