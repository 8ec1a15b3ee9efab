"""Progress bar for long work: loss and accuracy, refreshed without a sync every step."""

from __future__ import annotations

import sys

import torch
from tqdm.auto import tqdm


class Progress:
    """tqdm bar over steps; reads the loss from the device only every ``refresh`` steps."""

    def __init__(self, total: int, quiet: bool = False, desc: str = "", refresh: int = 10):
        self.refresh = refresh
        self.bar = (
            None
            if quiet
            else tqdm(
                total=total,
                desc=desc[:40],
                unit="step",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=True,
            )
        )

    def update(self, step: int, loss: torch.Tensor, correct: torch.Tensor, metrics: dict) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if step % self.refresh == 0:
            post = {"loss": f"{float(loss.detach()):.4f}", "acc": f"{float(correct):.3f}"}
            if "test_accuracy" in metrics:
                post["test_acc"] = f"{metrics['test_accuracy']:.3f}"
            self.bar.set_postfix(post, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
