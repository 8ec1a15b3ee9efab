"""Receptive field: theoretical size and jump per layer as depth grows, and the effective
receptive field map at init and at the end with the theoretical box drawn over it."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import commands, data, state


def render() -> None:
    ctx = state.page(
        "Receptive field",
        "How much of the input each layer can see in theory, "
        "and how much it actually uses (the effective receptive field).",
    )
    if ctx is None:
        return
    if data.helper("receptive_field_applies", ctx.path) is False:
        state.note(
            "Receptive fields do not apply to this model: it has no convolution or pooling "
            "layer, so every unit of its first fully connected layer already sees the whole "
            "input. Pick a convolutional run in the sidebar to use this view."
        )
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
            "at the start and the end of a harness run, e.g. "
            f"`{commands.run_command(data.root().resolve(), commands.NO_BN_MODEL)}`)."
        )
        return
    layer = st.selectbox("Layer", layers, index=len(layers) - 1)
    state.show(data.figure("erf_maps", ctx.path, layer), f"No ERF maps for `{layer}`.", key="erf")
