"""What every view shares: the page header, the empty state, the run picked in the
sidebar (kept in session state and the URL), notes for missing data, live refresh, and
the report download spot."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from inspector.dashboard import data

RUN_KEY = "inspector_run"  # the run every view shows (plain session state)
PICKER_KEY = "inspector_run_picker"  # the sidebar selectbox
COMPARE_KEY = "inspector_compare"  # runs chosen on the Runs page for Compare
LIVE_EVERY = "3s"  # refresh period of a running run's charts

HOWTO = """\
**No runs yet** in `{root}`.

Make one, then come back (this page refreshes on its own):

```bash
inspector demo                                            # a few small runs + a study
inspector run --model lenet5_bn --data shapes --steps 300  # one run
```

Or record your own training loop with `with inspector.watch(model) as rec: ... rec.step(loss=loss)`.
Point the dashboard elsewhere with `inspector dashboard --runs-root DIR`.
"""

STATUS_BADGE = {
    "running": ":green[:material/play_circle:] running",
    "finished": ":green[:material/check_circle:] finished",
    "failed": ":red[:material/cancel:] failed",
    "interrupted": ":orange[:material/pause_circle:] interrupted",
}


@dataclass(frozen=True)
class RunContext:
    """The run a view shows."""

    id: str
    path: str
    summary: dict
    status: str

    @property
    def live(self) -> bool:
        return self.status == "running"


def page(title: str, caption: str | None = None) -> RunContext | None:
    """Title, sidebar run picker; None (after showing how to make a run) with no runs."""
    st.title(title)
    if caption:
        st.caption(caption)
    rows = data.runs(str(data.root()))
    if not rows:
        empty_state()
        return None
    return sidebar(rows)


def empty_state() -> None:
    st.info(HOWTO.format(root=data.root().resolve()), icon=":material/lightbulb:")
    st.fragment(lambda: _wait_for_runs(), run_every="5s")()


def _wait_for_runs() -> None:
    if data.runs(str(data.root())):
        st.rerun(scope="app")


def select_run(run_id: str) -> None:
    """Make ``run_id`` the current run (safe in widget callbacks)."""
    st.session_state[RUN_KEY] = run_id
    st.session_state[PICKER_KEY] = run_id


def _picked() -> None:
    st.session_state[RUN_KEY] = st.session_state[PICKER_KEY]


def current_run_id(ids: list[str]) -> str:
    for candidate in (st.session_state.get(RUN_KEY), st.query_params.get("run")):
        if candidate in ids:
            return candidate
    return ids[0]


def sidebar(rows: list[dict]) -> RunContext:
    """The run picker (newest first) with its status, and the report download spot."""
    rows = sorted(rows, key=lambda r: r.get("created") or 0, reverse=True)
    by_id = {r["id"]: r for r in rows}
    ids = list(by_id)
    current = current_run_id(ids)
    # RUN_KEY is the truth (widget state does not survive a page switch); the picker's
    # callback writes the user's choice there before the page runs.
    st.session_state[PICKER_KEY] = current
    with st.sidebar:
        picked = st.selectbox(
            "Run",
            ids,
            key=PICKER_KEY,
            on_change=_picked,
            format_func=lambda i: f"{i} · {by_id[i].get('model')} · {by_id[i].get('status')}",
        )
        st.session_state[RUN_KEY] = picked
        if st.query_params.get("run") != picked:
            st.query_params["run"] = picked
        summary = by_id[picked]
        status = data.status(summary["path"])
        st.caption(
            f"{STATUS_BADGE.get(status, status)} · {summary.get('data')} · "
            f"{summary.get('steps')} steps"
        )
        report_button([summary["path"]], picked)
    return RunContext(picked, summary["path"], summary, status)


# ---- Download report: helper G's inspector.report.build_html_report -----------------------
def report_button(
    paths: list[str], stem: str, label: str = "Download report", study: str | None = None
) -> None:
    """A download button for the HTML report of these runs (or a study), when
    inspector.report exists; the report is built only when clicked."""
    try:
        from inspector.report import build_html_report
    except ImportError:  # reports not installed in this checkout: no button
        return
    st.download_button(
        label,
        data=lambda: build_html_report(list(paths) or None, study=study, root=str(data.root())),
        file_name=f"{stem}-report.html",
        mime="text/html",
        icon=":material/download:",
        on_click="ignore",
        help="A self-contained HTML report (opens offline)",
    )


# ---------------------------------------------------------------------------------------------


def note(text: str) -> None:
    """A short note for data a run simply lacks (never an error)."""
    st.info(text, icon=":material/info:")


def show(fig, missing: str, key: str | None = None, **kwargs) -> object | None:
    """Draw a figure, or the note when the builder returned None."""
    if fig is None:
        note(missing)
        return None
    return st.plotly_chart(fig, key=key, config={"displaylogo": False}, **kwargs)


def live(ctx: RunContext, body: Callable[[], None]) -> None:
    """Run ``body`` in a fragment that reruns on its own while the run is running."""

    def refreshed() -> None:
        body()
        if ctx.live:
            now = data.status(ctx.path)
            st.caption(f"{STATUS_BADGE.get(now, now)} · refreshed {time.strftime('%H:%M:%S')}")
            if now != "running":
                st.rerun(scope="app")

    st.fragment(refreshed, run_every=LIVE_EVERY if ctx.live else None)()
