"""``inspector dashboard``: start the Streamlit dashboard on a runs root.

Runs ``python -m streamlit run streamlit_app.py`` with $INSPECTOR_RUNS_ROOT set, so every
view reads the same folder. ``launch`` is also what ``inspector demo`` calls at its end.

Safe by default: the server listens on 127.0.0.1 only (``--host`` widens it, with a
warning: the dashboard has no login and shows every run), sends no usage statistics, does
not look up the machine's external IP, and hides Streamlit's Deploy button. SIGTERM (how
``docker stop`` and schedulers end jobs) is forwarded to the server, which is given a few
seconds before it is killed.
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
LOCAL_HOST = "127.0.0.1"
STOP_GRACE_S = 3.0  # Streamlit stops in under a second on SIGTERM; then it is killed


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
    p.add_argument(
        "--host",
        default=LOCAL_HOST,
        help="address to listen on (default 127.0.0.1: this machine only). 0.0.0.0 opens "
        "the dashboard, which has no login, to every machine that can reach this one",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    return launch(args.runs_root, args.port, open_browser=not args.no_browser, host=args.host)


def is_loopback(host: str) -> bool:
    """127.x.x.x, ::1 and localhost: reachable from this machine only."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


def command(port: int, host: str = LOCAL_HOST) -> list[str]:
    """The Streamlit command line: bound to ``host``, no telemetry, no Deploy button."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",  # unset, Streamlit listens on every interface
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",  # no Deploy button, no developer menu
        "minimal",
        "--server.fileWatcherType",
        "none",
    ]


def launch(
    runs_root_dir: str | os.PathLike | None = None,
    port: int | None = None,
    open_browser: bool = True,
    host: str = LOCAL_HOST,
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
    host = (host or LOCAL_HOST).strip()
    root = runs_root(runs_root_dir).resolve()
    port = port or free_port()
    env = {**os.environ, RUNS_ROOT_ENV: str(root)}
    local = LOCAL_HOST if host in ("0.0.0.0", "::", "") or is_loopback(host) else host
    url = f"http://{local if ':' not in local else f'[{local}]'}:{port}"
    print(f"Inspector dashboard on {url} (runs root {root}); Ctrl-C to stop", flush=True)
    if not is_loopback(host):
        print(
            f"warning: --host {host} makes the dashboard (no login; every run, model name "
            "and path under the runs root) reachable from other machines",
            file=sys.stderr,
            flush=True,
        )
    proc = subprocess.Popen(command(port, host), cwd=APP.parent, env=env)
    if open_browser:
        threading.Thread(target=_open_when_up, args=(url, local, port, proc), daemon=True).start()
    previous = _forward_sigterm(proc)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        return 0
    except Terminated as exc:  # out of proc.wait(), which holds Popen's lock: now wait
        _stop(proc)
        return 128 + exc.signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop(proc: subprocess.Popen, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM the server, then SIGKILL it if it has not stopped after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Terminated(Exception):
    """SIGTERM reached the launcher while it waited for the server."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


def _forward_sigterm(proc: subprocess.Popen):
    """Stop the server when the launcher is terminated (it would outlive us otherwise).

    The handler only raises: it runs inside ``proc.wait()``, which holds the Popen's wait
    lock, so waiting for the server there would deadlock (the old 12 s exit: a 10 s
    timeout, then a kill). ``launch`` stops the server once out of ``wait``.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame) -> None:
        raise Terminated(signum)

    return signal.signal(signal.SIGTERM, handler)


def _open_when_up(
    url: str, host: str, port: int, proc: subprocess.Popen, timeout: float = 60.0
) -> None:
    """Open a browser tab once the server answers (Streamlit runs headless)."""
    deadline = time.monotonic() + timeout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            if s.connect_ex((host, port)) == 0:
                webbrowser.open(url)
                return
        time.sleep(0.5)
