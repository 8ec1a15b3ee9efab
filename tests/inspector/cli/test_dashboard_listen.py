"""Issue 13.11: the dashboard listens on 127.0.0.1 unless told otherwise, and the launcher
ends promptly (with its Streamlit server) on SIGTERM.

Starts the real ``inspector dashboard`` console script and reads the kernel's socket
tables (/proc/net/tcp and tcp6) for the addresses it listens on. The exit bound is
generous (8 s; it was 12 s before, it is about 2 s now): a bound, not a benchmark.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.cli import dashboard_cmd

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp"
)
LISTEN = "0A"


def _address(hex_addr: str) -> str:
    """The text form of /proc/net/tcp{,6}'s little-endian hex address."""
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    address = ipaddress.IPv6Address(words)
    return str(address.ipv4_mapped or address)


def listening(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN state on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, _, hex_port = fields[1].partition(":")
            if fields[3] == LISTEN and int(hex_port, 16) == port:
                found.add(_address(addr))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    script = Path(sys.executable).with_name("inspector")
    argv = [str(script), "dashboard", "--no-browser", "--port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--runs-root", str(tmp_path / "runs"), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: a leftover server is easy to end
    )
    deadline = time.monotonic() + 120
    while not listening(port):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the dashboard did not start in 120 s"
        time.sleep(0.3)
    return proc, port


def stop(proc: subprocess.Popen, port: int) -> tuple[float, str]:
    """SIGTERM the launcher; (seconds until it and its server were gone, its output)."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    while listening(port) and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    seconds = time.monotonic() - t0
    output = proc.stdout.read() if proc.stdout else ""
    try:  # nothing of the group may be left running
        os.killpg(proc.pid, 0)
        leftover = True
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        leftover = False
    assert not leftover, "the Streamlit server outlived the launcher"
    return seconds, output


def test_listens_on_localhost_only_and_stops_on_sigterm(tmp_path):
    proc, port = start(tmp_path)
    try:
        assert listening(port) == {"127.0.0.1"}
    finally:
        seconds, output = stop(proc, port)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not listening(port)
    assert seconds < 8, f"took {seconds:.1f} s to stop"
    assert "Network URL" not in output and f"http://127.0.0.1:{port}" in output
    assert "warning" not in output


def test_host_widens_with_a_warning(tmp_path):
    proc, port = start(tmp_path, "--host", "0.0.0.0")
    try:
        assert listening(port) == {"0.0.0.0"}
    finally:
        _, output = stop(proc, port)
    assert "warning: --host 0.0.0.0" in output and "no login" in output


def test_server_command_is_local_quiet_and_without_deploy_button():
    cmd = dashboard_cmd.command(8501)
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=False))
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--client.toolbarMode"] == "minimal"
    assert dashboard_cmd.command(8501, "::1")[cmd.index("--server.address") + 1] == "::1"
    assert dashboard_cmd.is_loopback("127.0.0.1") and dashboard_cmd.is_loopback("::1")
    assert dashboard_cmd.is_loopback("localhost")
    assert not dashboard_cmd.is_loopback("0.0.0.0") and not dashboard_cmd.is_loopback("::")
