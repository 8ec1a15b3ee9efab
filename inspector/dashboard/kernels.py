"""Kernels: the learned filters of a conv layer, with a slider over the recorded steps."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import commands, data, state


def render() -> None:
    ctx = state.page(
        "Kernels",
        "Filters should turn from noise into edges and blobs as a "
        "network learns; ones that stay noisy or die out point to trouble.",
    )
    if ctx is None:
        return
    layers = data.helper("kernel_layers", ctx.path)
    if not layers:
        state.note(
            "No kernel snapshots in this run (they are saved for conv layers by the "
            "training harness, e.g. "
            f"`{commands.run_command(data.root().resolve(), commands.NO_BN_MODEL)}`)."
        )
        return
    layer = st.selectbox("Conv layer", layers)
    steps = data.helper("kernel_steps", ctx.path, layer)
    step = (
        st.select_slider("Snapshot step", options=steps, value=steps[-1])
        if len(steps) > 1
        else None
    )
    state.show(
        data.figure("kernel_grid", ctx.path, layer, step),
        f"No kernels stored for `{layer}`.",
        key="kernels",
    )
