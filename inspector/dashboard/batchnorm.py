"""BatchNorm: each BN layer's input vs output distribution (densities on one value axis),
batch vs running statistics, and the same-depth layer of the most comparable run without
BN (same model family) drawn on the same axis."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import commands, data, state
from inspector.figures.batchnorm import bn_versus_plain, matching_layer
from inspector.figures.bn_partner import describe, family_without_bn, rank_partners
from inspector.text_safety import escape_markdown as md


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
            "This run has no BatchNorm layers. Pick a run with BN in the sidebar, or make "
            f"one with `{commands.run_command(data.root().resolve(), commands.FIRST_MODEL)}`; "
            "Activations shows this run's distributions."
        )
        return
    steps = [int(s) for s in data.query("steps", ctx.path)]
    c1, c2 = st.columns([2, 3])
    layer = c1.selectbox("BatchNorm layer", bn)
    step = c2.select_slider("Step", options=steps, value=steps[-1]) if len(steps) > 1 else None
    state.show(
        data.figure("bn_pre_post", ctx.path, layer, step),
        f"No input/output histograms recorded for `{layer}`.",
        key="bn_prepost",
    )
    side_by_side(ctx, layer, step)
    state.show(
        data.figure("bn_gaps", ctx.path),
        "No batch-vs-running statistics recorded (bn_mean_gap / bn_var_gap).",
        key="bn_gaps",
    )


def side_by_side(ctx: state.RunContext, layer: str, step: int | None) -> None:
    st.subheader("Beside the same model without BatchNorm")
    meta = data.helper("meta", ctx.path)
    others = {r["id"]: r for r in data.runs(str(data.root())) if r["id"] != ctx.id}
    without = {
        i: data.helper("meta", r["path"])
        for i, r in others.items()
        if not data.helper("bn_layers", r["path"])
    }
    ranked = rank_partners(meta, without)
    family = family_without_bn(meta)
    fair = [i for i, score in ranked if score >= 0]
    if not fair:
        suggestion = (
            commands.run_command(data.root().resolve(), commands.NO_BN_MODEL)
            if family == commands.NO_BN_MODEL
            else None
        )
        state.note(
            f"No run of the same model family (`{family}`) without BatchNorm under this root, "
            "so there is no fair comparison. "
            + (
                f"Make one with `{suggestion}`."
                if suggestion
                else "Train the same model without BN (same settings) to see both here."
            )
        )
        if not ranked:
            return
    ids = [i for i, _ in ranked]
    other_id = st.selectbox(
        "Run without BN (most comparable first)",
        ids,
        index=0 if fair else None,
        placeholder="pick a run of another family…",
        format_func=lambda i: f"{i} · {describe(without[i])}",
    )
    if other_id is None:
        return
    other = others[other_id]
    match = matching_layer(data.reader(ctx.path), layer, data.reader(other["path"]))
    st.caption(
        f"**{ctx.id}**: {md(describe(meta))} · **{other_id}**: {md(describe(without[other_id]))}"
        f" · {md(layer)} normalises the output of the layer before it; {md(match)} is that layer "
        "in the run without BN (same type, same position)."
    )
    fig = bn_versus_plain(
        data.reader(ctx.path), layer, data.reader(other["path"]), match, step
    )  # two readers: not cached through data.figure, cheap (three histogram rows)
    state.show(fig, "No comparable layer in that run.", key="bn_side")
