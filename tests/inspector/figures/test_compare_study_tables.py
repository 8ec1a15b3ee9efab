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
from inspector.store.records import ARCHITECTURE, FINDINGS

REPO = Path(__file__).resolve().parents[3]


def test_compare_runs_scalar_and_layer_stat(full, bare):
    readers = {"full": full, "bare": bare}
    fig = F.compare_runs(readers, "loss")
    assert [t.name for t in fig.data] == ["full", "bare"]
    np.testing.assert_allclose(fig.data[0].y, full.scalar("loss")[1])
    fig = F.compare_runs(readers, "grad_norm")
    assert len(fig.data) == 4 and fig.layout.yaxis.type == "log"  # 2 runs x 2 panels
    assert F.compare_runs(readers, "bn_mean_gap").data  # only one run has it
    assert F.compare_runs(readers, "nothing") is None
    assert F.compare_runs({}, "loss") is None


@pytest.fixture(scope="module")
def study(runs_root, fixture_runs):
    return fixture_runs.the_study(runs_root)


def test_study_heatmap_depth_by_variant(study):
    fig = F.study_heatmap(study)
    trace = fig.data[0]
    assert list(trace.y) == ["depth 2", "depth 8"]
    assert list(trace.x) == ["skip=none", "skip=residual"]
    z = np.asarray(trace.z, dtype=float)
    expected = np.full((2, 2), np.nan)
    for cell in study.finished_cells():
        row = [2, 8].index(cell["config"]["depth"])
        expected[row, ["none", "residual"].index(cell["config"]["skip"])] = cell["metrics"][
            "final_loss"
        ]
    np.testing.assert_allclose(z, expected)
    assert np.isnan(z[1, 1])  # the depth-8 residual cell is still pending
    cell = study.cell({"depth": 2, "skip": "residual", "norm": "none", "act": "tanh", "seed": 0})
    assert runs_in_cell(study, "depth 2", "skip=residual") == [cell["run_id"]]
    assert "findings.error" in scalar_metrics(study)
    accuracy = F.study_heatmap(study.to_dict(), "final_accuracy").data[0].z[0][0]
    assert accuracy == pytest.approx(study.cells[0]["metrics"]["final_accuracy"])


def test_study_curves_one_line_per_cell_with_a_run(study, runs_root):
    finished = study.finished_cells()
    readers = {c["run_id"]: open_run(runs_root / c["run_id"]) for c in finished[:2]}
    fig = F.study_curves(study, readers)
    labels = [f"depth={c['config']['depth']} skip={c['config']['skip']}" for c in finished[:2]]
    assert sorted(t.name for t in fig.data) == sorted(labels)
    assert F.study_curves(study, {}) is None
    for r in readers.values():
        r.close()


def test_findings_rows_worst_first(full, bare):
    stored = full.record(*FINDINGS)["findings"]
    rows = F.findings_rows(full)
    rank = {"error": 0, "warning": 1, "info": 2}
    severities = [r["severity"] for r in rows]
    assert len(set(severities)) >= 2  # the fixture run has more than one severity
    assert severities == sorted((f["severity"] for f in stored), key=rank.__getitem__)
    worst = next(f for f in stored if f["severity"] == severities[0])
    assert rows[0]["rule"] == worst["rule"] and rows[0]["view"] == worst["view"]
    for key, value in worst["evidence"].items():
        assert f"{key}=" in rows[0]["evidence"]
        if isinstance(value, float):
            assert f"{key}={value:.3g}" in rows[0]["evidence"]
    assert F.findings_rows(bare) == []


def test_architecture_rows_from_record_or_parameters(full, bare):
    table = full.record(*ARCHITECTURE)
    rows = F.architecture_rows(full)
    first = table["rows"][0]
    assert rows[0]["layer"] == first["name"] and rows[0]["type"] == "Conv2d"
    assert rows[0]["output shape"] == "×".join(map(str, first["output_shape"]))
    assert sum(r["params"] for r in rows) == table["totals"]["params"]
    fallback = F.architecture_rows(bare)
    by_layer = {r["layer"]: r["params"] for r in fallback}
    conv = next(layer.name for layer in bare.layers(role="module") if layer.type == "Conv2d")
    assert by_layer[conv] == 4 * 9 + 4  # 4 filters of 1x3x3 + bias, from the recorded params


def test_run_rows(runs_root, study, fixture_runs):
    rows = F.run_rows(list_runs(runs_root))
    cells = {c["run_id"] for c in study.finished_cells()}
    assert {r["run"] for r in rows} == {
        fixture_runs.FULL,
        fixture_runs.BARE,
        fixture_runs.NOBN,
    } | cells
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
