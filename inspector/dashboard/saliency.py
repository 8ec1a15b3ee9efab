"""Saliency: the probe images with each method's map overlaid, labels and predictions,
and whether each method can be trusted (randomisation check, share inside the object)."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import commands, data, state


def render() -> None:
    ctx = state.page(
        "Saliency",
        "Where does the model look? Maps that barely change when the "
        "weights are randomised do not explain this model.",
    )
    if ctx is None:
        return
    if not data.helper("saliency_methods", ctx.path):
        state.note(
            "No saliency maps in this run (they are computed at the end of a harness run "
            "on image data, e.g. "
            f"`{commands.run_command(data.root().resolve(), commands.NO_BN_MODEL)}`)."
        )
        return
    count = st.slider("Images", 1, 8, 4)
    state.show(
        data.figure("saliency_grid", ctx.path, count),
        "No probe images stored for this run.",
        key="saliency_grid",
    )
    for method, why in (data.helper("blank_methods", ctx.path) or {}).items():
        state.note(f"**{method}** maps are blank: {why}.")
    summary = data.helper("saliency_summary", ctx.path) or {}
    labels, preds = summary.get("labels") or [], summary.get("predictions") or []
    names = summary.get("class_names") or []
    if labels and preds:

        def cls(i):
            return names[i] if isinstance(i, int) and 0 <= i < len(names) else i

        st.dataframe(
            [
                {"image": i, "label": cls(y), "predicted": cls(p), "correct": y == p}
                for i, (y, p) in enumerate(zip(labels, preds))
            ],
            hide_index=True,
        )
    st.subheader("Trust")
    state.show(
        data.figure("saliency_trust", ctx.path),
        "No trust scores recorded for this run.",
        key="saliency_trust",
    )
