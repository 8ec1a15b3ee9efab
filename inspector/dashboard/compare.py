"""Compare: two or more runs overlaid on any recorded signal (a scalar such as loss, or a
per-layer statistic over time and across depth)."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import data, state
from inspector.figures.lines import XAxis
from inspector.store.stats import STATS, Showcase, showcase
from inspector.store.stats import title as stat_title

# offered first: the training scalars, then the catalogue's headline statistics
PREFERRED = ["loss", "accuracy", "test_accuracy", *showcase(Showcase.COMPARE)]


def _signal_label(name: str) -> str:
    """Catalogued statistics by their title (name in brackets); scalars by name."""
    return f"{stat_title(name)} ({name})" if name in STATS else name


def render() -> None:
    ctx = state.page(
        "Compare",
        "Several runs on one chart: scalars over steps, per-layer "
        "statistics over time (median over layers) and across depth.",
    )
    if ctx is None:
        return
    rows = sorted(data.runs(str(data.root())), key=lambda r: r.get("created") or 0, reverse=True)
    ids = [r["id"] for r in rows]
    default = [i for i in st.session_state.get(state.COMPARE_KEY, []) if i in ids]
    if not default:
        default = [ctx.id] + [i for i in ids if i != ctx.id][:1]
    chosen = st.multiselect("Runs", ids, default=default)
    if len(chosen) < 2:
        state.note("Pick at least two runs to compare (or select them on the Runs page).")
        if not chosen:
            return
    paths = {r["id"]: r["path"] for r in rows if r["id"] in chosen}
    scalars, stats = set(), set()
    for p in paths.values():
        s, t = data.helper("comparable", p)
        scalars.update(s)
        stats.update(t)
    options = [o for o in PREFERRED if o in scalars | stats]
    options += sorted((scalars | stats) - set(options))
    if not options:
        state.note("These runs have nothing recorded to compare yet.")
        return
    c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
    signal = c1.selectbox("Signal", options, format_func=_signal_label)
    smoothing = c2.slider("Smoothing (EMA)", 0.0, 0.99, 0.0, 0.01, key="compare_smoothing")
    x_axis = c3.radio("x axis", list(XAxis), key="compare_x")
    group = c4.toggle(
        "Group seeds",
        value=False,
        help="Runs that differ only in their seed as one mean line with a min..max band",
    )
    state.show(
        data.compare_figure(paths, signal, smoothing, str(x_axis), group),
        f"None of these runs recorded `{signal}`.",
        key="compare",
    )
    state.report_button(list(paths.values()), "comparison", "Download comparison report")
