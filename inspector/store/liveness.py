"""Is the process writing a run still alive? Host + PID + start time, else the heartbeat.

A PID check alone is not enough: PIDs are reused (a run whose PID now belongs to another
process would read ``running`` forever) and another host's PIDs cannot be checked at all.
So the writer stores its process start time next to its PID, and stamps
``meta.heartbeat`` every ``HEARTBEAT_SECONDS``; a run from another host whose heartbeat
is older than ``STALE_SECONDS`` is not running.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any

HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 60.0  # 12 missed heartbeats: the writer is gone (or frozen)


def process_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), None where unknown."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except (OSError, ValueError):
        return None
    fields = stat.rpartition(")")[2].split()  # the command name may contain spaces
    try:
        return int(fields[19])  # field 22 of proc(5); fields[0] is field 3
    except (IndexError, ValueError):
        return None


def writer_alive(meta: Mapping[str, Any], now: float | None = None) -> bool:
    """Whether the process that writes this run is still alive, as far as can be told.

    On the writer's own host, PID plus process start time decide (a reused PID has another
    start time). Elsewhere, or without a PID, the heartbeat decides: older than
    ``STALE_SECONDS`` means the writer is gone.
    """
    now = time.time() if now is None else now
    pid = meta.get("pid")
    same_host = meta.get("host") == socket.gethostname()
    if same_host and isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
        return _pid_alive(pid, meta.get("process_start"))
    beat = meta.get("heartbeat")
    if isinstance(beat, (int, float)) and not isinstance(beat, bool):
        return now - float(beat) <= STALE_SECONDS
    return True  # an old run from another host without a heartbeat: cannot tell


def _pid_alive(pid: int, started: Any) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        pass  # exists, owned by someone else
    if isinstance(started, int) and not isinstance(started, bool):
        current = process_start_time(pid)
        if current is not None and current != started:
            return False  # the PID now belongs to another process
    return True
