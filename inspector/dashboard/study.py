"""Study: the depth x variant grid of a study as a heatmap of one metric; select cells to
see their runs' curves (all cells' curves when nothing is selected)."""

from __future__ import annotations

import streamlit as st

from inspector.dashboard import commands, data, state
from inspector.figures.study import runs_in_cell, scalar_metrics, study_heatmap
from inspector.text_safety import escape_markdown as md

HOWTO = """\
**No studies yet.** A study trains a grid of runs (depths x plain/residual x norm x
activation) and ranks their trainability:

```bash
{study}
{demo}  # includes a small study
```
"""


def render() -> None:
    st.title("Study")
    st.caption("Depth vs trainability, with and without residuals and normalisation.")
    root = str(data.root())
    rows = data.runs(root)
    if rows:
        state.sidebar(rows)
    studies = data.studies(root)
    if not studies:
        where = data.root().resolve()
        text = HOWTO.format(study=commands.study_command(where), demo=commands.demo_command(where))
        st.info(text, icon=":material/lightbulb:")
        return
    studies = list(reversed(studies))  # newest first
    by_id = {s["id"]: s for s in studies}
    study_id = st.selectbox("Study", list(by_id))
    study = by_id[study_id]
    settings = study.get("settings") or {}
    st.caption(
        md(" · ".join(f"{k}: {v}" for k, v in settings.items())) + f" · {len(study['cells'])} cells"
    )
    metrics = scalar_metrics(study)
    headline = study.get("headline") or "final_loss"
    if not metrics:
        state.note("No cell of this study has finished yet.")
        return
    metric = st.selectbox(
        "Metric", metrics, index=metrics.index(headline) if headline in metrics else 0
    )
    # Not through st.cache_data: its first result is the object itself, later ones unpickled
    # copies whose JSON differs, so the chart's element id changed once and the first
    # selection was lost. The figure is cheap to build.
    fig = study_heatmap(study, metric)
    if fig is None:
        state.note(f"No cell has a value for `{metric}` yet.")
        return
    event = st.plotly_chart(
        fig,
        key="study_heatmap",
        on_select="rerun",
        selection_mode=("points", "box"),
        config={"displaylogo": False},
    )
    run_paths = {r["id"]: r["path"] for r in data.runs(root)}
    selected = _selected_runs(study, event)
    ids = selected or [c["run_id"] for c in study["cells"] if c.get("run_id")]
    paths = {i: run_paths[i] for i in ids if i in run_paths}
    missing = [i for i in ids if i not in run_paths]
    cells = _selected_cells(event)
    st.subheader(
        f"Curves of the {len(cells)} selected cell{'s' if len(cells) != 1 else ''}"
        if selected
        else "Curves of every cell (click or box-select cells in the heatmap to narrow down)"
    )
    if selected:
        st.caption(" · ".join(f"{y}, {x}" for y, x in cells))
    scalar = st.radio("Curve", ["loss", "accuracy", "test_accuracy"], horizontal=True)
    state.show(
        data.study_curves(study, paths, scalar) if paths else None,
        "None of these cells' runs are in the runs root.",
        key="study_curves",
    )
    if missing:
        st.caption(f"{len(missing)} runs not found under the runs root: {', '.join(missing[:5])}")
    with st.expander("Cells"):
        st.dataframe(
            [
                {
                    **(c.get("config") or {}),
                    "run": c.get("run_id"),
                    "status": c.get("status"),
                    metric: (c.get("metrics") or {}).get(metric),
                }
                for c in study["cells"]
            ],
            hide_index=True,
            width="stretch",
        )
    state.report_button(
        [], f"study-{study_id}", "Download study report", study=study.get("path") or study_id
    )


def _points(event) -> list[dict]:
    try:
        return list(event.selection.points) if event else []
    except AttributeError:
        return []


def _selected_cells(event) -> list[tuple[str, str]]:
    """(depth label, variant) of each selected heatmap cell, in selection order."""
    return list(dict.fromkeys((str(p.get("y")), str(p.get("x"))) for p in _points(event)))


def _selected_runs(study: dict, event) -> list[str]:
    out: list[str] = []
    for p in _points(event):
        for run_id in runs_in_cell(study, str(p.get("y")), str(p.get("x"))):
            if run_id not in out:
                out.append(run_id)
    return out
