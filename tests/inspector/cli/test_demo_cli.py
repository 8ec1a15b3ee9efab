"""`inspector demo` on its tiny size (INSPECTOR_DEMO_SIZE=tiny): table, runs, dashboard hand-off."""

from __future__ import annotations

import sys
import types

from inspector.cli import main
from inspector.cli.demo_cmd import SIZE_ENV
from inspector.store import list_runs
from inspector.study.store import list_studies


def test_demo_tiny_prints_the_table_then_hands_over_to_the_dashboard(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(SIZE_ENV, "tiny")
    code = main(["demo", "--no-dashboard", "--runs-root", str(tmp_path), "--jobs", "1", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "4/4 runs finished" in out and "plain" in out and "residual" in out
    assert "inspector dashboard --runs-root" in out
    (study,) = list_studies(tmp_path)
    assert study.kind == "depth" and len(list_runs(tmp_path)) == 4

    launched = {}
    fake = types.ModuleType("inspector.cli.dashboard_cmd")
    fake.register = lambda sub: None
    fake.launch = lambda runs_root=None: launched.setdefault("root", runs_root) and 0
    monkeypatch.setitem(sys.modules, "inspector.cli.dashboard_cmd", fake)
    code = main(["demo", "--runs-root", str(tmp_path), "--jobs", "1", "--quiet"])
    assert code == 0 and launched["root"] == str(tmp_path)
    assert len(list_runs(tmp_path)) == 4, "the second demo reuses the finished runs"
