"""A user model (``path/file.py:build``) whose process dies mid-run on its first attempt.

``doomed=True``: the 4th training forward waits until the calm cell is training, writes
``marker`` and SIGKILLs its own process; its retry (``marker`` exists) trains normally. The
calm cell waits at its 2nd step until ``marker`` exists, so the kill lands while its
neighbour is mid-run. A real kill, as the OOM killer or a lost node would do it: no
exception, no cleanup, a half-written run folder left behind.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from torch import nn


class KilledOnce(nn.Module):
    def __init__(self, marker: str, doomed: bool) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 16), nn.Tanh(), nn.Linear(16, 6))
        self.marker, self.doomed, self.calls = Path(marker), doomed, 0
        self.calm_started = self.marker.with_name(self.marker.name + ".calm-started")

    def forward(self, x):
        if self.training:
            self.calls += 1
            if not self.doomed:
                self.calm_started.touch()
                if self.calls == 2:
                    _wait_for(self.marker)
            elif self.calls == 4 and not self.marker.exists():
                _wait_for(self.calm_started)
                self.marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        return self.net(x)


def _wait_for(path: Path) -> None:
    """A synchronisation between the two cells' processes (not a timing check)."""
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def build(marker: str, doomed: bool = False) -> nn.Module:
    return KilledOnce(marker, doomed)
