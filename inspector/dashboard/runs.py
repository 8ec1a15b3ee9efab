"""Runs: every run under the runs root with status, model, data, steps and headline
metrics; filter, then pick one to open or several to compare."""

from __future__ import annotations

import hashlib

import streamlit as st

from inspector.dashboard import data, nav, state
from inspector.figures import run_rows

PICKED_KEY = "inspector_runs_picked"  # run ids selected in the table, across filters


def _open(run_id: str) -> None:
    state.select_run(run_id)


def _compare(run_ids: list[str]) -> None:
    st.session_state[state.COMPARE_KEY] = list(run_ids)


def render() -> None:
    ctx = state.page("Runs", f"Runs under {data.root().resolve()}")
    if ctx is None:
        return
    rows = all_rows = run_rows(data.runs(str(data.root())))
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
    visible = [r["run"] for r in rows]
    known = {r["run"] for r in all_rows}
    before = [i for i in st.session_state.get(PICKED_KEY, []) if i in known]
    event = st.dataframe(
        [{k: v for k, v in r.items() if k != "path"} for r in rows],
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        # The selection is kept by run id, not by row position: a table per set of shown
        # rows, pre-selected from the ids picked so far, so filtering never moves it.
        key=table_key(visible),
        selection_default={
            "selection": {"rows": [visible.index(i) for i in before if i in visible]}
        },
        column_config={
            "run": st.column_config.TextColumn(pinned=True),
            "loss": st.column_config.NumberColumn(format="%.4f"),
            "accuracy": st.column_config.NumberColumn(format="%.3f"),
            "test accuracy": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    positions = event.selection.rows if event else []
    picked = merge_selection(before, visible, positions)
    st.session_state[PICKED_KEY] = picked
    st.caption(
        f"{len(rows)} runs shown · select rows to open one or compare several · current run: "
        f"**{ctx.id}**"
    )
    if not picked:
        return
    hidden = [i for i in picked if i not in visible]
    st.markdown(
        "**Selected:** "
        + ", ".join(f"`{i}`" for i in picked)
        + (f" ({len(hidden)} hidden by the filter)" if hidden else "")
    )
    c1, c2, c3 = st.columns(3)
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
    with c3:
        st.button("Clear selection", on_click=_clear, icon=":material/deselect:")


def table_key(visible: list[str]) -> str:
    """One widget per set of shown rows (positions never carry over to other runs)."""
    digest = hashlib.sha1("\n".join(visible).encode("utf-8")).hexdigest()[:12]
    return f"runs_table_{digest}"


def merge_selection(before: list[str], visible: list[str], positions: list[int]) -> list[str]:
    """The picked run ids: those picked earlier and now hidden by the filter, then the
    shown rows selected now (by position in ``visible``), without duplicates."""
    now = [visible[i] for i in positions if 0 <= i < len(visible)]
    kept = [i for i in before if i not in visible]
    return list(dict.fromkeys(kept + [i for i in before if i in now] + now))


def _clear() -> None:
    st.session_state[PICKED_KEY] = []
    for key in [k for k in st.session_state if str(k).startswith("runs_table_")]:
        del st.session_state[key]
