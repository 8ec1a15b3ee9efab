"""What the hooks gathered since the last flush, kept on the device until ``step()`` packs it.

Everything here is emptied by one ``clear()`` after each flush, so nothing from one step can
leak into the next and memory stays bounded whatever the schedule.
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from inspector.probes.tensor_summary import TensorSummary


class StepBuffer:
    """One step's device-side summaries and tensors, host-known stats and pending rows."""

    def __init__(self) -> None:
        # (layer, kind) -> merged summary of every call this step (act, grad, norm_in)
        self.summaries: dict[tuple[str, str], TensorSummary] = {}
        self.tensors: dict[tuple[str, str], torch.Tensor] = {}  # bn gaps, unit activity
        self.calls: dict[str, int] = defaultdict(int)  # forward calls per layer
        self.host_stats: list[tuple[str, str, float]] = []  # (layer, stat, value)
        # BN [running_mean, running_var] before this step's forward (the pre-hook's copy)
        self.bn_running: dict[str, torch.Tensor] = {}
        # the last plain output summarised: conv -> BN reuses it as the BN's input summary
        self.last_out: tuple[torch.Tensor, int, TensorSummary] | None = None
        self.producer: tuple[torch.Tensor, nn.Module] | None = None  # last output, its module
        # rec.step() scalars (name, step, value) and unrecorded steps (step, time, duration)
        # not yet written
        self.pending_scalars: list[tuple[str, int, object]] = []
        self.pending_steps: list[tuple[int, float, float | None]] = []

    def accumulate(self, key: tuple[str, str], summ: TensorSummary) -> None:
        """Merge ``summ`` into this step's summary for ``key`` (on the device, no sync)."""
        old = self.summaries.get(key)
        self.summaries[key] = summ if old is None else old.merge(summ)

    def drop_device_data(self) -> None:
        """Forget the summaries and tensors (an unfinished step at close is not recorded)."""
        self.summaries.clear()
        self.tensors.clear()

    def clear(self) -> None:
        """Empty everything once the step has been handed to the writer."""
        self.summaries.clear()
        self.tensors.clear()
        self.calls.clear()
        self.host_stats.clear()
        self.bn_running.clear()
        self.last_out = self.producer = None
        self.pending_scalars.clear()
        self.pending_steps.clear()
