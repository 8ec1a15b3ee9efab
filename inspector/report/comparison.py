"""Sections that span runs: the comparison of several runs and a study's grid."""

from __future__ import annotations

from typing import Any

from inspector import figures as figs
from inspector.report.html_parts import Section, draw, heading, note, paragraph, table_html
from inspector.report.inputs import run_label
from inspector.report.study_table import study_grid_rows
from inspector.store import RunReader
from inspector.store.catalog import summarize_run
from inspector.store.stats import Showcase, showcase

COMPARE_STATS = ["loss", "accuracy", "test_accuracy", *showcase(Showcase.REPORT_COMPARE)]


def comparison(readers: list[RunReader]) -> Section:
    s = Section("comparison", "Comparison of runs")
    s.add(table_html(figs.run_rows([summarize_run(r) for r in readers])))
    by_label = {run_label(r): r for r in readers}
    for stat in COMPARE_STATS:
        s.add(draw(figs.compare_runs, by_label, stat))
    return s


def study_section(study: Any, readers: list[RunReader], missing: list[str]) -> Section:
    s = Section("study", f"Study {study.id}")
    settings = getattr(study, "settings", {}) or {}
    desc = ", ".join(f"{k}={v}" for k, v in settings.items())
    s.add(
        paragraph(
            f"Kind: {getattr(study, 'kind', '?')}; {desc}; headline metric: "
            f"{getattr(study, 'headline', '-')}; {len(study.cells)} cells."
        )
    )
    s.add(draw(figs.study_heatmap, study, missing="The study has no finished cells to map yet."))
    s.add(heading("Grid", 3))
    rows = study_grid_rows(study)
    s.add(table_html(rows, cls="table grid") if rows else note("The study has no cells yet."))
    if missing:
        s.add(note(f"Runs not found for {len(missing)} cell(s): {', '.join(missing)}."))
    by_label = {run_label(r): r for r in readers}
    if by_label:
        s.add(draw(figs.study_curves, study, by_label, scalar="loss"))
    return s
