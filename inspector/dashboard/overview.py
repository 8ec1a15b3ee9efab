"""Overview of one run: headline numbers, loss/accuracy curves (live), the diagnosis
findings worst first with a link to the view holding each one's evidence, the architecture."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import commands, data, nav, state
from inspector.figures.lines import XAxis
from inspector.figures.tables import SEVERITY_ICON
from inspector.text_safety import escape_markdown as md


def _fmt(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def render() -> None:
    ctx = state.page("Overview", "Why is this network learning, or not? Curves, findings, shape.")
    if ctx is None:
        return
    meta = data.helper("meta", ctx.path)
    model = meta.get("model") or {}
    problems = data.query("health", ctx.path)  # damaged records: say so, show the rest
    if problems:
        st.warning("Parts of this run could not be read: " + md("; ".join(problems[:6])))

    def curves() -> None:
        # inside the live fragment: headline numbers refresh with the curves
        now = state.fresh_summary(ctx.id, ctx.summary)
        cols = st.columns(5)
        cols[0].metric("model", now.get("model") or "?")
        cols[1].metric("parameters", f"{model.get('params', 0):,}" if model.get("params") else "–")
        cols[2].metric("final loss", _fmt(now.get("final_loss")))
        cols[3].metric("train accuracy", _fmt(now.get("final_accuracy"), 3))
        cols[4].metric("test accuracy", _fmt(now.get("test_accuracy"), 3))
        c1, c2 = st.columns([3, 2])
        smoothing = c1.slider(
            "Smoothing (EMA, as in TensorBoard; the raw curve stays faint)",
            0.0,
            0.99,
            0.6,
            0.01,
            key="overview_smoothing",
        )
        x_axis = c2.radio("x axis", list(XAxis), horizontal=True, key="overview_x")
        state.show(
            data.figure("loss_accuracy", ctx.path, smoothing=smoothing, x=str(x_axis)),
            "No loss or accuracy logged for this run (pass them to `rec.step(loss=...)`).",
            key="overview_curves",
        )

    state.live(ctx, curves)
    findings_section(ctx)
    st.subheader("Architecture")
    rows = data.figure("architecture_rows", ctx.path)
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")
        totals = data.helper("architecture_totals", ctx.path)
        if totals:
            st.caption(
                f"{totals.get('params', 0):,} parameters "
                f"({totals.get('trainable', 0):,} trainable, {totals.get('frozen', 0):,} "
                f"frozen) · {totals.get('mult_adds') or 0:,} mult-adds per sample"
            )
    else:
        state.note("No architecture table recorded for this run.")
    with st.expander("Run metadata"):
        st.json(
            {
                k: meta.get(k)
                for k in (
                    "id",
                    "created",
                    "status",
                    "model",
                    "data",
                    "hparams",
                    "device",
                    "environment",
                    "steps",
                )
                if k in meta
            },
            expanded=False,
        )


def findings_section(ctx: state.RunContext) -> None:
    st.subheader("Diagnosis")
    verdict, items = data.helper("findings", ctx.path)
    if verdict is None and not items:
        state.note(
            "No diagnosis recorded for this run yet (it is written when a run closes; "
            f"run `{commands.diagnose_command(data.root().resolve(), ctx.id)}` to add it)."
        )
        return
    if verdict:
        st.markdown(f"**Verdict:** {md(verdict)}")
    if not items:
        st.success("No problems found.")
    for f in items:
        severity = str(f.get("severity", "info"))
        with st.container(border=True):
            st.markdown(
                f"{SEVERITY_ICON.get(severity, '')} **{md(f.get('title') or f.get('rule'))}**"
                f" · {md(severity)} · rule {md(f.get('rule', ''))}"
            )
            if f.get("message"):  # names in findings come from users' models: shown literally
                st.markdown(md(f["message"], inline=False))
            details = []
            if f.get("layers"):
                details.append(
                    "layers: "
                    + ", ".join(map(str, f["layers"][:8]))
                    + (" …" if len(f["layers"]) > 8 else "")
                )
            if f.get("steps"):
                details.append("steps: " + ", ".join(map(str, f["steps"][:6])))
            if f.get("evidence"):
                details.append(
                    "evidence: "
                    + ", ".join(
                        f"{k}={_fmt(v) if isinstance(v, float) else v}"
                        for k, v in f["evidence"].items()
                    )
                )
            if details:
                st.caption(md(" · ".join(details)))
            if f.get("fix"):
                st.markdown(f"**Fix:** {md(f['fix'])}")
            view = f.get("view") or "overview"
            if view != "overview":
                nav.link(view, f"Evidence: {nav.VIEW_TITLES.get(view, view)} →", run=ctx.id)
