"""`inspector report` end to end: formats, default names, --force, exit codes for bad input."""

from __future__ import annotations

import json

import pytest

from inspector.cli import main
from inspector.errors import InspectorError
from inspector.report import write_report
from inspector.report.naming import ReportFormat, default_file_name, prepare_output


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_html_report_written_then_protected(report_fixture, tmp_path, capsys):
    out = tmp_path / "deep" / "er" / "report.html"
    root = ["--runs-root", str(report_fixture.root)]
    code, stdout, err = cli(["report", report_fixture.full, "-o", str(out), *root], capsys)
    assert code == 0, err
    assert out.is_file() and f"wrote {out}" in stdout and "MB" in stdout
    before = out.stat().st_mtime_ns
    code, _, err = cli(["report", report_fixture.full, "-o", str(out), *root], capsys)
    assert code == 2 and "already exists; pass --force" in err and "\n" == err[-1]
    assert err.count("\n") == 1 and out.stat().st_mtime_ns == before
    code, _, err = cli(["report", report_fixture.bare, "-o", str(out), "--force", *root], capsys)
    assert code == 0, err
    assert "<title>Inspector report: bare</title>" in out.read_text()
    assert not list(out.parent.glob(".*tmp*"))  # no temporary file left behind


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_formats_and_default_name(report_fixture, tmp_path, monkeypatch, capsys, fmt):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = cli(
        ["report", report_fixture.full, "--format", fmt, "--runs-root", str(report_fixture.root)],
        capsys,
    )
    assert code == 0, err
    path = tmp_path / f"report-full.{fmt}"
    assert path.is_file(), stdout
    text = path.read_text()
    if fmt == "json":
        assert json.loads(text)["runs"][0]["id"] == "full"
    elif fmt == "csv":
        assert text.startswith("run,kind,layer,stat,step,value,text\n")
    else:
        assert "| severity | rule |" in text


def test_format_follows_suffix_and_study(report_fixture, tmp_path, capsys):
    out = tmp_path / "study.md"
    code, _, err = cli(
        [
            "report",
            "--study",
            report_fixture.study,
            "-o",
            str(out),
            "--runs-root",
            str(report_fixture.root),
        ],
        capsys,
    )
    assert code == 0, err
    assert "| depth | skip | run | status |" in out.read_text()


def test_missing_run_and_no_target_exit_2(report_fixture, tmp_path, capsys):
    code, _, err = cli(
        [
            "report",
            "no-such-run",
            "-o",
            str(tmp_path / "x.html"),
            "--runs-root",
            str(report_fixture.root),
        ],
        capsys,
    )
    assert code == 2 and "no run 'no-such-run'" in err and "Known runs" in err
    assert "Traceback" not in err and not (tmp_path / "x.html").exists()
    code, _, err = cli(["report", "--runs-root", str(report_fixture.root)], capsys)
    assert code == 2 and "give one or more runs" in err
    code, _, err = cli(
        ["report", "--study", "nope", "--runs-root", str(report_fixture.root)], capsys
    )
    assert code == 2 and "no study 'nope'" in err


def test_default_names_are_sanitised():
    assert default_file_name(["../../etc/passwd"], ReportFormat.HTML) == "report-etc-passwd.html"
    assert default_file_name(["a b?c", "d"], ReportFormat.MD) == "report-a-b-c-vs-d.md"
    assert default_file_name(["a", "b", "c"], ReportFormat.CSV) == "report-a-and-2-more.csv"
    assert default_file_name([], ReportFormat.JSON, study="s/1") == "report-study-s-1.json"
    for name in ("", "...", "/"):
        assert "/" not in default_file_name([name], ReportFormat.HTML)


def test_prepare_output_rules(tmp_path):
    with pytest.raises(InspectorError, match="is a folder"):
        prepare_output(tmp_path)
    target = prepare_output(tmp_path / "new" / "r.html")
    assert target.parent.is_dir()
    target.write_text("x")
    with pytest.raises(InspectorError, match="--force"):
        prepare_output(target)
    assert prepare_output(target, force=True) == target


def test_write_report_api(report_fixture, tmp_path):
    path = write_report(
        [report_fixture.full, report_fixture.bare],
        output=tmp_path / "cmp.json",
        root=report_fixture.root,
    )
    assert [r["id"] for r in json.loads(path.read_text())["runs"]] == ["full", "bare"]
