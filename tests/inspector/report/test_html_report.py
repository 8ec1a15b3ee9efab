"""The HTML report: every section, notes for missing data, one plotly.js, nothing external."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest
from plotly.offline import get_plotlyjs

from inspector.errors import InspectorError, StoreError
from inspector.report import build_html_report
from inspector.report.html_parts import fmt_value, table_html
from inspector.store import open_run
from inspector.store.records import ARCHITECTURE, FINDINGS, RECEPTIVE_FIELD, SALIENCY
from inspector.store.stats import Showcase, absent_note, showcase
from inspector.study.store import load_study

RUN_SECTIONS = [
    "metadata",
    "architecture",
    "findings",
    "loss",
    "gradients",
    "activations",
    "batchnorm",
    "kernels",
    "saliency",
    "receptive-field",
]
PLOTLY_TAG = '<script type="text/javascript" id="plotly-js">'


def sections(html: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', html, re.S))


def without_plotly_js(html: str) -> str:
    start = html.index(PLOTLY_TAG)
    end = html.index("</script>", start)
    return html[:start] + html[end:]


def assert_offline(html: str) -> None:
    """No reference to anything outside the file.

    plotly.js itself (the unmodified bundle of the installed plotly) holds URL strings: map
    tile servers and attributions used only by map traces, which reports never draw, and the
    mode-bar logo link, which the report turns off. Outside that bundle there is no URL at
    all; the browser test checks that loading the page requests nothing off the file.
    """
    assert html.count(PLOTLY_TAG) == 1
    rest = without_plotly_js(html)
    assert not re.search(r"(?i)\b(?:https?|ftp):|//[a-z0-9.-]+\.[a-z]{2,}/", rest), re.findall(
        r"(?i).{40}(?:https?|ftp):.{40}", rest
    )[:3]
    for tag in re.findall(r"<[a-z][^>]*>", rest, re.I):
        for attr in re.findall(r"""(?i)\b(?:src|href|action|srcset)\s*=\s*["']?([^"'\s>]*)""", tag):
            assert attr.startswith(("#", "data:")), tag
    assert not re.search(r"(?i)url\(\s*['\"]?(?:https?:|//)", rest)
    assert "@import" not in rest
    assert "<link" not in rest.lower()


@pytest.fixture(scope="module")
def full_html(report_fixture) -> str:
    return build_html_report([report_fixture.full], root=report_fixture.root)


def test_single_run_report_has_every_section_with_charts(full_html, report_fixture):
    with open_run(report_fixture.full, report_fixture.root) as reader:
        recorded = reader.stat_names()
        table = reader.record(*ARCHITECTURE)
        fields = reader.record(*RECEPTIVE_FIELD)["layers"]
        stored = reader.record(*FINDINGS)["findings"]
        trust = reader.record(*SALIENCY)["trust"]
        meta = reader.meta
    found = sections(full_html)
    assert list(found) == RUN_SECTIONS
    assert "could not draw" not in full_html
    notes = re.findall(r'<p class="note">([^<]*)</p>', "".join(found.values()))
    # every record is present: the only notes say which layer kinds the model lacks
    absent = {absent_note(s) for s in showcase(Showcase.FRACTIONS) if s not in recorded}
    assert {html.unescape(n) for n in notes} == absent
    charts = {name: body.count("Plotly.newPlot") for name, body in found.items()}
    for name in RUN_SECTIONS[RUN_SECTIONS.index("loss") :]:  # the sections that draw
        assert charts[name] >= 1, name
    arch = found["architecture"]
    head = table["rows"][-1]  # the linear head: its parameter count and the field of a conv
    conv = [r for r in fields if r["type"] == "Conv2d"][-1]
    assert "Conv2d" in arch and f">{head['params']}<" in arch
    assert "×".join(map(str, conv["rf"])) in arch
    diag = found["findings"]
    rank = {"error": 0, "warning": 1, "info": 2}
    ordered = sorted(stored, key=lambda f: rank[f["severity"]])
    places = [diag.index(html.escape(f["title"], quote=False)) for f in ordered]
    assert places == sorted(places) and len({f["severity"] for f in stored}) >= 2  # worst first
    assert html.escape(ordered[0]["fix"], quote=False) in diag
    method, scores = next(iter(trust.items()))
    assert "randomization_spearman" in found["saliency"] and method in found["saliency"]
    assert fmt_value(scores["randomization_spearman"]) in found["saliency"]
    about = found["metadata"]
    for text in ("finished", meta["model"]["name"], "shapes", "hparam lr", "version torch", "cpu"):
        assert text in about, text


def test_report_is_self_contained(full_html):
    assert_offline(full_html)
    assert get_plotlyjs()[:2000] in full_html
    assert full_html.count(get_plotlyjs()[-300:].replace("</script", "<\\/script")) == 1


def test_missing_data_gives_one_line_notes(report_fixture):
    html = build_html_report(report_fixture.bare, root=report_fixture.root)
    found = sections(html)
    assert list(found) == RUN_SECTIONS
    for name in ["findings", "batchnorm", "kernels", "saliency", "receptive-field"]:
        notes = re.findall(r'<p class="note">([^<]*)</p>', found[name])
        assert notes and all(n.strip() and "\n" not in n for n in notes), name
    assert found["loss"].count("Plotly.newPlot") == 1
    assert "could not draw" not in html


def test_comparison_report(report_fixture):
    html = build_html_report(
        [report_fixture.full, report_fixture.bare], root=report_fixture.root, title="A vs B"
    )
    assert "<title>A vs B</title>" in html
    found = sections(html)
    assert "comparison" in found
    assert found["comparison"].count("Plotly.newPlot") >= 2  # loss, accuracy, layer stats
    assert "full-metadata" in found and "bare-metadata" in found
    assert 'id="run-full"' in html and 'href="#run-bare"' in html
    assert_offline(html)


def test_study_report_contains_the_grid(report_fixture):
    study = load_study(report_fixture.study, report_fixture.root)
    finished = study.finished_cells()
    html_text = build_html_report(study=report_fixture.study, root=report_fixture.root)
    body = sections(html_text)["study"]
    grid = re.search(r'<table class="table grid">(.*?)</table>', body, re.S).group(1)
    assert grid.count("<tr>") == 1 + len(study.cells)  # header + a row per cell
    losses = [fmt_value(c["metrics"]["final_loss"]) for c in finished]
    for text in ("depth", "skip", "residual", "final_loss", "pending", *losses):
        assert text in grid, text
    assert all(c["run_id"] in grid for c in finished)
    assert body.count("Plotly.newPlot") == 2  # heatmap + curves per cell
    assert "Runs not found for 1 cell" in body  # the pending cell has no run yet
    assert_offline(html_text)


def test_study_by_path_finds_its_runs_beside_it(report_fixture):
    path = report_fixture.root / "_studies" / report_fixture.study / "study.json"
    html = build_html_report(study=path)  # no root: the study's runs root is two levels up
    body = sections(html)["study"]
    assert "Runs not found for 1 cell" in body  # only the pending cell
    assert body.count("Plotly.newPlot") == 2


def test_errors_for_bad_input(report_fixture):
    with pytest.raises(StoreError, match="no run 'nope'"):
        build_html_report(["nope"], root=report_fixture.root)
    with pytest.raises(InspectorError, match="nothing to report"):
        build_html_report([], root=report_fixture.root)
    with pytest.raises(StoreError, match="no study"):
        build_html_report(study="nope", root=report_fixture.root)


def test_tables_escape_html():
    html = table_html([{"name": "<script>alert(1)</script>", "value": 1.5e-7}])
    assert "<script>" not in html and "&lt;script&gt;" in html and "1.500e-07" in html
    assert fmt_value(None) == "-" and fmt_value([1, 2.5]) == "[1, 2.5]"


def test_reports_never_import_torch(report_fixture):
    code = (
        "import sys; from inspector.report import build_html_report, export_data; "
        f"build_html_report(['full'], root={str(report_fixture.root)!r}); "
        f"export_data(['full'], fmt='csv', root={str(report_fixture.root)!r}); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
