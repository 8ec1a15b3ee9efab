"""Gradient flow: per-layer gradient norms at a chosen step on a log axis (activation or
parameter gradients), and a layer x step heatmap; vanishing/exploding layers coloured."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import data, state
from inspector.store.stats import Showcase, showcase
from inspector.store.stats import title as stat_title

KINDS = {"activation gradients ‖dL/da‖": "act", "parameter gradients ‖∂L/∂w‖": "param"}
HEATMAP_STATS = showcase(Showcase.GRADIENT_HEATMAP)


def render() -> None:
    ctx = state.page(
        "Gradient flow",
        "Does the gradient reach the first layers? Bars per layer "
        "on a log axis: pale blue = vanishing, red = exploding.",
    )
    if ctx is None:
        return
    steps = [int(s) for s in data.query("steps", ctx.path)]
    if not steps:
        state.note("This run has no recorded steps yet.")
        return
    c1, c2 = st.columns([2, 3])
    kind = KINDS[c1.radio("Gradient of", list(KINDS), horizontal=True)]
    follow = ctx.live and c2.toggle("follow the latest step", value=True)
    step = None
    if len(steps) > 1 and not follow:
        step = c2.select_slider("Step", options=steps, value=steps[-1])

    def bars() -> None:
        state.show(
            data.figure("gradient_norms_by_layer", ctx.path, step, kind),
            "No gradients recorded for this run (was backward() called in the watched steps?).",
            key="grad_bars",
        )

    state.live(ctx, bars)
    st.subheader("Over time")
    stat = st.selectbox("Statistic", HEATMAP_STATS, format_func=stat_title)
    state.show(
        data.figure("gradient_heatmap", ctx.path, stat),
        f"`{stat}` was not recorded for this run.",
        key="grad_heatmap",
    )
