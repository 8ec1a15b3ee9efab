"""What every view shares: the page header, the empty state, the run picked in the
sidebar (kept in session state and the URL), notes for missing data, live refresh, and
the report download spot."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from inspector.dashboard import commands, data
from inspector.report import build_html_report
from inspector.text_safety import escape_markdown as md

RUN_KEY = "inspector_run"  # the run every view shows (plain session state)
PICKER_KEY = "inspector_run_picker"  # the sidebar selectbox
COMPARE_KEY = "inspector_compare"  # runs chosen on the Runs page for Compare
UNKNOWN_KEY = "inspector_unknown_run"  # a ?run= that names no run (said on the page)
LIVE_EVERY = "3s"  # refresh period of a running run's charts

HOWTO = """\
**No runs yet** in `{root}`.

Make one, then come back (this page refreshes on its own):

```bash
{demo}  # a few small runs + a study
{run}  # one run
```

Or record your own training loop with `with inspector.watch(model) as rec: ... rec.step(loss=loss)`
(pass `root="{root}"` to `watch` so the run lands here). Watch another folder with
`{other}`.
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
    root = data.root().resolve()
    text = HOWTO.format(
        root=root,
        demo=commands.demo_command(root),
        run=commands.run_command(root),
        other=commands.dashboard_command("DIR"),
    )
    st.info(text, icon=":material/lightbulb:")
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
    st.session_state.pop(UNKNOWN_KEY, None)


def current_run_id(ids: list[str]) -> str:
    """The run the session shows: the one picked, else ``?run=`` when it exists, else the
    newest (and an unknown ``?run=`` is remembered so the page can say so)."""
    picked = st.session_state.get(RUN_KEY)
    if picked in ids:
        return picked
    asked = st.query_params.get("run")
    if asked in ids:
        return asked
    if asked and picked is None:
        st.session_state[UNKNOWN_KEY] = asked
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
    unknown = st.session_state.get(UNKNOWN_KEY)
    if unknown:
        st.warning(
            f"No run {md(unknown)} under `{data.root().resolve()}`: showing the newest run, "
            f"`{current}`, instead. Pick one in the sidebar.",
            icon=":material/search_off:",
        )
    with st.sidebar:
        picked = st.selectbox(
            "Run",
            ids,
            key=PICKER_KEY,
            on_change=_picked,
            format_func=lambda i: f"{i} · {by_id[i].get('model')} · {by_id[i].get('status')}",
            help="Newest first: run id · model · status",
        )
        st.session_state[RUN_KEY] = picked
        if st.query_params.get("run") != picked:
            st.query_params["run"] = picked
        summary = by_id[picked]
        status = data.status(summary["path"])
        every = LIVE_EVERY if status == "running" else None
        st.fragment(lambda: _run_caption(summary), run_every=every)()
        report_button([summary["path"]], picked)
    return RunContext(picked, summary["path"], summary, status)


def fresh_summary(run_id: str, fallback: dict) -> dict:
    """The run's summary as listed now (a live run's steps and metrics move)."""
    return next((r for r in data.runs(str(data.root())) if r["id"] == run_id), fallback)


def _run_caption(summary: dict) -> None:
    """Full id (the picker may cut it), model, status, data and step count; refreshed."""
    now = fresh_summary(summary["id"], summary)
    status = data.status(summary["path"])
    st.caption(
        f"`{now['id']}`  \n{md(now.get('model'))} · {STATUS_BADGE.get(status, status)} · "
        f"{md(now.get('data'))} · {now.get('steps')} steps"
    )


# ---- Download report: inspector.report.build_html_report --------------------------------
def report_button(
    paths: list[str], stem: str, label: str = "Download report", study: str | None = None
) -> None:
    """A download button for the HTML report of these runs (or a study); the report is
    built only when clicked."""
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
