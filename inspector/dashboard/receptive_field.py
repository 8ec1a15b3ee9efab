"""Receptive field: theoretical size and jump per layer as depth grows, and the effective
receptive field map at init and at the end with the theoretical box drawn over it."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import data, state


def render() -> None:
    ctx = state.page(
        "Receptive field",
        "How much of the input each layer can see in theory, "
        "and how much it actually uses (the effective receptive field).",
    )
    if ctx is None:
        return
    state.show(
        data.figure("receptive_field_growth", ctx.path),
        "No receptive-field table in this run (computed for conv models at fit start).",
        key="rf_growth",
    )
    st.subheader("Effective receptive field")
    layers = data.helper("erf_layers", ctx.path)
    if not layers:
        state.note(
            "No effective receptive field maps in this run (computed for image models "
            "at the start and the end of `inspector run ...`)."
        )
        return
    layer = st.selectbox("Layer", layers, index=len(layers) - 1)
    state.show(data.figure("erf_maps", ctx.path, layer), f"No ERF maps for `{layer}`.", key="erf")
