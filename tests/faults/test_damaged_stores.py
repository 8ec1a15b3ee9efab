"""Issue 13.7: one bad record never breaks everything.

A real run (the harness with its default callbacks: architecture, receptive field, ERF,
kernels, saliency, findings) is damaged in one way per case; the reader returns what is
readable and names what is not, and ``inspector ls`` / ``inspector report`` finish without a
traceback.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from inspector.cli import main
from inspector.errors import StoreError
from inspector.store import open_run
from inspector.store.schema import ARTIFACTS_DIR, DB_NAME

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    import torch
    from torch import nn

    from inspector.train import TrainConfig, train

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.LazyLinear(6),
    )
    root = tmp_path_factory.mktemp("pristine")
    result = train(
        model,
        "shapes",
        TrainConfig(steps=4, batch_size=16, every=1),
        run="good",
        root=root,
        quiet=True,
        meta={"model": {"name": "tiny_cnn"}},
    )
    assert result.status == "finished"
    return result.run_dir


def damaged(pristine: Path, tmp_path: Path, *sql: str) -> Path:
    """A copy of the pristine run with ``sql`` applied to its database."""
    target = tmp_path / "runs" / "bad"
    shutil.copytree(pristine, target)
    with sqlite3.connect(target / DB_NAME) as conn:
        for statement in sql:
            conn.execute(statement)
    conn.close()
    return target


def cli_is_clean(run_dir: Path, tmp_path: Path, capsys) -> str:
    """``ls`` and ``report`` (html, md, json, csv) exit 0 without a traceback."""
    root = str(run_dir.parent)
    assert main(["ls", "--runs-root", root]) == 0
    for fmt in ("html", "md", "json", "csv"):
        out = tmp_path / f"report.{fmt}"
        rc = main(["report", run_dir.name, "--runs-root", root, "-o", str(out), "--force"])
        assert rc == 0 and out.stat().st_size > 0, fmt
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return captured.out + captured.err


def all_views(reader) -> None:
    """Every reader path a view or report uses, on every layer."""
    reader.meta, reader.status, reader.steps(), reader.step_times()
    for layer in reader.layers():
        for kind in reader.hist_kinds(layer.name):
            if kind == "unit_active":
                reader.unit_activity(layer.name)
            else:
                reader.histogram(layer.name, kind)
    for stat in reader.stat_names():
        reader.series(stat)
    for name in reader.scalar_names():
        reader.scalar(name)
    for kind in ("architecture", "findings", "receptive_field", "saliency", "erf"):
        reader.records(kind)


def test_the_pristine_run_is_clean(pristine, tmp_path, capsys):
    reader = open_run(pristine)
    all_views(reader)
    assert reader.problems == [] and reader.health() == []
    cli_is_clean(pristine, tmp_path, capsys)


@pytest.mark.parametrize(
    "sql, problem",
    [
        (["UPDATE meta SET value = '{not json' WHERE key = 'model'"], "meta['model']"),
        (["UPDATE meta SET value = '[1, 2' WHERE key = 'created'"], "meta['created']"),
        (["UPDATE meta SET value = '{\"a\": 1}' WHERE key = 'status'"], "status"),
        (["UPDATE records SET value = 'garbage' WHERE kind = 'findings'"], "findings"),
        (["UPDATE records SET value = '{' WHERE kind = 'architecture'"], "architecture"),
        (["UPDATE records SET value = '[' WHERE kind = 'receptive_field'"], "receptive_field"),
        (["UPDATE layers SET info = '{oops'"], "info"),
        (["UPDATE hists SET data = x'0102'"], "histogram"),
        (["UPDATE stat_blocks SET data = x'0102' WHERE step = 1"], "statistics block"),
        (["UPDATE stat_layouts SET columns = '{oops'"], "statistics block"),
        (["UPDATE scalars SET value = 'text' WHERE name = 'loss'"], None),
    ],
)
def test_malformed_records_degrade_per_record(pristine, tmp_path, capsys, sql, problem):
    run_dir = damaged(pristine, tmp_path, *sql)
    reader = open_run(run_dir)
    all_views(reader)
    if problem:
        assert any(problem in p for p in reader.problems), reader.problems
    assert len(reader.steps()) == 4  # everything else is still there
    cli_is_clean(run_dir, tmp_path, capsys)


def test_corrupt_npy_files_are_reported_not_fatal(pristine, tmp_path, capsys):
    run_dir = damaged(pristine, tmp_path)
    files = sorted((run_dir / ARTIFACTS_DIR).rglob("*.npy"))
    assert files
    for f in files:
        f.write_bytes(b"\x93NUMPY garbage")
    reader = open_run(run_dir)
    with sqlite3.connect(run_dir / DB_NAME) as conn:
        name = conn.execute("SELECT name FROM arrays").fetchone()[0]
    conn.close()
    with pytest.raises(StoreError, match="unreadable"):
        reader.array(name)
    assert reader.array_names() == []  # views see the arrays as absent
    assert any("unreadable" in p for p in reader.problems)
    cli_is_clean(run_dir, tmp_path, capsys)


def test_a_deleted_artifacts_folder_is_reported_not_fatal(pristine, tmp_path, capsys):
    run_dir = damaged(pristine, tmp_path)
    shutil.rmtree(run_dir / ARTIFACTS_DIR)
    reader = open_run(run_dir)
    with sqlite3.connect(run_dir / DB_NAME) as conn:
        name = conn.execute("SELECT name FROM arrays").fetchone()[0]
    conn.close()
    with pytest.raises(StoreError, match="missing"):
        reader.array(name)
    assert reader.array_names() == [] and reader.array_steps(name) == []
    assert any("missing" in p for p in reader.problems)
    cli_is_clean(run_dir, tmp_path, capsys)


@pytest.mark.parametrize("path", ["/etc/hostname", "../../outside.npy", "artifacts/../../x.npy"])
def test_array_paths_must_stay_inside_the_run_folder(pristine, tmp_path, capsys, path):
    outside = tmp_path / "outside.npy"
    np.save(outside, np.arange(3))
    run_dir = damaged(pristine, tmp_path, f"UPDATE arrays SET path = '{path}'")
    reader = open_run(run_dir)
    assert reader.array_names() == []
    with sqlite3.connect(run_dir / DB_NAME) as conn:
        name = conn.execute("SELECT name FROM arrays").fetchone()[0]
    conn.close()
    with pytest.raises(StoreError, match="outside the run folder"):
        reader.array(name)
    cli_is_clean(run_dir, tmp_path, capsys)


def test_a_truncated_database_is_one_clear_error(pristine, tmp_path, capsys):
    run_dir = damaged(pristine, tmp_path)
    db = run_dir / DB_NAME
    db.write_bytes(db.read_bytes()[: 4096 * 2])
    root = str(run_dir.parent)
    assert main(["ls", "--runs-root", root]) == 0
    rc = main(["report", "bad", "--runs-root", root, "-o", str(tmp_path / "r.html")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert rc != 0 and "error:" in captured.err


def navigation_views() -> list[str]:
    """Every view of the dashboard's navigation."""
    from inspector.dashboard.nav import VIEW_TITLES

    return list(VIEW_TITLES)


def test_dashboard_views_survive_a_damaged_run(pristine, tmp_path, monkeypatch):
    """Malformed meta + findings + a deleted artifacts/ folder: every view still renders,
    and a healthy run next to it is unaffected."""
    from streamlit.testing.v1 import AppTest

    from inspector.dashboard.state import RUN_KEY

    run_dir = damaged(
        pristine,
        tmp_path,
        "UPDATE meta SET value = '{not json' WHERE key = 'model'",
        "UPDATE records SET value = 'garbage' WHERE kind = 'findings'",
    )
    shutil.rmtree(run_dir / ARTIFACTS_DIR)
    shutil.copytree(pristine, run_dir.parent / "healthy")
    monkeypatch.setenv("INSPECTOR_RUNS_ROOT", str(run_dir.parent))
    app = Path(__file__).resolve().parents[2] / "streamlit_app.py"
    for run in ("bad", "healthy"):
        at = AppTest.from_file(str(app), default_timeout=120)
        at.session_state[RUN_KEY] = run
        at.run()
        for view in navigation_views():
            at.switch_page(f"inspector/dashboard/pages/{view}.py").run()
            assert not at.exception, (run, view, [e.value for e in at.exception])
            if view == "overview":  # the damaged run says what is missing, the other not
                said = " ".join(w.value for w in at.warning)
                assert ("could not be read" in said) == (run == "bad"), said
