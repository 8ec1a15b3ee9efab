"""Runs: every run under the runs root with status, model, data, steps and headline
metrics; filter, then pick one to open or several to compare."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import data, nav, state
from inspector.figures import run_rows


def _open(run_id: str) -> None:
    state.select_run(run_id)


def _compare(run_ids: list[str]) -> None:
    st.session_state[state.COMPARE_KEY] = list(run_ids)


def render() -> None:
    ctx = state.page("Runs", f"Runs under {data.root().resolve()}")
    if ctx is None:
        return
    rows = run_rows(data.runs(str(data.root())))
    c1, c2 = st.columns([3, 2])
    text = c1.text_input("Filter", placeholder="run id, model, data or study contains…")
    statuses = sorted({r["status"] for r in rows})
    chosen = c2.multiselect("Status", statuses, default=statuses)
    if text:
        needle = text.lower()
        rows = [
            r
            for r in rows
            if any(needle in str(r[k]).lower() for k in ("run", "model", "data", "study"))
        ]
    rows = [r for r in rows if r["status"] in chosen]
    if not rows:
        state.note("No run matches the filter.")
        return
    event = st.dataframe(
        [{k: v for k, v in r.items() if k != "path"} for r in rows],
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        key="runs_table",
        column_config={
            "loss": st.column_config.NumberColumn(format="%.4f"),
            "accuracy": st.column_config.NumberColumn(format="%.3f"),
            "test accuracy": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    picked = [rows[i]["run"] for i in (event.selection.rows if event else [])]
    st.caption(
        f"{len(rows)} runs · select rows to open one or compare several · current run: **{ctx.id}**"
    )
    if not picked:
        return
    c1, c2 = st.columns(2)
    with c1:
        if st.button(
            f"Open {picked[0]}",
            on_click=_open,
            args=(picked[0],),
            icon=":material/open_in_new:",
        ):
            nav.go("overview")
    with c2:
        if len(picked) > 1 and st.button(
            f"Compare {len(picked)} runs",
            on_click=_compare,
            args=(picked,),
            icon=":material/compare_arrows:",
        ):
            nav.go("compare")
