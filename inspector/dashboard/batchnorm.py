"""BatchNorm: each BN layer's input vs output distribution, batch vs running statistics,
and beside it a run without BN (picked by the user) at the same depth."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import data, state
from inspector.figures.batchnorm import matching_layer


def render() -> None:
    ctx = state.page(
        "BatchNorm",
        "What normalisation does to each layer's distribution, and "
        "whether batch statistics drift from the running ones used at test time.",
    )
    if ctx is None:
        return
    bn = data.helper("bn_layers", ctx.path)
    if not bn:
        state.note(
            "This run has no BatchNorm layers. Pick a run with BN in the sidebar (e.g. "
            "`inspector run --model bn_lenet --data shapes`) to see this view; Activations "
            "shows this run's distributions."
        )
        return
    steps = [int(s) for s in data.query("steps", ctx.path)]
    c1, c2 = st.columns([2, 3])
    layer = c1.selectbox("BatchNorm layer", bn)
    step = c2.select_slider("Step", options=steps, value=steps[-1]) if len(steps) > 1 else None
    state.show(
        data.figure("bn_pre_post", ctx.path, layer, step),
        f"No pre/post histograms recorded for `{layer}`.",
        key="bn_prepost",
    )
    state.show(
        data.figure("bn_gaps", ctx.path),
        "No batch-vs-running statistics recorded (bn_mean_gap / bn_var_gap).",
        key="bn_gaps",
    )
    side_by_side(ctx, layer)


def side_by_side(ctx: state.RunContext, layer: str) -> None:
    st.subheader("Beside a run without BatchNorm")
    others = [r for r in data.runs(str(data.root())) if r["id"] != ctx.id]
    without = [r["id"] for r in others if not data.helper("bn_layers", r["path"])]
    if not without:
        state.note(
            "No run without BatchNorm to compare with. Train the same model without BN "
            "(e.g. `inspector run --model lenet5 --data shapes`) to see both side by side."
        )
        return
    other_id = st.selectbox("Run without BN", without)
    other = next(r for r in others if r["id"] == other_id)
    match = matching_layer(data.reader(ctx.path), layer, data.reader(other["path"]))
    left, right = st.columns(2)
    with left:
        st.caption(f"**{ctx.id}** · `{layer}` output (normalised)")
        state.show(
            data.figure("activation_histogram_heatmap", ctx.path, layer, "act"),
            f"No histograms for `{layer}`.",
            key="bn_left",
        )
    with right:
        st.caption(f"**{other_id}** · `{match}` output (same depth, no BN)")
        state.show(
            data.figure("activation_histogram_heatmap", other["path"], match, "act")
            if match
            else None,
            "No comparable layer in that run.",
            key="bn_right",
        )
