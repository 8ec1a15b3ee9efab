"""Activations: one layer's histogram over time (bins x steps), its moments, and the
saturation / dead-unit / zero fractions of every layer over time."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import data, state
from inspector.store.stats import Showcase, absent_note, short_title, showcase

KINDS = {"act": "outputs", "grad": "output gradients", "norm_in": "inputs of norm layers"}
FRACTIONS = showcase(Showcase.FRACTIONS)


def render() -> None:
    ctx = state.page(
        "Activations",
        "Distributions per layer over time: saturation shows as mass "
        "piling at the asymptotes, dead ReLUs as a spike at zero.",
    )
    if ctx is None:
        return
    layers = data.helper("module_layers", ctx.path)
    if not layers:
        state.note("No layers recorded for this run yet.")
        return
    c1, c2 = st.columns([3, 2])
    layer = c1.selectbox("Layer", layers)
    kinds = [k for k in KINDS if k in data.query("hist_kinds", ctx.path, layer)] or ["act"]
    kind = c2.radio("Histogram of", kinds, format_func=KINDS.get, horizontal=True)

    def charts() -> None:
        state.show(
            data.figure("activation_histogram_heatmap", ctx.path, layer, kind),
            f"No {KINDS[kind]} histograms recorded for layer `{layer}`.",
            key="act_hist",
        )
        state.show(
            data.figure("activation_moments", ctx.path, layer),
            f"No activation moments recorded for layer `{layer}`.",
            key="act_moments",
        )

    state.live(ctx, charts)
    st.subheader("Fractions over time, every layer")
    tabs = st.tabs([short_title(stat) for stat in FRACTIONS])
    for tab, stat in zip(tabs, FRACTIONS):
        with tab:
            state.show(
                data.figure("activation_fractions", ctx.path, stat),
                absent_note(stat),
                key=f"frac_{stat}",
            )
