"""Comparison, study and table builders; and that figure/dashboard code never imports torch."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from inspector import figures as F
from inspector.figures.study import runs_in_cell, scalar_metrics
from inspector.store import list_runs, open_run

REPO = Path(__file__).resolve().parents[3]


def test_compare_runs_scalar_and_layer_stat(full, bare):
    readers = {"full": full, "bare": bare}
    fig = F.compare_runs(readers, "loss")
    assert [t.name for t in fig.data] == ["full", "bare"]
    np.testing.assert_allclose(fig.data[0].y, full.scalar("loss")[1])
    fig = F.compare_runs(readers, "grad_norm")
    assert len(fig.data) == 4 and fig.layout.yaxis.type == "log"
    assert F.compare_runs(readers, "bn_mean_gap").data  # only one run has it
    assert F.compare_runs(readers, "nothing") is None
    assert F.compare_runs({}, "loss") is None


@pytest.fixture(scope="module")
def study(runs_root):
    from inspector.study.store import list_studies

    return list_studies(runs_root)[0]


def test_study_heatmap_depth_by_variant(study):
    fig = F.study_heatmap(study)
    trace = fig.data[0]
    assert list(trace.y) == ["depth 2", "depth 4"]
    assert list(trace.x) == ["skip=none", "skip=residual"]
    z = np.asarray(trace.z, dtype=float)
    np.testing.assert_allclose(z[0], [0.6, 0.5])
    assert np.isnan(z[1, 1])  # no depth-4 residual cell
    assert runs_in_cell(study, "depth 2", "skip=residual") == ["nobn"]
    assert "findings.error" in scalar_metrics(study)
    assert F.study_heatmap(study.to_dict(), "final_accuracy").data[0].z[0][0] == 0.5


def test_study_curves_one_line_per_cell_with_a_run(study, runs_root):
    readers = {r: open_run(runs_root / r) for r in ("full", "bare")}
    fig = F.study_curves(study, readers)
    assert sorted(t.name for t in fig.data) == ["depth=2 skip=none", "depth=4 skip=none"]
    assert F.study_curves(study, {}) is None
    for r in readers.values():
        r.close()


def test_findings_rows_worst_first(full, bare):
    rows = F.findings_rows(full)
    assert [r["severity"] for r in rows] == ["error", "warning", "info"]
    assert rows[0]["view"] == "gradient_flow" and rows[0]["evidence"] == "ratio=1.2e-05"
    assert F.findings_rows(bare) == []


def test_architecture_rows_from_record_or_parameters(full, bare):
    rows = F.architecture_rows(full)
    assert rows[0]["layer"] == "0" and rows[0]["output shape"] == "4×12×12"
    fallback = F.architecture_rows(bare)
    by_layer = {r["layer"]: r["params"] for r in fallback}
    assert by_layer["0"] == 4 * 9 + 4  # conv weight + bias from the recorded params


def test_run_rows(runs_root):
    rows = F.run_rows(list_runs(runs_root))
    assert {r["run"] for r in rows} == {"full", "bare", "nobn"}
    assert all(r["status"] == "finished" for r in rows)
    assert {"loss", "accuracy", "test accuracy", "model", "data", "steps"} <= set(rows[0])


def test_every_exported_builder_exists():
    for name in (
        "loss_accuracy",
        "gradient_norms_by_layer",
        "gradient_heatmap",
        "activation_histogram_heatmap",
        "activation_fractions",
        "activation_moments",
        "bn_pre_post",
        "bn_gaps",
        "kernel_grid",
        "saliency_grid",
        "saliency_trust",
        "receptive_field_growth",
        "erf_maps",
        "compare_runs",
        "study_heatmap",
        "study_curves",
        "architecture_rows",
        "findings_rows",
        "run_rows",
    ):
        assert callable(getattr(F, name))
    assert isinstance(F.loss_accuracy, type(test_run_rows))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_figures_and_views_do_not_import_torch():
    files = [
        *(REPO / "inspector/figures").glob("*.py"),
        *(REPO / "inspector/dashboard").rglob("*.py"),
        REPO / "streamlit_app.py",
    ]
    assert len(files) > 20
    for path in files:
        imported = _imports(path)
        assert "torch" not in imported, path
        if "figures" in path.parts:
            assert "streamlit" not in imported, path
    assert go  # plotly is the only drawing library
