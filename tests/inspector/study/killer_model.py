"""A user model (``path/file.py:build``) whose process dies mid-run on its first attempt.

``doomed=True``: the 4th training forward writes ``marker`` and SIGKILLs its own process,
unless ``marker`` already exists (the retry). A real kill, as the OOM killer or a lost node
would do it: no exception, no cleanup, a half-written run folder left behind.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from torch import nn


class KilledOnce(nn.Module):
    def __init__(self, marker: str, doomed: bool) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 16), nn.Tanh(), nn.Linear(16, 6))
        self.marker, self.doomed, self.calls = Path(marker), doomed, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.doomed and self.calls == 4 and not self.marker.exists():
                self.marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        return self.net(x)


def build(marker: str, doomed: bool = False) -> nn.Module:
    return KilledOnce(marker, doomed)
