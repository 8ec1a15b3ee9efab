"""``inspector dashboard`` / ``launch``: the streamlit command, the runs root it passes on."""

from __future__ import annotations

import sys

import pytest

from inspector.cli import dashboard_cmd, main
from inspector.errors import InspectorError


class FakeServer:
    calls: list = []

    def __init__(self, cmd, cwd=None, env=None):
        FakeServer.calls.append((cmd, cwd, env))

    def wait(self, timeout=None):
        return 0

    def poll(self):
        return 0


def test_launch_runs_streamlit_on_the_app_with_the_runs_root(tmp_path, monkeypatch, capsys):
    FakeServer.calls = []
    monkeypatch.setattr(dashboard_cmd.subprocess, "Popen", FakeServer)
    assert dashboard_cmd.launch(tmp_path, port=8765, open_browser=False) == 0
    cmd, cwd, env = FakeServer.calls[0]
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[4].endswith("streamlit_app.py") and cwd == dashboard_cmd.APP.parent
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert env["INSPECTOR_RUNS_ROOT"] == str(tmp_path.resolve())
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"  # this machine only
    assert "http://127.0.0.1:8765" in capsys.readouterr().out


def test_cli_flags_reach_launch(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(
        dashboard_cmd,
        "launch",
        lambda root, port, open_browser, host: (
            seen.update(root=root, port=port, open_browser=open_browser, host=host) or 0
        ),
    )
    assert main(["dashboard", "--runs-root", str(tmp_path), "--port", "9000", "--no-browser"]) == 0
    assert seen == {"root": str(tmp_path), "port": 9000, "open_browser": False, "host": "127.0.0.1"}


def test_bad_port_is_a_user_error(tmp_path):
    with pytest.raises(InspectorError, match="--port"):
        dashboard_cmd.launch(tmp_path, port=70000, open_browser=False)


def test_free_port_is_bindable():
    port = dashboard_cmd.free_port(8700)
    assert 8700 <= port < 8750
