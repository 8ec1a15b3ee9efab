"""``inspector dashboard``: start the Streamlit dashboard on a runs root.

Runs ``python -m streamlit run streamlit_app.py`` with $INSPECTOR_RUNS_ROOT set, so every
view reads the same folder. ``launch`` is also what ``inspector demo`` calls at its end.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import webbrowser
from pathlib import Path

from inspector.cli.args import add_runs_root, port_int
from inspector.errors import InspectorError
from inspector.store import runs_root
from inspector.store.paths import RUNS_ROOT_ENV

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
DEFAULT_PORT = 8501


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="open the Streamlit dashboard on your runs",
        description="Start the dashboard (live while runs train). Example: "
        "inspector dashboard --runs-root runs --port 8501",
    )
    add_runs_root(p)
    p.add_argument(
        "--port", type=port_int, default=None, help="port (default: first free from 8501)"
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return launch(args.runs_root, args.port, open_browser=not args.no_browser)


def free_port(start: int = DEFAULT_PORT, tries: int = 50) -> int:
    """The first port from ``start`` nobody listens on."""
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise InspectorError(f"no free port in {start}..{start + tries - 1}; pass --port")


def command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]


def launch(
    runs_root_dir: str | os.PathLike | None = None,
    port: int | None = None,
    open_browser: bool = True,
) -> int:
    """Start the dashboard and block until it stops (Ctrl-C); the server's exit code."""
    if importlib.util.find_spec("streamlit") is None:
        raise InspectorError("the dashboard needs streamlit: pip install 'streamlit>=1.40' plotly")
    if not APP.is_file():
        raise InspectorError(
            f"dashboard entry {APP} is missing; run from a source checkout (git clone) of inspector"
        )
    if port is not None and not 0 < port < 65536:
        raise InspectorError(f"--port must be between 1 and 65535, not {port}")
    root = runs_root(runs_root_dir).resolve()
    port = port or free_port()
    env = {**os.environ, RUNS_ROOT_ENV: str(root)}
    url = f"http://localhost:{port}"
    print(f"Inspector dashboard on {url} (runs root {root}); Ctrl-C to stop", flush=True)
    proc = subprocess.Popen(command(port), cwd=APP.parent, env=env)
    if open_browser:
        threading.Thread(target=_open_when_up, args=(url, port, proc), daemon=True).start()
    previous = _forward_sigterm(proc)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _forward_sigterm(proc: subprocess.Popen):
    """Stop the server when the launcher is terminated (it would outlive us otherwise)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame) -> None:
        _stop(proc)
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, handler)


def _open_when_up(url: str, port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Open a browser tab once the server answers (Streamlit runs headless)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                webbrowser.open(url)
                return
        time.sleep(0.5)
