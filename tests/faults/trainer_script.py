"""A tiny recorded training loop run as a subprocess by the fault tests.

usage: python trainer_script.py ROOT NAME EVERY STEPS KILL_AT PAUSE [WRITE_SECONDS]

EVERY is "default", an integer, or "never". After ``rec.step()`` of step KILL_AT returns, the
process SIGKILLs itself (a kill while the next step is in flight); KILL_AT < 0 never kills.
It prints "step N" after every step so a parent can signal it at a known step, and on
SIGTERM prints the hooks left on the model after ``watch()`` exited.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import torch
from torch import nn

import inspector

root, name, every_arg, steps, kill_at, pause = sys.argv[1:7]
every = {"default": None, "never": (lambda s: False)}.get(every_arg, every_arg)
if isinstance(every, str):
    every = int(every)
torch.manual_seed(0)
torch.set_num_threads(1)
model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.05)
x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))


def hooks_left() -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


try:
    with inspector.watch(model, name, root=root, every=every) as rec:
        if len(sys.argv) > 7:
            rec.write_interval = float(sys.argv[7])
        for step in range(int(steps)):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            rec.step(loss=loss)
            print(f"step {step}", flush=True)
            if step == int(kill_at):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(float(pause))
except KeyboardInterrupt as exc:
    print(f"interrupted {type(exc).__name__} hooks={hooks_left()}", flush=True)
    sys.exit(143)
