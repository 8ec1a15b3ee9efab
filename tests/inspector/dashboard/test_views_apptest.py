"""Every dashboard view rendered with Streamlit's AppTest on a fixture runs root."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from inspector.dashboard.nav import VIEW_TITLES
from inspector.dashboard.state import RUN_KEY

REPO = Path(__file__).resolve().parents[3]
APP = REPO / "streamlit_app.py"
VIEWS = list(VIEW_TITLES)  # every view of the navigation, in its order
# Views that draw at least one chart for the full fixture run.
CHARTS = {
    "overview": 1,
    "compare": 1,
    "study": 2,
    "gradient_flow": 2,
    "activations": 4,  # a layer's histogram and moments; saturation and zero fractions
    "batchnorm": 3,
    "kernels": 1,
    "saliency": 2,
    "receptive_field": 2,
}


def app(root: Path, monkeypatch, run: str | None = None) -> AppTest:
    monkeypatch.setenv("INSPECTOR_RUNS_ROOT", str(root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    if run:
        at.session_state[RUN_KEY] = run
    return at.run()


def visit(at: AppTest, view: str) -> AppTest:
    at.switch_page(f"inspector/dashboard/pages/{view}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def test_every_view_draws_the_full_run(dashboard_root, monkeypatch):
    at = app(dashboard_root, monkeypatch, run="full")
    assert not at.exception
    assert at.title[0].value == "Overview"
    for view in VIEWS:
        visit(at, view)
        assert at.sidebar.selectbox[0].value == "full", view
        assert charts(at) >= CHARTS.get(view, 0), view
        assert not at.error, (view, [e.value for e in at.error])


def test_activation_fractions_draw_every_fraction_some_real_run_records(
    dashboard_root, monkeypatch
):
    """A tab per fraction; each run draws those its layers record (tanh saturates, ReLU dies)."""
    from inspector.dashboard.activations import FRACTIONS
    from inspector.store import open_run

    covered = set()
    for run in ("full", "nobn"):
        with open_run(dashboard_root / run) as reader:
            recorded = [s for s in FRACTIONS if s in reader.stat_names()]
        at = visit(app(dashboard_root, monkeypatch, run=run), "activations")
        assert charts(at) == 2 + len(recorded), run
        covered.update(recorded)
    assert covered == set(FRACTIONS)


def test_overview_lists_findings_worst_first_with_links(dashboard_root, monkeypatch):
    from inspector.store import open_run
    from inspector.store.records import FINDINGS
    from inspector.text_safety import escape_markdown

    with open_run(dashboard_root / "full") as reader:
        stored = reader.record(*FINDINGS)["findings"]
    rank = {"error": 0, "warning": 1, "info": 2}
    ordered = sorted(stored, key=lambda f: rank[f["severity"]])
    titles = [escape_markdown(f["title"]) for f in ordered]  # as the overview writes them
    assert len({f["severity"] for f in stored}) >= 2
    at = visit(app(dashboard_root, monkeypatch, run="full"), "overview")
    text = " ".join(m.value for m in at.markdown)
    places = [text.index(title) for title in titles]
    assert places == sorted(places), titles
    assert "Verdict" in text
    assert len(at.dataframe) == 1  # the architecture table


def test_views_show_notes_not_errors_for_a_bare_run(dashboard_root, monkeypatch):
    at = app(dashboard_root, monkeypatch, run="bare")
    notes = {}
    for view in VIEWS:
        visit(at, view)
        notes[view] = " ".join(i.value for i in at.info)
        assert not at.error, view
    assert "no BatchNorm layers" in notes["batchnorm"]
    assert "No kernel snapshots" in notes["kernels"]
    assert "No saliency maps" in notes["saliency"]
    assert "No receptive-field table" in notes["receptive_field"]
    assert "No diagnosis recorded" in notes["overview"]


def test_live_run_renders_with_refresh(dashboard_root, monkeypatch):
    at = app(dashboard_root, monkeypatch, run="live")
    assert "running" in " ".join(c.value for c in at.sidebar.caption)
    for view in ("overview", "gradient_flow", "activations"):
        visit(at, view)
    assert charts(at) == 0  # no histograms/fractions in the live fixture: notes instead
    assert at.info


def test_widgets_drive_the_charts(dashboard_root, monkeypatch):
    at = visit(app(dashboard_root, monkeypatch, run="full"), "gradient_flow")
    at.radio[0].set_value(at.radio[0].options[1]).run()
    assert not at.exception and charts(at) == 2
    at = visit(at, "activations")
    at.selectbox[0].set_value("1").run()
    assert not at.exception
    at = visit(at, "compare")
    at.selectbox[0].set_value("grad_norm").run()
    assert not at.exception and charts(at) == 1
    at.sidebar.selectbox[0].set_value("bare").run()
    assert not at.exception


def test_empty_root_says_how_to_make_a_run(tmp_path, monkeypatch):
    at = app(tmp_path, monkeypatch)
    for view in ("overview", "runs", "gradient_flow", "study"):
        visit(at, view)
        text = " ".join(i.value for i in at.info)
        assert "inspector demo" in text, view
        assert charts(at) == 0
    visit(at, "overview")
    assert "inspector run --model lenet5_bn --data shapes --steps 300" in at.info[0].value


@pytest.mark.parametrize("view", VIEWS)
def test_page_scripts_are_thin(view):
    source = (REPO / "inspector/dashboard/pages" / f"{view}.py").read_text()
    assert f"{view}.render()" in source and len(source.splitlines()) <= 6


def test_runs_table_selection_opens_a_run(dashboard_root, monkeypatch):
    at = visit(app(dashboard_root, monkeypatch, run="full"), "runs")
    assert len(at.dataframe) == 1
    at.text_input[0].set_value("bare").run()
    assert not at.exception
    assert "1 runs" in " ".join(c.value for c in at.caption)


def test_runs_selection_is_kept_by_id_not_position():
    """Filtering changes which rows are shown; the picked runs stay the same runs."""
    from inspector.dashboard.runs import merge_selection, table_key

    shown = ["live", "nobn", "bare", "full"]
    picked = merge_selection([], shown, [0, 3])
    assert picked == ["live", "full"]
    filtered = ["nobn", "full"]  # 'full' is now row 1, 'live' hidden
    assert merge_selection(picked, filtered, [1]) == ["live", "full"]
    assert merge_selection(picked, filtered, []) == ["live"]  # 'full' unticked
    assert table_key(shown) != table_key(filtered)  # positions never carry over


def test_unknown_run_in_the_url_is_said(dashboard_root, monkeypatch):
    monkeypatch.setenv("INSPECTOR_RUNS_ROOT", str(dashboard_root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["run"] = "no-such-run"
    at.run()
    assert not at.exception
    assert any("No run" in w.value and "no-such-run" in w.value for w in at.warning)
